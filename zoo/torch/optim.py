"""Forward-only optimizers for ``nn.Module``: ``torch.optim.Optimizer`` subclasses fed by a ZO gradient estimate.

``opt.step(closure)``: ``closure()`` returns the loss; it runs under ``torch.no_grad()``. Estimators:

- ``"spsa"`` (MeZO, Malladi et al., NeurIPS 2023): for each of ``n_directions`` seeds ``s``, perturb in place
  ``theta + mu z(s)`` -> ``L+``, ``theta - mu z(s)`` -> ``L-``, restore exactly;
  ``g = (1/q) sum_s (L+ - L-) / (2 mu) z(s)``. ``z(s)`` is regenerated from the seed in the update and never
  stored, so with SGD the peak memory is that of inference. Cost ``2q`` forwards.
- ``"rge"`` (forward RGE): ``g = (1/q) sum_k (L(theta + mu z_k) - L(theta)) / mu z_k``, cost ``q + 1``; with a
  :class:`~zoo.torch.ForwardLoss` closure the ``q`` perturbed forwards run as one batched call.
- ``"cge"`` (coordinatewise, DeepZero, Chen et al., ICLR 2024): ``g_i = (L(theta + mu e_i) - L(theta)) / mu``
  on a random subset of each tensor's coordinates (``sparsity``: the share left out, per tensor; the mask is
  re-drawn every ``mask_every`` steps), central form with ``difference="central"``. Weights stay dense, only
  ``g`` is sparse. With a :class:`~zoo.torch.ForwardLoss` closure the coordinates of one tensor are evaluated
  in batched calls (and from the cached stage input, with feature reuse).

One definition per formula: the difference quotients come from the estimate core
(:func:`zoo.estimators.formulas.two_point.coefficients`, :func:`~zoo.estimators.formulas.coordinate.estimate`), the
sum over directions is the core's in-place form (:func:`~zoo.estimators.formulas.two_point.accumulate`) over
directions regenerated from their seeds, and the update rule (``sgd``, ``momentum``, ``adam``, ``sign``) is the
transform of :mod:`zoo.updates`, applied in place on the tensors by :func:`zoo.updates.apply_in_place` (plain SGD,
a linear transform, adds each regenerated direction straight into the parameters). ``lr`` and the rule's options
are per parameter group, so torch's lr schedulers work.

Randomness: every draw derives from ``(seed, step, direction)``, so ``state_dict`` (seed, step counters and the
update rule's tensors) resumes training bit-identically. A non-finite loss skips the step (recorded in
``skipped_steps``; the parameters are left exactly as they were); a non-scalar loss raises ValueError after
restoring the parameters; an exception in the closure propagates after restoring them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from zoo.estimators.formulas import coordinate, two_point
from zoo.torch.batched import ForwardLoss
from zoo.torch.perturb import add_direction, derive_seed, direction, perturb, restore
from zoo.updates import Transform, apply_in_place, make_rule

ESTIMATORS = ("spsa", "rge", "cge")
_RULE_KEYS = ("beta", "nesterov", "b1", "b2", "eps")
_MASK_KEY = 1 << 20  # separates the mask streams from the direction streams in derive_seed


class ZOOptimizer(torch.optim.Optimizer):
    """A zeroth-order optimizer: estimator (spsa, rge, cge) + update rule (sgd, momentum, adam, sign)."""

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        *,
        update: str = "sgd",
        estimator: str = "spsa",
        mu: float | None = None,
        n_directions: int = 1,
        difference: str = "forward",
        sparsity: float | Sequence[float] = 0.0,
        mask_every: int = 100,
        seed: int = 0,
        **rule_options: Any,
    ) -> None:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        mu = (5e-3 if estimator == "cge" else 1e-3) if mu is None else float(mu)
        if not (math.isfinite(mu) and mu > 0):
            raise ValueError(f"mu must be a positive finite number, got {mu}")
        if int(n_directions) != n_directions or n_directions < 1:
            raise ValueError(f"n_directions must be an int >= 1, got {n_directions}")
        if difference not in ("forward", "central"):
            raise ValueError(f"difference must be 'forward' or 'central', got {difference!r}")
        if int(mask_every) != mask_every or mask_every < 1:
            raise ValueError(f"mask_every must be an int >= 1, got {mask_every}")
        unknown = set(rule_options) - set(_RULE_KEYS)
        if unknown:
            raise TypeError(
                f"unknown option(s) {sorted(unknown)}; update-rule options are {list(_RULE_KEYS)}"
            )
        self.update_name, self.estimator, self.mu = update, estimator, mu
        self.n_directions, self.difference, self.mask_every = int(n_directions), difference, int(mask_every)
        super().__init__(params, dict(lr=lr, **rule_options))
        for group in self.param_groups:
            self._rule(group)  # validates lr and the rule's options now, not at the first step
        self.zo: dict[str, Any] = {
            "seed": int(seed),
            "step": 0,
            "updates": 0,
            "queries": 0,
            "skipped_steps": [],
        }
        self.set_sparsity(sparsity)
        self._masks: tuple[int, list[torch.Tensor | None]] | None = None

    # ---- construction checks ----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        params = param_group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        param_group = {**param_group, "params": params}  # an iterator is consumed here: keep the list
        existing = [p for g in self.param_groups for p in g["params"]]
        devices = {p.device for p in existing + params}
        if len(devices) > 1:
            raise ValueError(
                f"all parameters must be on one device, got {sorted(str(d) for d in devices)}: the seeded "
                "directions are drawn on the parameters' device"
            )
        for p in params:
            if not p.is_floating_point():
                raise TypeError(f"parameters must be floating point, got {p.dtype}")
            if not p.is_contiguous():
                raise ValueError(
                    "parameters must be contiguous (they are perturbed in place through a flat view)"
                )
        super().add_param_group(param_group)

    def set_sparsity(self, sparsity: float | Sequence[float]) -> None:
        """Gradient sparsity for cge: one share in [0, 1) for every tensor, or one per tensor (group order)."""
        n = len(self._params())
        ratios = [sparsity] * n if isinstance(sparsity, (int, float)) else list(sparsity)
        if len(ratios) != n:
            raise ValueError(f"sparsity needs one value per parameter tensor ({n}), got {len(ratios)}")
        for r in ratios:
            if not (isinstance(r, (int, float)) and 0.0 <= float(r) < 1.0):
                raise ValueError(f"sparsity must be in [0, 1) (the share of coordinates left out), got {r!r}")
        self.zo["sparsity"] = [float(r) for r in ratios]
        self._masks = None

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _rule(self, group: dict[str, Any]) -> Transform:
        options = {k: group[k] for k in _RULE_KEYS if k in group}
        return make_rule(self.update_name, lr=group["lr"], **options)

    # ---- state -------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        out = super().state_dict()
        out["zo"] = {k: (list(v) if isinstance(v, list) else v) for k, v in self.zo.items()}
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        zo = state_dict.pop("zo", None)
        if zo is None:
            raise ValueError("this state_dict has no 'zo' entry: it was not saved by a zoo.torch optimizer")
        super().load_state_dict(state_dict)
        self.zo = {k: (list(v) if isinstance(v, list) else v) for k, v in zo.items()}
        self._masks = None

    @property
    def queries(self) -> int:
        """Forward passes (minibatch losses) used so far."""
        return int(self.zo["queries"])

    @property
    def skipped_steps(self) -> list[int]:
        return list(self.zo["skipped_steps"])

    # ---- the step ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor:  # type: ignore[override]
        if closure is None:
            raise ValueError("a zeroth-order optimizer needs step(closure), closure() returning the loss")
        t = self.zo["step"]
        self.zo["step"] = t + 1  # a skipped or failed step still consumes its seeds: resuming stays aligned
        params = self._params()
        if self.estimator == "cge":
            loss, grads = self._cge(closure, params, t)
            directions = None
        else:
            loss, directions = self._projections(closure, params, t)
            grads = None
        if not math.isfinite(loss):
            self.zo["skipped_steps"].append(t)
            return torch.tensor(loss)
        self._update(params, t, grads, directions)
        self.zo["updates"] += 1
        return torch.tensor(loss)

    def _loss(self, closure: Callable[[], torch.Tensor]) -> float:
        out = closure()
        value = out if isinstance(out, torch.Tensor) else torch.as_tensor(out)
        if value.numel() != 1:
            raise ValueError(
                f"the closure must return a scalar loss, got a tensor of shape {tuple(value.shape)}"
            )
        self.zo["queries"] += 1
        return float(value)

    def _projections(self, closure, params, t) -> tuple[float, list[tuple[int, float]]]:
        """spsa / rge: per direction seed, its coefficient ``c_j`` in ``g = sum_j c_j z(seed_j)`` (the two-point
        formula of the estimate core on the measured losses)."""
        seeds = [derive_seed(self.zo["seed"], t, k) for k in range(self.n_directions)]
        mu = self.mu
        if self.estimator == "rge":
            if isinstance(closure, ForwardLoss) and closure.batched:
                f0 = self._checked(closure.base_loss())
                deltas = [torch.stack(zs).mul_(mu) for zs in zip(*(direction(params, s) for s in seeds))]
                values = closure.direction_losses(params, deltas).tolist()
                self.zo["queries"] += len(values)
            else:
                f0 = self._loss(closure)
                values = [self._perturbed_loss(closure, params, s, mu) for s in seeds]
            row, difference = [f0, *values], "forward"
            loss = f0 if all(map(math.isfinite, values)) else math.nan
        else:
            plus, minus = [], []
            for s in seeds:
                plus.append(self._perturbed_loss(closure, params, s, mu))
                minus.append(self._perturbed_loss(closure, params, s, -mu))
            row, difference = plus + minus, "central"
            loss = sum(0.5 * (lp + lm) for lp, lm in zip(plus, minus)) / len(seeds)
        # a non-finite loss skips the whole step (the loss reported is NaN), so every direction counts here
        coef, _ = two_point.coefficients(np.array([row], dtype=np.float64), mu, difference)
        return loss, list(zip(seeds, coef[0].tolist()))

    def _checked(self, loss: torch.Tensor) -> float:
        if loss.numel() != 1:
            raise ValueError(
                f"the closure must return a scalar loss, got a tensor of shape {tuple(loss.shape)}"
            )
        self.zo["queries"] += 1
        return float(loss)

    def _perturbed_loss(self, closure, params, seed: int, scale: float) -> float:
        patches = perturb(params, seed, scale)
        try:
            return self._loss(closure)
        finally:
            restore(params, seed, scale, patches)

    # ---- cge ----------------------------------------------------------------------------------------------
    def masks(self, t: int | None = None) -> list[torch.Tensor | None]:
        """Coordinates (flat indices) of each tensor that cge estimates at step ``t`` (None: all of them)."""
        t = self.zo["step"] if t is None else t
        draw = t // self.mask_every
        if self._masks is None or self._masks[0] != draw:
            masks: list[torch.Tensor | None] = []
            for i, (p, r) in enumerate(zip(self._params(), self.zo["sparsity"])):
                if r == 0.0:
                    masks.append(None)
                    continue
                n = p.numel()
                keep = max(1, round((1.0 - r) * n))
                gen = torch.Generator().manual_seed(derive_seed(self.zo["seed"], _MASK_KEY, draw, i))
                masks.append(torch.randperm(n, generator=gen)[:keep].sort().values.to(p.device))
            self._masks = (draw, masks)
        return self._masks[1]

    def _cge(self, closure, params, t) -> tuple[float, list[torch.Tensor]]:
        batched = isinstance(closure, ForwardLoss)
        f0 = self._checked(closure.base_loss()) if batched else self._loss(closure)
        mu, central, grads = self.mu, self.difference == "central", []
        finite = math.isfinite(f0)
        try:
            for p, idx in zip(params, self.masks(t)):
                if idx is None:
                    idx = torch.arange(p.numel(), device=p.device)
                plus = self._coordinate_losses(closure, p, idx, mu, batched)
                if central:
                    values = torch.cat([plus, self._coordinate_losses(closure, p, idx, -mu, batched)])
                else:
                    values = torch.cat([plus.new_tensor([f0]), plus])
                est, ok = coordinate.estimate(values[None], 2 * mu if central else mu, self.difference)
                finite = finite and bool(ok[0]) and bool(torch.isfinite(values).all())
                est = est[0]
                g = torch.zeros_like(p)
                g.view(-1)[idx] = est.to(p.dtype)
                grads.append(g)
        finally:
            if batched:
                closure.clear_cache()
        return (f0 if finite else math.nan), grads

    def _coordinate_losses(self, closure, p, idx, delta: float, batched: bool) -> torch.Tensor:
        if batched:
            out = closure.coordinate_losses(p, idx, delta)
            self.zo["queries"] += idx.numel()
            return out
        out = torch.empty(idx.numel(), dtype=torch.float64)
        flat = p.data.view(-1)
        for j, i in enumerate(idx.tolist()):
            old = flat[i].clone()  # a saved scalar: the restore is exact
            flat[i] += delta
            try:
                out[j] = self._loss(closure)
            finally:
                flat[i] = old
        return out.to(p.device)

    # ---- update --------------------------------------------------------------------------------------------
    def _update(self, params, t, grads, directions) -> None:
        first = 0
        for group in self.param_groups:
            rule = self._rule(group)
            n = len(group["params"])
            keys = list(range(first, first + n))
            states = []
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state.update(rule.init(p.data))
                states.append(state)
            linear = [rule.linear(state) for state in states] if grads is None else [None]
            if all(lin is not None for lin in linear):
                # MeZO-SGD: the step a*g adds each regenerated direction with alpha = a c_j, nothing stored
                for state, (_, new) in zip(states, linear):
                    state.update(new)
                factors = [lin[0] for lin in linear]
                if len(set(factors)) == 1:
                    _add_directions(group["params"], keys, directions, factors[0])
                else:
                    for p, key, a in zip(group["params"], keys, factors):
                        _add_directions([p], [key], directions, a)
            else:
                for j, (p, state) in enumerate(zip(group["params"], states)):
                    if grads is not None:
                        g = grads[first + j]
                    else:  # g = sum_j c_j z(seed_j), regenerated into one buffer
                        g = torch.zeros_like(p)
                        _add_directions([g], [first + j], directions, 1.0)
                    apply_in_place(rule, p.data, g, state)
            first += n


def _add_directions(tensors, keys, directions, scale: float) -> None:
    """``tensors += scale * sum_j c_j z(seed_j)``: the core's sum over directions in its in-place form, each
    ``z`` regenerated from its seed in the stream of ``keys`` (never stored)."""
    seeds = [s for s, _ in directions]
    two_point.accumulate(
        [c for _, c in directions], lambda j, c: add_direction(tensors, seeds[j], scale * c, keys)
    )


class ZOSGD(ZOOptimizer):
    """ZO estimate + SGD (``momentum > 0``: heavy ball, or Nesterov)."""

    def __init__(self, params, lr: float = 1e-3, *, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        if momentum:
            kwargs.update(update="momentum", beta=momentum, nesterov=nesterov)
        else:
            kwargs.setdefault("update", "sgd")
        super().__init__(params, lr, **kwargs)


class ZOAdam(ZOOptimizer):
    """ZO estimate + Adam (Kingma & Ba, 2015): ZO-AdaMM with spsa/rge, MeZO-Adam with spsa."""

    def __init__(self, params, lr: float = 1e-3, *, betas=(0.9, 0.999), eps: float = 1e-8, **kwargs):
        super().__init__(params, lr, update="adam", b1=betas[0], b2=betas[1], eps=eps, **kwargs)
