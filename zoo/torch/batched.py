"""Batched forward-only evaluation: the loss at many perturbed parameter sets on one minibatch, in one call.

``ForwardLoss(model, loss_fn, inputs, targets)`` is a closure for the ZO optimizers (calling it returns the
loss) that can also evaluate K perturbed parameter sets at once:

- :meth:`ForwardLoss.direction_losses`: ``L(theta + a_k)`` for K full perturbations ``a_k`` (RGE), by
  ``torch.func.functional_call`` under ``torch.vmap`` over the stacked parameters;
- :meth:`ForwardLoss.coordinate_losses`: ``L(theta + delta e_i)`` for many coordinates ``i`` of one parameter
  tensor (CGE). Only that tensor is stacked; with **feature reuse** (DeepZero, Chen et al., ICLR 2024) the
  forward restarts from the cached input of the stage that holds it, since the stages before it do not change.

K is cut into chunks so that one call stays under ``memory_limit`` bytes (perturbed tensors + activations,
measured on the unperturbed forward). The code is device-agnostic: the same calls run on CPU and CUDA.

Train-mode Dropout and BatchNorm (:mod:`zoo.torch.trainmode`): every batched call runs with
``vmap(randomness="same")`` after the generators are reset, so each of the K sets sees the dropout masks of the
unperturbed forward, and BatchNorm uses the minibatch statistics without touching its running statistics. A
model that ``torch.func`` cannot batch falls back to the loop of single forwards, with a one-line warning.

A plain closure (``lambda: loss_fn(model(x), y)``): :func:`from_closure` finds the modules that own the
optimizer's parameters (one forward under a global forward pre-hook) and returns a ForwardLoss whose loss is the
closure itself, evaluated at stacked parameters by ``functional_call`` on a runner module that holds those
modules as children and whose ``forward()`` calls the closure (the same vmap calls, chunking and fallback).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from zoo.torch import fold, trainmode
from zoo.torch.stages import Stages


class ForwardLoss:
    """Closure ``() -> loss_fn(model(inputs), targets)`` with batched perturbed evaluation.

    Args:
        model: the network (its parameters are the ones the optimizer updates).
        loss_fn: ``loss_fn(outputs, targets) -> scalar`` (mean over the minibatch).
        inputs, targets: the minibatch.
        stages: None, ``"auto"`` (split an ``nn.Sequential`` into stages, one per module with parameters), or
            a list of modules whose composition is ``model``.
        feature_reuse: restart from the cached input of the perturbed stage (needs stages; default: on when
            stages are given). A model that cannot be split raises TypeError.
        batched: evaluate many perturbed sets per call with vmap (False: a loop of single forwards, the anchor
            the benchmarks compare against).
        fold: with feature reuse, a coordinate of an ``nn.Linear`` / ``nn.Conv2d`` that opens its stage is
            folded into the batch dimension (:mod:`zoo.torch.fold`: no forward of that layer per coordinate).
        memory_limit: bytes one batched call may use (chunks of K are sized from it); ``chunk_size`` overrides.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        inputs: torch.Tensor,
        targets: torch.Tensor,
        *,
        stages: str | Sequence[nn.Module] | None = None,
        feature_reuse: bool | None = None,
        batched: bool = True,
        fold: bool = True,
        memory_limit: int = 256 << 20,
        chunk_size: int | None = None,
    ) -> None:
        if feature_reuse and stages is None:
            stages = "auto"
        self.model, self.loss_fn, self.inputs, self.targets = model, loss_fn, inputs, targets
        self.stages = Stages.build(model, stages) if stages is not None else None
        if self.stages is not None and not isinstance(stages, str):
            self.stages.check(model, inputs)
        self.feature_reuse = bool(self.stages is not None and feature_reuse is not False)
        self.batched, self.fold = batched, fold
        if memory_limit <= 0:
            raise ValueError(f"memory_limit must be a positive number of bytes, got {memory_limit}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.memory_limit, self.chunk_size = int(memory_limit), chunk_size
        self.fn: Callable[[], torch.Tensor] | None = None  # from_closure: the user's closure is the loss
        self._names = {id(p): n for n, p in model.named_parameters()}
        self._cache: list[torch.Tensor] | None = None  # input of each stage at the unperturbed parameters
        self._act_bytes: list[int] | None = None  # activation bytes of the forward from stage l to the end

    # ---- plain evaluation -------------------------------------------------------------------------------
    def __call__(self) -> torch.Tensor:
        if self.fn is not None:
            return self.fn()
        return self.loss_fn(self.model(self.inputs), self.targets)

    def loss_at(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        """The loss with the named parameters replaced by ``params`` (``functional_call``): ``loss_fn(model(x),
        y)``, or, from a closure, the closure run inside the runner module that holds its modules."""
        if self.fn is not None:
            return functional_call(self.model, params, ())
        return self.loss_fn(functional_call(self.model, params, (self.inputs,)), self.targets)

    def base_loss(self) -> torch.Tensor:
        """The loss at the current parameters; caches each stage's input (feature reuse) and activation sizes.

        From a closure, the forward also checks that the modules it calls are the runner's (the closure may be
        a new object each step): other modules that cover the parameters rebuild the runner, modules that do
        not cover them switch to the loop of single forwards, with a warning."""
        if self.fn is not None:
            sizes: list[int] = []
            called: dict[int, nn.Module] = {}
            hooks = _discovery_hooks(self._owned, called, sizes)
            try:
                loss = self.fn()
            finally:
                for h in hooks:
                    h.remove()
            self._act_bytes = [sum(sizes)]
            if set(called) != self._module_ids:
                self._rebuild(list(called.values()))
            return loss
        if self.stages is None:
            sizes: list[int] = []
            hooks = [
                m.register_forward_hook(lambda _m, _i, o: sizes.append(_nbytes(o)))
                for m in self.model.modules()
                if not list(m.children())
            ]
            try:
                loss = self()
            finally:
                for h in hooks:
                    h.remove()
            self._act_bytes = [sum(sizes)]
            return loss
        h, cache, out_bytes = self.inputs, [], []
        for stage in self.stages.modules:
            cache.append(h)
            h = stage(h)
            out_bytes.append(_nbytes(h))
        self._cache = cache
        self._act_bytes = [sum(out_bytes[l:]) for l in range(len(out_bytes))]
        return self.loss_fn(h, self.targets)

    def clear_cache(self) -> None:
        self._cache = None

    # ---- where a parameter lives --------------------------------------------------------------------------
    def name_of(self, param: torch.Tensor) -> str:
        try:
            return self._names[id(param)]
        except KeyError:
            raise ValueError("a parameter handed to the optimizer is not a parameter of this model") from None

    def _start(self, param: torch.Tensor) -> tuple[nn.Module, str, int]:
        """The module to call, the parameter's name inside it, and the index of the first stage it runs."""
        if self.feature_reuse:
            l, name = self.stages.locate(param)
            return self.stages.modules[l], name, l
        return self.model, self.name_of(param), 0

    def _finish(self, module: nn.Module, l: int, params: dict, h: torch.Tensor) -> torch.Tensor:
        if self.fn is not None:
            return self.loss_at(params) if params else self.fn()
        out = functional_call(module, params, (h,)) if params else module(h)
        if self.feature_reuse:
            for stage in self.stages.modules[l + 1 :]:
                out = stage(out)
        return self.loss_fn(out, self.targets)

    def _chunk(self, per_set_bytes: int, l: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        acts = self._act_bytes[min(l, len(self._act_bytes) - 1)] if self._act_bytes else 0
        return max(1, self.memory_limit // max(1, per_set_bytes + 2 * acts))

    # ---- batched evaluations -------------------------------------------------------------------------------
    def coordinate_losses(self, param: torch.Tensor, index: torch.Tensor, delta: float) -> torch.Tensor:
        """``L(theta + delta e_i)`` for each flat index ``i`` of ``param``, as a tensor of len(index).

        Call :meth:`base_loss` first (it caches the stage inputs); the parameters must not change in between.
        """
        if self._act_bytes is None or (self.feature_reuse and self._cache is None):
            self.base_loss()
        module, name, l = self._start(param)
        h = self._cache[l] if self.feature_reuse else self.inputs
        w = param.detach()
        out = torch.empty(index.numel(), dtype=torch.float64, device=w.device)
        if self.batched:
            try:
                return self._coordinate_batched(param, index, delta, module, name, l, h, w, out)
            except (RuntimeError, TypeError, ValueError) as err:
                self._fall_back(err)
        flat = param.data.view(-1)
        for j, i in enumerate(index.tolist()):
            old = flat[i].clone()
            flat[i] += delta
            try:
                trainmode.before_forward()
                out[j] = self._finish(module, l, {}, h) if self.feature_reuse else self()
            finally:
                flat[i] = old
        return out

    def _fall_back(self, err: Exception) -> None:
        """torch.func could not batch this model: warn once, loop over single forwards from now on."""
        if not _is_batching_error(err):
            raise err
        self.batched = False
        what = "the closure" if self.fn is not None else "this model"
        warnings.warn(
            f"ForwardLoss: torch.func cannot batch {what} ({_first_line(err)}); looping", stacklevel=4
        )

    @staticmethod
    def _vmap(fn: Callable) -> Callable:
        def call(*args: torch.Tensor) -> torch.Tensor:
            trainmode.before_forward()
            return vmap(fn, randomness="same")(*args)

        return call

    def _coordinate_batched(self, param, index, delta, module, name, l, h, w, out) -> torch.Tensor:
        if self.fold and self.feature_reuse:
            opened = _opening_layer(module, name)
            if opened is not None and fold.supports(opened[0], opened[1], h):
                return self._folded(opened, l, h, index, delta, out)

        def one(wk: torch.Tensor) -> torch.Tensor:
            return self._finish(module, l, {name: wk}, h)

        step = self._chunk(w.numel() * w.element_size(), l)
        for start in range(0, index.numel(), step):
            idx = index[start : start + step]
            k = idx.numel()
            wk = w.unsqueeze(0).repeat(k, *([1] * w.dim()))
            wk.view(k, -1)[torch.arange(k, device=w.device), idx] += delta
            out[start : start + k] = self._vmap(one)(wk)
        return out

    def _folded(self, opened, l, h, index, delta, out) -> torch.Tensor:
        layer, pname, rest = opened
        y = layer(h)
        if l + 1 < len(self.stages.modules):
            following = self.stages.modules[l + 1]
            nxt = (
                (following[0], "weight", list(following)[1:])
                if isinstance(following, nn.Sequential)
                else (following, "weight", [])
            )
            if isinstance(nxt[0], (nn.Linear, nn.Conv2d)) and fold.channel_path_supported(rest, nxt[0], y):
                return self._channel_path(layer, pname, rest, nxt, l, h, y, index, delta, out)

        def tail(yk: torch.Tensor) -> torch.Tensor:
            for m in rest:
                yk = m(yk)
            for stage in self.stages.modules[l + 1 :]:
                yk = stage(yk)
            return self.loss_fn(yk, self.targets)

        step = self._chunk(y.numel() * y.element_size(), l)
        for start in range(0, index.numel(), step):
            idx = index[start : start + step]
            out[start : start + idx.numel()] = self._vmap(tail)(
                fold.fold_outputs(layer, pname, h, y, idx, delta)
            )
        return out

    def _channel_path(self, layer, pname, rest, nxt, l, h, y, index, delta, out) -> torch.Tensor:
        body = rest[:-1] if rest and isinstance(rest[-1], nn.Flatten) else rest
        z = y
        for m in body:
            z = m(z)
        next_layer, _, next_rest = nxt
        next_out = next_layer(self._cache[l + 1])

        def tail(vk: torch.Tensor) -> torch.Tensor:
            for m in next_rest:
                vk = m(vk)
            for stage in self.stages.modules[l + 2 :]:
                vk = stage(vk)
            return self.loss_fn(vk, self.targets)

        step = self._chunk(next_out.numel() * next_out.element_size(), l + 1)
        for start in range(0, index.numel(), step):
            idx = index[start : start + step]
            v = fold.channel_path_outputs(layer, pname, h, y, rest, z, next_layer, next_out, idx, delta)
            out[start : start + idx.numel()] = self._vmap(tail)(v)
        return out

    def direction_losses(
        self, params: Sequence[torch.Tensor], deltas: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """``L(theta + a_k)`` for K perturbations: ``deltas[j]`` has shape ``(K, *params[j].shape)``."""
        if self._act_bytes is None:
            self.base_loss()
        names = [self.name_of(p) for p in params]
        K = deltas[0].shape[0]
        out = torch.empty(K, dtype=torch.float64, device=deltas[0].device)
        if self.batched:
            try:
                return self._directions_batched(params, deltas, names, out)
            except (RuntimeError, TypeError, ValueError) as err:
                self._fall_back(err)
        for k in range(K):
            saved = [p.data.clone() for p in params]
            try:
                for p, d in zip(params, deltas):
                    p.data.add_(d[k])
                trainmode.before_forward()
                out[k] = self()
            finally:
                for p, s in zip(params, saved):
                    p.data.copy_(s)
        return out

    def _directions_batched(self, params, deltas, names, out) -> torch.Tensor:
        K = deltas[0].shape[0]

        def one(*ws: torch.Tensor) -> torch.Tensor:
            return self.loss_at(dict(zip(names, ws)))

        per_set = sum(p.numel() * p.element_size() for p in params)
        step = self._chunk(per_set, 0)
        for start in range(0, K, step):
            ws = [p.detach().unsqueeze(0) + d[start : start + step] for p, d in zip(params, deltas)]
            if ws[0].shape[0] == 1:  # one set: a plain functional call, no vmap overhead
                trainmode.before_forward()
                out[start] = one(*(w[0] for w in ws))
            else:
                out[start : start + ws[0].shape[0]] = self._vmap(one)(*ws)
        return out

    # ---- a plain closure ----------------------------------------------------------------------------------
    @classmethod
    def from_closure(
        cls,
        closure: Callable[[], torch.Tensor],
        params: Sequence[torch.Tensor],
        *,
        memory_limit: int = 256 << 20,
    ) -> Discovery:
        """A ForwardLoss whose loss is ``closure()``, batched over the modules that own ``params``.

        Runs the closure once under a global forward pre-hook that records the modules called whose own
        parameters include one of ``params``, then, when those modules hold every one of ``params``, one
        batched call of two unperturbed sets (the trial): a closure that vmap cannot run (``.item()``,
        data-dependent control flow, numpy) fails there. Call it inside an
        :class:`~zoo.torch.trainmode.EstimateScope` so that neither forward moves BatchNorm's running
        statistics. Returns a :class:`Discovery`: the batched ForwardLoss (or None and why not) and the
        losses it evaluated (``forwards``: 1, and 3 when the trial ran).
        """
        owned = {id(p) for p in params}
        called: dict[int, nn.Module] = {}
        sizes: list[int] = []
        hooks = _discovery_hooks(owned, called, sizes)
        try:
            trainmode.before_forward()
            loss = closure()
        finally:
            for h in hooks:
                h.remove()
        if not isinstance(loss, torch.Tensor):
            try:
                scalar = torch.as_tensor(loss).numel() == 1
            except (TypeError, ValueError, RuntimeError):
                scalar = False
            if not scalar:
                return Discovery(None, None, 1)
            # a Python number: vmap needs a tensor, so the loop (found once, not every step)
            return Discovery(None, f"it returns a {type(loss).__name__}, not a tensor", 1)
        if loss.numel() != 1:
            return Discovery(None, None, 1)
        self = cls(_Runner([]), None, None, None, memory_limit=memory_limit)  # type: ignore[arg-type]
        self.fn, self._owned, self._act_bytes = closure, owned, [sum(sizes)]
        why = self._rebuild(list(called.values()), warn=False)
        if why is not None:
            return Discovery(None, why, 1)
        names = [self.name_of(p) for p in params]
        deltas = [torch.zeros((2, *p.shape), dtype=p.dtype, device=p.device) for p in params]
        out = torch.empty(2, dtype=torch.float64, device=params[0].device)
        try:
            self._directions_batched(params, deltas, names, out)
        except Exception as err:
            if not _is_batching_error(err):
                raise  # the closure's own error (it raises in the step too), not one of batching
            return Discovery(None, f"torch.func cannot batch it: {_first_line(err)}", 1 + len(out))
        return Discovery(self, None, 1 + len(out))

    def _rebuild(self, modules: list[nn.Module], warn: bool = True) -> str | None:
        """The runner over ``modules`` when their own parameters cover every parameter the optimizer perturbs;
        otherwise the reason (and, with ``warn``, the loop of single forwards from now on, with a warning)."""
        reached = {id(p) for m in modules for p in m.parameters(recurse=False)}
        missing = len(self._owned - reached)
        if missing:
            why = (
                f"{missing} of the optimizer's {len(self._owned)} parameter tensors are not parameters of a module "
                "the closure calls"
            )
            if warn:
                self.batched = False
                warnings.warn(f"ForwardLoss: {why}; looping over single forwards", stacklevel=4)
            return why
        inner = {id(d) for m in modules for d in m.modules() if d is not m}
        # a module inside another one found (a root that owns a parameter itself, as TinyTransformer's
        # position table): only the outer one is a child, else functional_call would swap it twice
        self.model = _Runner([m for m in modules if id(m) not in inner], self)
        self._names = {id(p): n for n, p in self.model.named_parameters()}
        self._module_ids = {id(m) for m in modules}
        return None


@dataclasses.dataclass(frozen=True)
class Discovery:
    """What :meth:`ForwardLoss.from_closure` ran and found.

    ``loss``: the batched closure, or None: it keeps the loop of single forwards. ``why``: the reason it is not
    batched, for the user's warning (None with ``loss`` None: the closure's loss is not a scalar, which the
    optimizer's plain path reports). ``forwards``: the losses it evaluated, counted as queries: the
    discovery forward, and the trial's two sets when it ran (whether it then batched or failed).
    """

    loss: ForwardLoss | None
    why: str | None
    forwards: int


class _Runner(nn.Module):
    """The modules a closure calls, as children, so that ``functional_call(runner, params, ())`` swaps their
    parameters; ``forward()`` calls the closure."""

    def __init__(self, modules: Sequence[nn.Module], owner: ForwardLoss | None = None) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)
        self._owner = [owner]  # a list: not registered as an attribute torch would walk

    def forward(self) -> torch.Tensor:
        return self._owner[0].fn()


def _discovery_hooks(owned: set[int], called: dict[int, nn.Module], sizes: list[int]) -> list:
    """Global hooks for one forward: the modules called whose own parameters include one in ``owned`` (into
    ``called``), and the output bytes of every module without children (into ``sizes``, for the chunks)."""

    def pre(module: nn.Module, _args: tuple) -> None:
        if id(module) not in called and any(id(p) in owned for p in module.parameters(recurse=False)):
            called[id(module)] = module

    def post(module: nn.Module, _args: tuple, out: object) -> None:
        if next(module.children(), None) is None:
            sizes.append(_nbytes(out))

    return [
        nn.modules.module.register_module_forward_pre_hook(pre),
        nn.modules.module.register_module_forward_hook(post),
    ]


def _is_batching_error(err: BaseException) -> bool:
    """An error of torch.func's batching: vmap / functorch named, or a batched tensor's missing storage
    (numpy, ``data_ptr`` inside the closure)."""
    text = str(err)
    return "vmap" in text or "functorch" in text or "batch" in text.lower() or "have storage" in text


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:160]


def _opening_layer(module: nn.Module, name: str) -> tuple[nn.Module, str, list[nn.Module]] | None:
    """(layer, parameter name, the stage's modules after it) when the parameter belongs to the stage's first layer."""
    if "." not in name:
        return module, name, []
    if isinstance(module, nn.Sequential) and name.count(".") == 1 and name.startswith("0."):
        return module[0], name[2:], list(module)[1:]
    return None


def _nbytes(x: object) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (tuple, list)):
        return sum(_nbytes(v) for v in x)
    return 0
