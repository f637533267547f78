"""Update rules as pure gradient transformations, in the style of optax (Babuschkin et al., "The DeepMind JAX
Ecosystem", 2020).

A :class:`Transform` has ``init(params) -> state`` and ``update(g, state, params) -> (step, state)``; it never
writes into ``state`` (a failed step leaves the optimizer as it was). The step is *added* to the parameters
(``x_new = x + step``), so the learning rate is a transform of its own, ``scale_by_learning_rate(lr)``
(``step = -lr_t g``), and :func:`chain` composes: ``chain(clip_by_norm(1.0), scale_by_adam(),
scale_by_learning_rate(Cosine(0.1, total=300)))``. Schedules are transforms too (a schedule in a chain is the
learning rate). A state is a dict of arrays and ints (nested for a chain), so an optimizer's ``state_dict``
holds it as it is.

One definition serves every array type: the formulas use operators and the few functions numpy and torch
spell alike (:func:`zoo.core.arrays.namespace`). The in-place form that ``zoo.torch`` needs (state tensors and
parameters updated where they live) is derived from the same ``update``: :func:`apply_in_place`. A transform
whose step is a multiple of ``g`` (plain SGD) says so through :meth:`Transform.linear`, so MeZO-style SGD adds
each regenerated direction straight into the parameters without materializing ``g``.

The named rules of the ``update=`` option (``"sgd"``, ``"momentum"``, ``"adam"``, ``"sign"``) are
:class:`UpdateRule` dataclasses (hyper-parameters, their validation, ``lr``) that stand for a chain of these
transforms; :func:`make_rule` builds one by name.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

LearningRate = float | Callable[[int], float]
State = dict[str, Any]


class Transform(abc.ABC):
    """A gradient transformation: ``init(params) -> state``, ``update(g, state, params) -> (step, state)``."""

    # each element of the step depends on that element of g, the state and the parameters alone (so the
    # update can run chunk by chunk, :func:`apply_in_chunks`); a transform over a whole vector says False
    elementwise: bool = True

    def init(self, params: Any) -> State:
        return {}

    @abc.abstractmethod
    def update(self, g: Any, state: State, params: Any = None) -> tuple[Any, State]:
        """``(step, new_state)`` from the estimate ``g``; never writes into ``state``."""

    def linear(self, state: State) -> tuple[float, State] | None:
        """``(a, new_state)`` when this update's step is ``a * g`` whatever ``g`` is, else None."""
        return None

    def exact_sign(self) -> float | None:
        """``+1.0`` / ``-1.0`` when this update's step is exactly ``+g`` / ``-g`` (a negation is exact in floating
        point) and its state never changes, else None: lets :meth:`Chain.update_signed` leave the sign out."""
        return None

    def update_signed(self, g: Any, state: State, params: Any = None) -> tuple[Any, float, State]:
        """``(u, sign, new_state)`` with this update's step exactly ``sign * u`` (``sign`` +-1): the step itself
        and ``1.0`` here; a chain ending in a sign (the rate ``lr = 1`` of the step-size control's inner rule)
        returns the step before it, so that a caller that rescales the step (:class:`zoo.updates.SuccessStep`:
        ``(u / ||u||) * r``) folds the sign into its own factor instead of negating ``d`` numbers first."""
        step, new = self.update(g, state, params)
        return step, 1.0, new

    def apply(self, x: Any, g: Any, state: State) -> tuple[Any, State]:
        """``(x + step, new_state)``: one functional step of the parameters ``x``."""
        step, state = self.update(g, state, x)
        return x + step, state


@dataclasses.dataclass(frozen=True)
class Chain(Transform):
    """The transforms applied one after the other; the state is ``{"0": state_0, "1": state_1, ...}``."""

    transforms: tuple[Transform, ...]

    def __post_init__(self) -> None:
        keyed = tuple((str(i), t) for i, t in enumerate(self.transforms))
        object.__setattr__(self, "_keyed", keyed)
        sign = keyed[-1][1].exact_sign() if keyed else None
        object.__setattr__(self, "_signed", None if sign is None else (keyed[:-1], keyed[-1][0], sign))

    @property
    def elementwise(self) -> bool:  # type: ignore[override]
        return all(t.elementwise for t in self.transforms)

    def init(self, params):
        return {k: t.init(params) for k, t in self._keyed}

    def update(self, g, state, params=None):
        new = {}
        for k, t in self._keyed:
            g, new[k] = t.update(g, state[k], params)
        return g, new

    def update_signed(self, g, state, params=None):
        signed = self._signed
        if signed is None:
            g, new = self.update(g, state, params)
            return g, 1.0, new
        head, last, sign = signed
        new = {}
        for k, t in head:
            g, new[k] = t.update(g, state[k], params)
        new[last] = state[last]  # (what the last transform returns: its state never changes)
        return g, sign, new

    def linear(self, state):
        a, new = 1.0, {}
        for k, t in self._keyed:
            lin = t.linear(state[k])
            if lin is None:
                return None
            a, new[k] = a * lin[0], lin[1]
        return a, new


def chain(*transforms: Transform) -> Chain:
    """Compose transforms: ``chain(a, b)(g) = b(a(g))``."""
    for t in transforms:
        if not isinstance(t, Transform):
            raise TypeError(f"chain() takes zoo.updates transforms, got {type(t).__name__}")
    return Chain(tuple(transforms))


@dataclasses.dataclass(frozen=True)
class UpdateRule(Transform):
    """A named rule: hyper-parameters + ``lr`` (a number or a schedule ``t -> lr``) standing for a chain.

    Subclasses define :meth:`transforms`; ``init``/``update``/``linear`` run that chain."""

    lr: LearningRate = 1e-3
    # the chain, built on first use (a cache, not a field: no annotation); read as an attribute, not through
    # ``__dict__`` (the lookup runs at every step)
    _chain = None

    def __post_init__(self) -> None:
        if not callable(self.lr):
            lr = float(self.lr)
            if not np.isfinite(lr) or lr < 0:  # 0 is allowed: warm-up from 0, schedules ending at 0, frozen
                raise ValueError(f"lr must be a finite number >= 0 or a schedule, got {self.lr!r}")

    def transforms(self) -> tuple[Transform, ...]:
        raise TypeError(
            f"{type(self).__name__} is not an update rule: subclass UpdateRule and define transforms"
        )

    @property
    def chain(self) -> Chain:
        c = self._chain
        if c is None:
            c = chain(*self.transforms())
            object.__setattr__(self, "_chain", c)  # frozen dataclass: a cache, not a field
        return c

    def init(self, params):
        return self.chain.init(params)

    @property
    def elementwise(self) -> bool:  # type: ignore[override]
        return self.chain.elementwise

    def update(self, g, state, params=None):
        c = self._chain  # (the cached chain without the property call: this runs every step)
        return (self.chain if c is None else c).update(g, state, params)

    def update_signed(self, g, state, params=None):
        c = self._chain
        return (self.chain if c is None else c).update_signed(g, state, params)

    def linear(self, state):
        return self.chain.linear(state)


def apply_in_place(transform: Transform, param: Any, g: Any, state: State) -> None:
    """The in-place form of ``transform``: ``param += step`` and ``state`` updated where its arrays live
    (torch tensors on their device, numpy arrays), computed by the one functional ``update``."""
    step, new = transform.update(g, state, param)
    _assign(state, new)
    if hasattr(param, "add_"):
        param.add_(step)
    else:
        np.add(param, step, out=param)


def apply_in_chunks(
    transform: Transform,
    param: Any,
    g_chunks: Any,
    state: State,
    compute_dtype: Any = None,
) -> None:
    """:func:`apply_in_place` on a flat torch parameter chunk by chunk, for an elementwise transform (every
    rule of this package but clipping by norm): ``g_chunks`` yields ``(start, g_chunk)``; each chunk of the
    parameter and of the state arrays shaped like it is updated from its chunk of ``g`` alone, so neither the
    full ``g`` nor full-size temporaries exist (ZO-Adam's memory is then the parameters, ``m`` and ``v``).
    Counters in the state (``count``) advance once. ``compute_dtype`` (float32 for fp16 / bf16 parameters,
    whose state is kept in float32 as torch's fused optimizers do): the chunk is updated in that dtype and
    written back rounded."""
    flat = param.view(-1)
    n = flat.numel()
    last: State | None = None
    for start, g in g_chunks:
        end = start + g.numel()
        view = _slice(state, start, end, n)
        chunk = flat[start:end]
        work = chunk if compute_dtype is None or chunk.dtype == compute_dtype else chunk.to(compute_dtype)
        apply_in_place(transform, work, g, view)
        if work is not chunk:
            chunk.copy_(work)
        last = view
    if last is not None:
        _scalars(state, last)


def _slice(state: State, start: int, end: int, n: int) -> State:
    out: State = {}
    for k, v in state.items():
        if isinstance(v, dict):
            out[k] = _slice(v, start, end, n)
        elif hasattr(v, "view") and v.numel() == n and n > 0:
            out[k] = v.view(-1)[start:end]
        else:
            out[k] = v
    return out


def _scalars(state: State, view: State) -> None:
    for k, v in view.items():
        if isinstance(v, dict):
            _scalars(state[k], v)
        elif not hasattr(v, "view"):
            state[k] = v


def _assign(state: State, new: State) -> None:
    for k, v in new.items():
        old = state.get(k)
        if isinstance(v, dict) and isinstance(old, dict):
            _assign(old, v)
        elif hasattr(old, "copy_"):
            old.copy_(v)
        elif isinstance(old, np.ndarray) and old.shape == np.shape(v):
            old[...] = v
        else:
            state[k] = v


def select(mask: np.ndarray, new: State, old: State) -> State:
    """Row-wise choice between two states of a stacked (``(C, d)``) optimizer: arrays take ``new`` where
    ``mask`` (C,) is True; shared scalars (the step count of clients in lock-step) take ``new``."""
    out: State = {}
    for k, v in new.items():
        if isinstance(v, dict):
            out[k] = select(mask, v, old[k])
        elif isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == mask.shape[0]:
            out[k] = np.where(mask.reshape((-1,) + (1,) * (v.ndim - 1)), v, old[k])
        else:
            out[k] = v
    return out


_RULES: dict[str, type[UpdateRule]] = {}


def register_rule(name: str) -> Callable[[type[UpdateRule]], type[UpdateRule]]:
    def deco(cls: type[UpdateRule]) -> type[UpdateRule]:
        _RULES[name] = cls
        return cls

    return deco


def rules() -> list[str]:
    return sorted(_RULES)


def make_rule(update: str | Transform, lr: LearningRate | None = None, **kwargs: Any) -> Transform:
    """``make_rule("adam", 0.1)``, or pass a :class:`Transform` (a named rule, a chain) through unchanged."""
    if isinstance(update, Transform):
        return update
    if update not in _RULES:
        raise ValueError(
            f"unknown update rule {update!r}; choose one of {rules()} or pass a zoo.updates transform"
        )
    if lr is not None:
        kwargs["lr"] = lr
    return _RULES[update](**kwargs)
