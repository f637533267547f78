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

A plain closure (``lambda: loss_fn(model(x), y)``) takes the same batched paths: :meth:`ZOOptimizer._batchable`
finds the modules it calls (:meth:`ForwardLoss.from_closure`) once per parameter set, or warns once and keeps the
loop of single forwards when vmap cannot run it (``batch_closures=False``: always the loop).

Randomness: every draw derives from ``(seed, step, direction)``, so ``state_dict`` (seed, step counters and the
update rule's tensors) resumes training bit-identically. A non-finite loss skips the step (recorded in
``skipped_steps``; the parameters, BatchNorm's running statistics and the generators are left exactly as they
were); a non-scalar loss raises ValueError after restoring them; an exception in the closure (or a
KeyboardInterrupt) propagates after restoring them.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import torch

from zoo.estimators.formulas import coordinate, two_point
from zoo.torch import trainmode
from zoo.torch.batched import ForwardLoss
from zoo.torch.groups import (
    RULE_KEYS,
    batched_directions,
    check_group,
    closure_help,
    default_directions,
    default_lr,
    mute_backward,
    rule_options,
    torch_option_names,
)
from zoo.torch.perturb import (
    CHUNK,
    add_direction,
    derive_seed,
    direction,
    direction_chunks,
    flip,
    perturb,
    restore,
    restore_and_add,
)
from zoo.updates import (
    Plateau,
    Transform,
    UpdateRule,
    add_decayed_weights,
    apply_in_chunks,
    apply_in_place,
    chain,
    make_rule,
    plateau_update,
)
from zoo.updates.plateau import growth as plateau_growth

ESTIMATORS = ("spsa", "rge", "cge")
_MASK_KEY = 1 << 20  # separates the mask streams from the direction streams in derive_seed
_STACK_KEY = 1 << 21  # the stream of the (q, d) direction blocks of batched spsa (_stacked_spsa)
# mu is at least this many units of the parameters' dtype resolution (finfo.eps): below it a perturbation of a
# weight of size ~1 rounds away in fp16 / bf16 and the estimate is rounding noise (or exactly 0)
MU_RESOLUTION = 8
# plateau=True for spsa / rge: the plateau rule plus its rise test (a window mean 4 standard errors above the
# best halves the rate at once; zoo.updates.plateau). Suite and held-out tasks, RESULTS "Issue 11", session 5:
# the deeper MLPs' loss climbs mid-run at the full rate (Friedman seed 0: train loss 0.25 -> 0.46, test R^2
# 0.78 -> 0.49) and the rule stops the climb; on diabetes it never fires before the plain rule does.
DEFAULT_RISE = 4.0


class ZOOptimizer(torch.optim.Optimizer):
    """A zeroth-order optimizer: estimator (spsa, rge, cge) + update rule (sgd, momentum, adam, sign)."""

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float | None = None,
        *,
        update: str = "sgd",
        estimator: str = "spsa",
        mu: float | None = None,
        n_directions: int | None = None,
        difference: str = "forward",
        sparsity: float | Sequence[float] = 0.0,
        mask_every: int = 100,
        seed: int = 0,
        weight_decay: float = 0.0,
        plateau: bool | Plateau = True,
        batch_closures: bool = True,
        **options: Any,
    ) -> None:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
        self._mu_given = mu is not None
        mu = (5e-3 if estimator == "cge" else 1e-3) if mu is None else float(mu)
        if not (math.isfinite(mu) and mu > 0):
            raise ValueError(f"mu must be a positive finite number, got {mu}")
        # n_directions=None: the default, and with a batched ForwardLoss closure the larger batched default
        # (groups.batched_directions), resolved per step from the closure
        self._directions_given = n_directions is not None
        n_directions = default_directions(estimator, update) if n_directions is None else n_directions
        if int(n_directions) != n_directions or n_directions < 1:
            raise ValueError(f"n_directions must be an int >= 1, got {n_directions}")
        if difference not in ("forward", "central"):
            raise ValueError(f"difference must be 'forward' or 'central', got {difference!r}")
        if int(mask_every) != mask_every or mask_every < 1:
            raise ValueError(f"mask_every must be an int >= 1, got {mask_every}")
        lr = default_lr(estimator, update) if lr is None else lr
        if not isinstance(batch_closures, bool):
            raise TypeError(f"batch_closures must be True or False, got {batch_closures!r}")
        if not isinstance(plateau, (bool, Plateau)):
            raise TypeError(f"plateau must be True, False or a zoo.updates.Plateau, got {plateau!r}")
        # the rate follows the measured loss: halved when it stalls (zoo.updates.plateau), no parameter copy
        if isinstance(plateau, bool):
            # cge keeps the plain rule: the rise test was not measured with it (its suite figures, RESULTS issue 11
            # section 7, were measured without it)
            self._plateau = (
                Plateau(rise=DEFAULT_RISE if estimator != "cge" else math.inf) if plateau else None
            )
        else:
            self._plateau = plateau
        if self._plateau is not None and estimator == "cge" and self._plateau.max_growth > 1:
            # cge has no directions to add (its coordinates are the mask): a stall halves the rate
            self._plateau = dataclasses.replace(self._plateau, max_growth=1)
        self.update_name, self.estimator, self.mu = update, estimator, mu
        self.n_directions, self.difference, self.mask_every = int(n_directions), difference, int(mask_every)
        unknown = sorted(set(options) - set(RULE_KEYS.get(update if isinstance(update, str) else "", ())))
        if unknown:
            known = [k for k in torch_option_names() if k in unknown]
            if not known:
                raise TypeError(
                    f"unknown option(s) {unknown}; options of update={update!r}: "
                    f"{list(RULE_KEYS.get(update, ()))} and lr, weight_decay"
                )
        defaults = dict(lr=lr, weight_decay=weight_decay, **options)
        check_group(defaults, update, where="option")
        self._rules: dict[int, tuple] = {}  # _cached_rule: per group, the rule built for its option values
        super().__init__(params, defaults)
        for group in self.param_groups:
            self._rule(group)  # validates lr and the rule's options now, not at the first step
        self.zo: dict[str, Any] = {
            "seed": int(seed),
            "step": 0,
            "updates": 0,
            "queries": 0,
            "skipped_steps": [],
            "plateau": self._plateau.init() if self._plateau is not None else None,
        }
        self.set_sparsity(sparsity)
        self._masks: tuple[int, list[torch.Tensor | None]] | None = None
        # plain closures: the batched ForwardLoss found for a parameter set (None: it falls back), see _batchable
        self._closures: dict[tuple[int, ...], ForwardLoss | None] = {}
        self.batch_closures = bool(batch_closures)  # False: a plain closure always runs one forward per set

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
        check_group(param_group, self.update_name, where="group option")
        super().add_param_group(param_group)

    def set_sparsity(self, sparsity: float | Sequence[float]) -> None:
        """Gradient sparsity for cge: one share in [0, 1) for every tensor, or one per tensor (group order)."""
        n = len(self._all_params())
        if isinstance(sparsity, torch.Tensor):
            sparsity = sparsity.tolist()
        ratios = (
            [sparsity] * n if np.ndim(sparsity) == 0 else list(np.asarray(sparsity, dtype=object).ravel())
        )
        if len(ratios) != n:
            raise ValueError(f"sparsity needs one value per parameter tensor ({n}), got {len(ratios)}")
        for r in ratios:
            ok = isinstance(r, numbers.Real) and not isinstance(r, (bool, np.bool_))
            if not (ok and 0.0 <= float(r) < 1.0):
                raise ValueError(f"sparsity must be in [0, 1) (the share of coordinates left out), got {r!r}")
        self.zo["sparsity"] = [float(r) for r in ratios]
        self._masks = None

    def _all_params(self) -> list[torch.Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _params(self) -> list[torch.Tensor]:
        """The trainable parameters (``requires_grad=False`` ones are neither perturbed nor updated)."""
        return [p for g in self.param_groups for p in g["params"] if p.requires_grad]

    def _keys(self) -> list[int]:
        """The direction stream of each trainable parameter: its index among all of them (frozen ones included),
        so that freezing a tensor does not change the directions the others draw."""
        return [i for i, p in enumerate(self._all_params()) if p.requires_grad]

    def _rule(self, group: dict[str, Any]) -> Transform:
        """The group's update rule (options checked), built once per set of option values: a step asks for it
        twice per group, and a scheduler's new ``lr`` (or the plateau factor) gives a new key."""
        return self._cached_rule(group)[0]

    def _cached_rule(self, group: dict[str, Any]) -> list:
        """``[rule, rule with weight decay or None]`` of ``group``, rebuilt when an option's value changed."""
        factor = self.lr_factor
        key = _options_key(group, (self.update_name, factor))
        cache = self._rules
        entry = cache.get(id(group))
        if key is not None and entry is not None and entry[0] is group and entry[1] == key:
            return entry[2]
        check_group(group, self.update_name, where="group option")
        name, options = rule_options(self.update_name, group)
        lr = group["lr"]
        if factor != 1.0:
            lr = (lambda t, f=lr: factor * f(t)) if callable(lr) else factor * lr
        rules = [make_rule(name, lr=lr, **options), None]
        if key is not None:  # only values compared by value (or callables, called anew each step) are cached
            if len(cache) > 4 * len(self.param_groups):  # groups removed since: drop the stale entries
                live = {id(g) for g in self.param_groups}
                for k in [k for k in cache if k not in live]:
                    del cache[k]
            cache[id(group)] = (group, key, rules)
        return rules

    @property
    def directions(self) -> int:
        """Directions of the next spsa / rge step: ``n_directions`` times the plateau rule's growth (1 until
        the measured loss stalls with ``Plateau(max_growth > 1)``)."""
        zo = getattr(self, "zo", None)
        state = None if zo is None or getattr(self, "_plateau", None) is None else zo.get("plateau")
        return self.n_directions * (1 if state is None else plateau_growth(state))

    def directions_for(self, closure: Any = None) -> int:
        """Directions of the next spsa / rge step with ``closure``: :attr:`directions`, or, when
        ``n_directions`` was left to a default above 1 (ZOAdam's) and ``closure`` is a batched
        :class:`~zoo.torch.ForwardLoss`,
        the batched default (:func:`zoo.torch.groups.batched_directions`: as many as the closure's
        ``memory_limit`` holds as stacked parameter sets, up to 128) times the plateau rule's growth."""
        q = self.directions
        closure = self._batchable(closure)
        # only where the plain default is there for the estimate's variance (ZOAdam's q = 8): ZOSGD's spsa
        # keeps MeZO's one direction, whose point is inference's memory
        if (
            self._directions_given
            or self.n_directions == 1
            or not (isinstance(closure, ForwardLoss) and closure.batched)
        ):
            return q
        nbytes = sum(p.numel() * p.element_size() for p in self._params())
        sets = 3 if self.estimator == "spsa" else 1  # spsa: the block Z and the 2q sets (_stacked_spsa)
        return batched_directions(self.n_directions, nbytes, closure.memory_limit, sets) * (
            q // self.n_directions
        )

    def _batchable(self, closure: Any) -> Any:
        """A plain callable closure as a batched :class:`~zoo.torch.ForwardLoss` (its loss is the closure, the
        perturbed sets run in vmap calls over the modules it calls), when that helps (not spsa with one
        direction: MeZO's in-place memory) and it can be batched; otherwise ``closure`` itself (the loop of
        single forwards). Found once per parameter set (one forward and one batched call of two sets, counted
        in ``queries``; :meth:`ForwardLoss.from_closure`) and cached on the optimizer: a new closure object
        each step reuses it, and each step's unperturbed forward checks that it calls the same modules. A
        closure that cannot be batched warns once and keeps the plain default of ``n_directions``."""
        if isinstance(closure, ForwardLoss) or not callable(closure) or not self.batch_closures:
            return closure
        params = self._params()
        if not params or (self.estimator == "spsa" and self.n_directions == 1):
            return closure
        key = tuple(map(id, params))
        if key not in self._closures:
            scope = trainmode.EstimateScope(params[0].device)  # BatchNorm: no running-stat update
            # the generators restored after the scope's own exit: the step's forwards draw what they would have
            with trainmode.rng_kept(scope.devices), torch.no_grad(), scope, mute_backward():
                discovery = ForwardLoss.from_closure(closure, params)
            found = discovery.loss
            if found is None and discovery.why is None:
                return closure  # not a scalar: the plain path raises
            self.zo["queries"] += discovery.forwards  # the discovery forward (and the trial's two sets)
            if found is None:
                warnings.warn(
                    f"zoo.torch: the closure is not batched ({discovery.why}); one forward per perturbed set, "
                    f"n_directions default {self.n_directions}",
                    stacklevel=3,
                )
            self._closures[key] = found
        found = self._closures[key]
        if found is None or not found.batched:
            return closure
        found.fn = closure
        return found

    def _stacks(self, closure: Any, params: Sequence[torch.Tensor], sets: int) -> bool:
        """spsa: stack the step's ``sets`` parameter copies and evaluate them in batched calls (a batched
        ForwardLoss whose ``memory_limit`` holds them, and more than one direction); otherwise perturb in
        place, one forward each (MeZO's memory)."""
        if sets <= 3 or not (isinstance(closure, ForwardLoss) and closure.batched):
            return False
        nbytes = sum(p.numel() * p.element_size() for p in params)
        return sets * nbytes <= closure.memory_limit

    @property
    def lr_factor(self) -> float:
        """The plateau rule's factor on every group's ``lr`` (1 until the measured loss stalls; 1 when off)."""
        zo = getattr(self, "zo", None)
        state = None if zo is None or getattr(self, "_plateau", None) is None else zo.get("plateau")
        return 1.0 if state is None else float(state[0])

    def mu_for(self, params: Sequence[torch.Tensor]) -> float:
        """mu, raised to ``MU_RESOLUTION`` units of the coarsest parameter dtype's resolution (fp16, bf16)."""
        if not params:
            return self.mu
        floor = MU_RESOLUTION * max(torch.finfo(dtype).eps for dtype in {p.dtype for p in params})
        if floor <= self.mu:
            return self.mu
        if self._mu_given and not getattr(self, "_mu_warned", False):
            self._mu_warned = True
            warnings.warn(
                f"mu={self.mu:g} is below the resolution of {max((p.dtype for p in params), key=_eps)}: using "
                f"mu={floor:g} ({MU_RESOLUTION} x finfo.eps)",
                stacklevel=3,
            )
        return floor

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
        if self.zo.get("plateau") is None and self._plateau is not None:  # saved with the rule off
            self.zo["plateau"] = self._plateau.init()
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
        """One step from ``closure()`` (the minibatch loss), e.g. ``opt.step(lambda: loss_fn(model(x), y))``.

        If the step raises, the parameters, the optimizer's state, train-mode BatchNorm's running statistics
        and the random generators are those from before it, bit for bit (:mod:`zoo.torch.trainmode`); so are
        the statistics and the generators when a non-finite loss skips it.
        """
        if closure is None:
            raise TypeError(closure_help())
        for group in self.param_groups:
            self._rule(group)  # every group is checked before any parameter moves
        saved, known = _snapshot(self.zo), len(self._closures)
        batched = None
        try:
            batched = self._batchable(closure)
            return self._step(batched)
        except BaseException:
            self.zo = saved
            for key in list(self._closures)[known:]:  # found in this step: the next one finds it anew
                del self._closures[key]
            raise
        finally:
            if batched is not closure and isinstance(batched, ForwardLoss):
                batched.fn = None  # the cached ForwardLoss keeps no minibatch alive between steps

    def _step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        t = self.zo["step"]
        self.zo["step"] = t + 1  # a skipped step still consumes its seeds: resuming stays aligned
        params = self._params()
        device = params[0].device if params else None
        # MeZO with one direction and one group: the last restore and the SGD update share one pass over z
        self._defer = (
            self.estimator == "spsa" and self.directions_for(closure) == 1 and len(self.param_groups) == 1
        )
        self._pending = None
        try:
            with trainmode.EstimateScope(device) as scope, mute_backward():
                if self.estimator == "cge":
                    loss, grads = self._cge(closure, params, t)
                    directions = None
                elif self.estimator == "spsa" and self._stacks(
                    closure, params, 3 * self.directions_for(closure)
                ):
                    loss, grads = self._stacked_spsa(closure, params, t)
                    directions = None
                else:
                    loss, directions = self._projections(closure, params, t)
                    grads = None
                if not math.isfinite(loss):
                    scope.discard()  # BatchNorm's running statistics and the generators as before the step
            if not math.isfinite(loss):
                self.zo["skipped_steps"].append(t)
                return torch.scalar_tensor(loss)  # = torch.tensor(loss), a third of its cost
            self._update(params, t, grads, directions)
        finally:
            self._restore_pending()
        self.zo["updates"] += 1
        if self._plateau is not None:  # the factor of the next step, from this step's (free) loss
            self.zo["plateau"] = plateau_update(self._plateau, self.zo["plateau"], loss)
        return torch.scalar_tensor(loss)  # = torch.tensor(loss), a third of its cost

    def _restore_pending(self, alpha: float = 0.0) -> None:
        """Undo the deferred ``-mu`` perturbation (exactly), adding ``alpha z`` in the same pass."""
        pending, self._pending = self._pending, None
        if pending is not None:
            params, seed, scale, patches, keys = pending
            if alpha:
                restore_and_add(params, seed, scale, patches, alpha, keys)
            else:
                restore(params, seed, scale, patches, keys)

    def _loss(self, closure: Callable[[], torch.Tensor], phase: str = trainmode.FREEZE) -> float:
        trainmode.before_forward(phase, full=True)
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
        q = self.directions_for(closure)
        seeds = [derive_seed(self.zo["seed"], t, k) for k in range(q)]
        mu, keys = self.mu_for(params), self._keys()
        if self.estimator == "rge":
            if isinstance(closure, ForwardLoss) and closure.batched:
                trainmode.before_forward(trainmode.UPDATE)
                f0 = self._checked(closure.base_loss())
                deltas = [
                    torch.stack(zs).mul_(mu) for zs in zip(*(direction(params, s, keys) for s in seeds))
                ]
                values = closure.direction_losses(params, deltas).tolist()
                self.zo["queries"] += len(values)
            else:
                f0 = self._loss(closure, trainmode.UPDATE)
                values = [self._perturbed_loss(closure, params, s, mu, keys) for s in seeds]
            row, difference = [f0, *values], "forward"
            loss = f0 if all(map(math.isfinite, values)) else math.nan
        else:
            plus, minus = [], []
            for k, s in enumerate(seeds):
                phase = trainmode.RECORD if k == 0 else trainmode.FREEZE  # BatchNorm: the first pair's mean
                lp, lm = self._pair(closure, params, s, mu, keys, phase)
                plus.append(lp)
                minus.append(lm)
            row, difference = plus + minus, "central"
            loss = sum(0.5 * (lp + lm) for lp, lm in zip(plus, minus)) / len(seeds)
        # a non-finite loss skips the whole step (the loss reported is NaN), so every direction counts here
        coef, _ = two_point.coefficients(np.array([row], dtype=np.float64), mu, difference)
        return loss, list(zip(seeds, coef[0].tolist()))

    def _stacked_spsa(self, closure: ForwardLoss, params, t) -> tuple[float, list[torch.Tensor]]:
        """spsa with a batched ForwardLoss: the q directions of step ``t`` drawn as one ``(q, d)`` block
        ``Z`` (a stream of its own, from ``(seed, step)``), the 2q sets ``theta +- mu z_j`` evaluated in
        batched calls (torch.func over the stacked parameters) instead of 2q in-place forwards, and
        ``g = sum_j c_j z_j`` as one product ``c @ Z`` from the kept block, instead of regenerating each
        ``z_j`` chunk by chunk in the update. The same estimate as the in-place loop (the core's
        two-point coefficients on the measured pairs), for other draws of the directions. The unperturbed
        forward runs first (counted): BatchNorm's statistics are updated from it once, as rge's batched
        path does. Memory: the block and the 2q sets, ``3 q`` parameter copies (:meth:`_stacks`)."""
        q, mu = self.directions_for(closure), self.mu_for(params)
        trainmode.before_forward(trainmode.UPDATE)
        self._checked(closure.base_loss())
        work = _work_dtype(params[0].dtype)
        gen = torch.Generator(device=params[0].device).manual_seed(
            derive_seed(self.zo["seed"], _STACK_KEY, t)
        )
        sizes = [p.numel() for p in params]
        Z = torch.randn(q, sum(sizes), generator=gen, dtype=work, device=params[0].device)
        deltas = []
        for p, z in zip(params, Z.split(sizes, dim=1)):
            d = torch.empty((2 * q, *p.shape), dtype=p.dtype, device=p.device)
            d[:q].view(q, -1).copy_(z * mu)
            torch.neg(d[:q], out=d[q:])
            deltas.append(d)
        values = closure.direction_losses(params, deltas).tolist()
        del deltas
        self.zo["queries"] += len(values)
        plus, minus = values[:q], values[q:]
        loss = sum(0.5 * (lp + lm) for lp, lm in zip(plus, minus)) / q
        coef, _ = two_point.coefficients(np.array([plus + minus], dtype=np.float64), mu, "central")
        g = torch.as_tensor(coef[0], dtype=work, device=Z.device) @ Z
        return loss, [gp.view(p.shape) for p, gp in zip(params, g.split(sizes))]

    def _pair(self, closure, params, seed: int, mu: float, keys, phase) -> tuple[float, float]:
        """``L(theta + mu z)``, ``L(theta - mu z)``: perturb, flip to ``-mu`` in one pass, restore exactly."""
        patches, scale = perturb(params, seed, mu, keys), mu
        done = False
        try:
            lp = self._loss(closure, phase)
            patches, scale = flip(params, seed, mu, patches, keys), -mu
            lm = self._loss(closure, phase)
            done = True
        finally:
            if done and self._defer:  # restored by _update's pass (or by _step's finally)
                self._pending = (params, seed, scale, patches, keys)
            else:
                restore(params, seed, scale, patches, keys)
        return lp, lm

    def _checked(self, loss: torch.Tensor) -> float:
        if loss.numel() != 1:
            raise ValueError(
                f"the closure must return a scalar loss, got a tensor of shape {tuple(loss.shape)}"
            )
        self.zo["queries"] += 1
        return float(loss)

    def _perturbed_loss(
        self, closure, params, seed: int, scale: float, keys, phase=trainmode.FREEZE
    ) -> float:
        patches = perturb(params, seed, scale, keys)
        try:
            return self._loss(closure, phase)
        finally:
            restore(params, seed, scale, patches, keys)

    # ---- cge ----------------------------------------------------------------------------------------------
    def masks(self, t: int | None = None) -> list[torch.Tensor | None]:
        """Coordinates (flat indices) of each tensor that cge estimates at step ``t`` (None: all of them)."""
        t = self.zo["step"] if t is None else t
        draw = t // self.mask_every
        if self._masks is None or self._masks[0] != draw:
            masks: list[torch.Tensor | None] = []
            for i, (p, r) in enumerate(zip(self._all_params(), self.zo["sparsity"])):
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
        if batched:
            trainmode.before_forward(trainmode.UPDATE)
            f0 = self._checked(closure.base_loss())
        else:
            f0 = self._loss(closure, trainmode.UPDATE)
        mu, central, grads = self.mu_for(params), self.difference == "central", []
        finite = math.isfinite(f0)
        masks = self.masks(t)
        try:
            for p, idx in zip(params, (masks[k] for k in self._keys())):
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
        first, j_active = 0, 0
        for group in self.param_groups:
            rule = self._group_rule(group)
            n = len(group["params"])
            active = [(first + j, p) for j, p in enumerate(group["params"]) if p.requires_grad]
            first += n
            if not active:
                continue
            keys, ps = [k for k, _ in active], [p for _, p in active]
            states = []
            for p in ps:
                state = self.state[p]
                if not state:  # fp16 / bf16 parameters: the state in float32 (torch's fused optimizers do so)
                    state.update(rule.init(p.data.to(_work_dtype(p.dtype))))
                states.append(state)
            linear = [rule.linear(state) for state in states] if grads is None else [None]
            if all(lin is not None for lin in linear):
                # MeZO-SGD: the step a*g adds each regenerated direction with alpha = a c_j, nothing stored
                for state, (_, new) in zip(states, linear):
                    state.update(new)
                factors = [lin[0] for lin in linear]
                if self._pending is not None and len(set(factors)) == 1 and len(directions) == 1:
                    self._restore_pending(factors[0] * directions[0][1])  # restore + MeZO step, one pass
                elif len(set(factors)) == 1:
                    self._restore_pending()
                    if factors[0] != 0.0:
                        _add_directions(ps, keys, directions, factors[0])
                else:
                    self._restore_pending()
                    for p, key, a in zip(ps, keys, factors):
                        _add_directions([p], [key], directions, a)
                continue
            self._restore_pending()
            for key, p, state in zip(keys, ps, states):
                if grads is not None:
                    g, j_active = grads[j_active], j_active + 1
                if not rule.elementwise:  # a transform over the whole vector: the full g of this tensor
                    if grads is None:
                        g = torch.zeros_like(p, dtype=_work_dtype(p.dtype))
                        _add_directions([g], [key], directions, 1.0)
                    work = p.data.to(_work_dtype(p.dtype))
                    apply_in_place(rule, work, g.to(work.dtype), state)
                    if work is not p.data:
                        p.data.copy_(work)
                    continue
                # elementwise rule (sgd with momentum, adam, sign): chunk by chunk, g of each chunk
                # regenerated from the seeds, never a full-size g or temporary
                chunks = (
                    _grad_chunks(p, key, directions)
                    if grads is None
                    else _dense_chunks(g.view(-1), _work_dtype(p.dtype))
                )
                apply_in_chunks(rule, p.data, chunks, state, _work_dtype(p.dtype))

    def _group_rule(self, group: dict[str, Any]) -> Transform:
        """The group's rule with decoupled weight decay (:func:`zoo.updates.add_decayed_weights`) before the
        learning rate: ``p <- p - lr (step + wd p)`` (AdamW; MeZO's form with SGD)."""
        rules = self._cached_rule(group)
        if rules[1] is None:
            rule = rules[0]
            wd = float(group.get("weight_decay", 0.0))
            if wd == 0.0 or not isinstance(rule, UpdateRule):
                rules[1] = rule
            else:
                *body, lr = rule.transforms()
                rules[1] = chain(*body, add_decayed_weights(wd), lr)
        return rules[1]


_PLAIN = (int, float, bool, str, bytes, type(None), complex, np.number, np.bool_, torch.dtype)


def _plain(v: Any) -> bool:
    """A value compared by value that no one can change in place (a tuple of such values too)."""
    if isinstance(v, _PLAIN):
        return True
    return isinstance(v, tuple) and all(map(_plain, v))


def _options_key(group: dict[str, Any], extra: tuple) -> tuple | None:
    """A key of ``group``'s options (``params`` left out) for the rule cache, or None when one of them is not
    plain (a tensor, an array, an object with state: checked and built anew each step). Lists are keyed by
    their current items; callables (an ``lr`` schedule) by identity: the rule calls them at every step."""
    items = []
    for k, v in group.items():
        if k == "params":
            continue
        if isinstance(v, list):
            v = ("__list__", *v)
        if not (_plain(v) or (callable(v) and not isinstance(v, torch.Tensor))):
            return None
        items.append((k, v))
    if not all(map(_plain, extra)) and not isinstance(extra[0], Transform):
        return None
    try:
        key = (*items, *extra)
        hash(key)
    except TypeError:
        return None
    return key


def _snapshot(zo: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``zo`` that a failed step is rolled back to: lists of plain values copied (as
    ``state_dict`` does), plain values shared, anything else deep-copied."""
    out = {}
    for k, v in zo.items():
        if type(v) is list and (len(v) > 64 or all(map(_plain, v))):  # (long: skipped_steps, of ints)
            out[k] = list(v)
        elif _plain(v):
            out[k] = v
        else:
            out[k] = copy.deepcopy(v)
    return out


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _grad_chunks(p: torch.Tensor, key: int, directions):
    """``(start, g chunk)`` of ``g = sum_j c_j z(seed_j)`` for one tensor: the q direction streams walked in
    lock step, one chunk of each at a time (the core's in-place sum over one chunk buffer)."""
    work = _work_dtype(p.dtype)
    streams = [direction_chunks(p, s, key) for s, _ in directions]
    coefs = [c for _, c in directions]
    buf = None
    for parts in zip(*streams) if streams else ():
        start, n = parts[0][0], parts[0][1].numel()
        if buf is None:
            buf = torch.empty(n, dtype=work, device=p.device)
        g = buf[:n].zero_()
        two_point.accumulate(coefs, lambda j, c, g=g, parts=parts: g.add_(parts[j][1], alpha=c))
        yield start, g


def _dense_chunks(g: torch.Tensor, dtype: torch.dtype):
    for start in range(0, g.numel(), CHUNK):
        yield start, g[start : start + CHUNK].to(dtype)


def _add_directions(tensors, keys, directions, scale: float) -> None:
    """``tensors += scale * sum_j c_j z(seed_j)``: the core's sum over directions in its in-place form, each
    ``z`` regenerated from its seed in the stream of ``keys`` (never stored)."""
    seeds = [s for s, _ in directions]
    two_point.accumulate(
        [c for _, c in directions], lambda j, c: add_direction(tensors, seeds[j], scale * c, keys)
    )


def _eps(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).eps


class ZOSGD(ZOOptimizer):
    """ZO estimate + SGD; a group's ``momentum > 0`` makes it heavy ball (``nesterov=True``: Nesterov), as in
    ``torch.optim.SGD``, so that OneCycleLR / CyclicLR can cycle ``momentum``."""

    def __init__(
        self, params, lr: float | None = None, *, momentum: float = 0.0, nesterov: bool = False, **kw
    ):
        kw.setdefault("update", "sgd")
        super().__init__(params, lr, momentum=momentum, nesterov=nesterov, **kw)


class ZOAdam(ZOOptimizer):
    """ZO estimate + Adam (Kingma & Ba, 2015): ZO-AdaMM with spsa/rge, MeZO-Adam with spsa; ``weight_decay``
    is decoupled (AdamW). ``betas`` and ``eps`` are group options, as in ``torch.optim.Adam``."""

    def __init__(self, params, lr: float | None = None, *, betas=(0.9, 0.999), eps: float = 1e-8, **kw):
        super().__init__(params, lr, update="adam", betas=tuple(betas), eps=eps, **kw)
