"""Estimate-then-step: the shape shared by every gradient estimator in zoo.

An estimator's ``ask`` returns probe points around the iterate ``x``; its ``tell`` turns their values into a
gradient estimate ``g``; an update rule from :mod:`zoo.updates` (``update=`` option: "sgd", "momentum",
"adam", "sign", or any transform such as ``zoo.updates.chain(...)``) turns ``g`` into the step.
So RGE + Adam or CGE + SGD are compositions of options, not classes.

Step size (issue 16). By default (``lr=None``) the named rule at ``lr = 1`` gives only the direction and
:class:`zoo.updates.SuccessStep` sets the length from the centre values the method queries anyway: a step that
makes ``f`` at the next centre worse or non-finite is undone and the length halved, a better one grows it. The
first length comes from ``zoo.updates.length_scale(x0, bounds)``, and the smoothing radius follows the length
(``mu=None``), so the same defaults work whatever the scale of ``f`` or ``x``. ``lr=`` a number or a schedule
(or ``update=`` a transform) keeps that rule as given, guarded: a non-finite or much worse centre is undone and
the rate halved. ``mu=`` a number fixes the radius. ``res.step_control`` records what the control did; a run
whose last centre is worse than its first ends with ``success=False`` (status 6; not judged on a stochastic
objective, where the two values are at different samples: a note says so). A non-finite ``f(x0)``: the
run starts from the best finite probe around it (said in ``message``).

Subclasses implement ``_probe(x, rng) -> (X, probe)`` (with the radius ``self._mu(self.state)``, recorded in
``probe["mu"]``) and ``_estimate(state, X, values) -> g | None`` (None: nothing usable in this batch, the step
is skipped and counted in ``state.n_skipped``).

Bounds: the iterate is projected onto the box after each step and probe points are clipped into it;
estimators then use the actual displacement of each clipped probe, so no query ever leaves the box.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.arrays import all_finite, norm
from zoo.core.method import Method, Params, State, evolve, replacer
from zoo.core.validate import check_real
from zoo.estimators.perturbation import maybe_perturb
from zoo.updates.base import LearningRate, Transform, make_rule
from zoo.updates.step_control import SuccessStep, length_scale


@dataclasses.dataclass(frozen=True)
class GradientParams(Params):
    mu: float | None = None
    update: str | Transform = "adam"
    lr: LearningRate | None = None

    def check(self, dim: int) -> None:
        if self.mu is not None:
            check_real(self.mu, "mu (the smoothing radius)", 0, low_open=True)
        if self.lr is not None and not callable(self.lr):
            # a rule accepts lr 0 (torch schedules reach it); a minimizer needs lr > 0
            check_real(self.lr, "lr", 0, low_open=True)
        make_rule(self.update, 1.0 if self.lr is None else self.lr)  # validates the rule name and lr


@dataclasses.dataclass
class GradientState(State):
    x: np.ndarray
    t: int
    rule: dict[str, Any]
    probe: dict[str, Any]
    g: np.ndarray
    n_skipped: int = 0
    start_moved: bool = False
    # the perturbation option of the two-point methods (zoo.estimators.perturbation)
    g_max: float = 0.0
    t_perturbed: int = -1
    n_perturbed: int = 0
    f_perturbed: float = math.inf
    r_scale: float = 1.0
    # a stochastic objective (the method's samples were read): each trial batch ends with x_ref at its sample
    sampled: bool = False


#: the fields a gradient method's ``_tell`` changes at every step, in the order it passes them
_TELL_CHANGES = ("x", "t", "rule", "probe", "g", "n_skipped")


def draws_nothing(estimate):
    """Mark a gradient method's ``_estimate`` (or a ``_tell`` override that only adds to the state before
    calling the base's) as drawing no random numbers, so that ``tell`` need not snapshot the generator
    (:meth:`GradientMethod._tell_draws`)."""
    estimate.draws_nothing = True
    return estimate


def _perturb_fields(state: GradientState) -> dict[str, Any]:
    return {
        "g_max": state.g_max,
        "t_perturbed": state.t_perturbed,
        "n_perturbed": state.n_perturbed,
        "f_perturbed": state.f_perturbed,
        "r_scale": state.r_scale,
    }


class GradientMethod(Method):
    """Base of the value-based gradient estimators (RGE, CGE)."""

    Params = GradientParams
    State = GradientState

    #: False: the plain rule steps, unjudged (no values to judge a step by: rank-sgd without its line search)
    controlled: bool = True
    #: ``(x, ||x||)`` of the last iterate ``tell`` made (a cache for the probe radius, keyed by the array itself;
    #: a plain attribute, not read through ``__dict__``: the lookup runs at every ask)
    _x_norm: tuple[Any, float] = (None, 0.0)
    #: ``(x_ref, ||x_ref||)`` of the control's last accepted centre, when ``_tell`` knew the norm (an undone step
    #: goes back to a copy of it, with the same norm)
    _ref_norm: tuple[Any, float] = (None, 0.0)
    #: ``(state class, replacer)``: the function ``evolve`` calls for the fields ``_tell`` changes
    #: (:func:`zoo.core.method.replacer`), kept per class
    _tell_replacer: tuple[Any, Any] = (None, None)
    #: what ``_tell_draws`` found (None: not yet; fixed by the class and the params)
    _draws: bool | None = None
    _plain_mu: float | None = None  # the plain rule's radius (fixed for the run), once found
    _perturbs: bool | None = None  # whether the params ask for the saddle perturbation, once found
    #: a zero step after an accepted centre reuses the control's x_ref as the new iterate (False: x + zeros, the
    #: general path, for tests)
    _alias_ref: bool = True

    def _setup(self) -> None:
        p = self.params
        if not self.controlled:
            self.rule = make_rule(p.update, p.lr)
        elif p.lr is None and not isinstance(p.update, Transform):
            self.rule = SuccessStep(make_rule(p.update, 1.0))  # the rule at lr = 1 gives the direction
        else:  # a fixed learning rate (or the user's transform): kept as given, guarded against divergence
            self.rule = SuccessStep(make_rule(p.update, p.lr), adapt=False)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> GradientState:
        if self.controlled:
            rule = self.rule.init(x0, scale=length_scale(x0, self.bounds))
        else:
            rule = self.rule.init(x0)
        return GradientState(x=x0, t=0, rule=rule, probe={}, g=np.zeros_like(x0))

    #: the convergence test's patience: tells in a row without a lower value (see :meth:`_stall`)
    converge_tells: int = 50

    def _stall(self, state: GradientState) -> str | None:
        """Why a deterministic run under the adaptive step-size control has stopped making progress, or None.

        The test: no query of the last :attr:`converge_tells` tells was lower than the best value before them,
        and no step of them was a success (an accepted lower centre: a run can progress for many steps below
        f(x_k) but above a lucky probe's value).
        A step-controlled run does not stall on a smooth function while it has precision left (a shorter step
        decreases it), so such a stall is a run at its floor: ``f`` exactly at its minimum (every trial worse,
        the length halving to nothing: the sphere at 0), values that round to the same number (``f* != 0`` to
        double precision), or a region where ``f`` is flat. ``"converged"`` when the run got lower than
        ``f(x0)``; ``"stalled"``, a failure, when it found nothing lower than ``f(x0)``: ``x0`` is a minimum, or
        ``f`` is flat around it (a piecewise-constant objective such as integer variables, where the estimates
        see no slope), which values alone cannot tell apart, and a run that returns ``x0`` says so. Not tested
        (the run goes to its other limits) with a fixed learning rate, once noise was measured (a run under
        noise stalls on the noise), once a value was NaN or inf (a step undone for a NaN is no evidence of a
        floor: next to a region where f fails, the runs of benchmarks/converged_stop.py that stopped there lost
        up to 8x in f), on a stochastic objective, or for a central difference (it never queries the iterate,
        so it measures no noise and a stall is no evidence)."""
        if (
            self.nit - self._best_nit < self.converge_tells
            or not math.isfinite(self._best_f)
            or self.n_nonfinite
        ):
            return None
        if not (self.controlled and self.rule.adapt) or self._centre_row(state) is None:
            return None
        s = state.rule
        if s["noise2"] > 0.0 or s["sampled"] or state.sampled:
            return None
        # an accepted lower centre is progress too, below a probe's record (absent in older checkpoints)
        if self.nit - s.get("last_success", 0) < self.converge_tells:
            return None
        return "converged" if self._best_f < s["f_first"] else "stalled"

    def _stop(self, state: GradientState) -> dict[str, Any]:
        """``converged`` or ``stalled`` (:meth:`_stall`), with how many steps found no lower value."""
        why = self._stall(state)
        if why is None:
            return {}
        return {why: f"no lower value in the last {self.nit - self._best_nit} steps"}

    def _first_length(self) -> float:
        """The step-size control's first step length ``r0_frac * s * sqrt(d)`` (``s``: the length scale of x0
        and the bounds): the radius of ``perturbation="auto"``, which must not shrink with the steps."""
        return self.rule.r0_frac * length_scale(self.x0, self.bounds) * math.sqrt(self.dim)

    def _mu(self, state: GradientState) -> float:
        """The smoothing radius of the next estimate: ``mu`` if given, else it follows the step length
        (:meth:`zoo.updates.SuccessStep.probe_radius`)."""
        if self.params.mu is not None:
            return float(self.params.mu)
        if self.controlled:
            known = self._x_norm  # ||x|| found by the tell that made x (see _tell), if any
            x = state.x
            return self.rule.probe_radius(state.rule, x, known[1] if known[0] is x else None)
        mu = self._plain_mu
        if mu is None:  # fixed for the run (x0 and the bounds): computed once, not at every step
            mu = self._plain_mu = 1e-3 * length_scale(self.x0, self.bounds)
        return mu

    @abc.abstractmethod
    def _centre_row(self, state: GradientState) -> int | None:
        """Where this step's probe batch holds ``f`` at the iterate, for the step-size control: the row index
        (a forward difference queries ``x`` itself, e.g. row 0), or None when no row is at ``x`` (central pairs
        ``x +- mu u``: the control then uses the batch mean, ``f(x) + O(mu^2)``). Every gradient method says it
        explicitly; nothing is guessed from option names."""

    def _centre_value(self, state: GradientState, values: np.ndarray) -> tuple[float, bool]:
        """``(f at the iterate, exact)`` from the row :meth:`_centre_row` names, else the batch mean (non-finite
        if any value of the batch is)."""
        row = self._centre_row(state)
        if row is not None:
            return values.item(row), True  # (float(values[row]) without the numpy scalar)
        if self.finite_values(values) or all_finite(values):
            # np.mean(values), bit for bit (its pairwise sum over the one axis, then / n), without its wrapper
            return float(np.add.reduce(values)) / values.size, False
        return math.inf, False

    @abc.abstractmethod
    def _probe(self, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
        """The probe batch around ``x`` and what the estimate needs to remember about it."""

    @abc.abstractmethod
    def _estimate(self, state: GradientState, X: np.ndarray, values: np.ndarray) -> np.ndarray | None:
        """The gradient estimate from the probe values (None: nothing usable, skip the step)."""

    def _tell_draws(self, state: GradientState) -> bool:
        """``_tell`` below draws only for the saddle perturbation (``perturbation=``), and an ``_estimate``
        marked :func:`draws_nothing` never draws; a subclass that replaces ``_tell`` (unless that ``_tell`` is
        marked too), or an unmarked ``_estimate``, is taken to draw (the generator is then snapshotted at every
        tell)."""
        draws = self._draws
        if draws is None:  # fixed by the class and the params: found once, not at every tell
            cls = type(self)
            draws = self._draws = (
                (cls._tell is not GradientMethod._tell and not getattr(cls._tell, "draws_nothing", False))
                or not getattr(cls._estimate, "draws_nothing", False)
                or getattr(self.params, "perturbation", None) is not None
            )
        return draws

    def _sampled(self, state: GradientState) -> bool:
        """A stochastic objective: the samples of a batch were read (``opt.samples``, as ``minimize`` and
        :class:`zoo.Stochastic` do), now or earlier in the run (``state.sampled``, kept by ``state_dict``)."""
        return state.sampled or self.samples_read

    def _reference_row(self, state: GradientState) -> bool:
        """Whether the next batch ends with the last accepted point ``x_ref``, so that the step-size control
        compares the trial centre with it at one sample (common random numbers, :class:`SuccessStep`): on a
        stochastic objective, when a reference exists and the centre is a trial (not ``x_ref`` itself, after
        an undo or a zero step, and not the unjudged point after a perturbation). One query per step."""
        if not (self.controlled and self._sampled(state)):
            return False
        r = state.rule
        return (
            math.isfinite(r["f_ref"])
            and not r["recheck"]
            and not r.get("jump", False)
            and not np.array_equal(state.x, r["x_ref"])
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # a subclass's ``_batch_size`` (the documented hook) counts its probe rows; the reference row of a
        # stochastic objective is the base's to add, so the budget check sees the whole batch
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("_batch_size")
        if own is not None and own is not GradientMethod.__dict__["_batch_size"]:
            cls._probe_rows = own
            cls._batch_size = GradientMethod.__dict__["_batch_size"]

    def _probe_rows(self, state: GradientState) -> int:
        """Rows of the probe batch, without the reference row (a subclass's ``_batch_size``)."""
        return Method._batch_size(self, state)

    def _batch_size(self, state: GradientState) -> int:
        return self._probe_rows(state) + int(self._reference_row(state))

    def _ask(self, state: GradientState, rng: np.random.Generator) -> np.ndarray:
        X, probe = self._probe(state.x, rng)
        if (state.sampled or self.samples_read) and self._reference_row(state):  # (_sampled inline)
            X = np.concatenate([X, state.rule["x_ref"][None, :]])
            probe["reference"] = True
        state.probe = probe  # the pending probe is part of the state, so state_dict() can resume mid-step
        return self.project(X) if self.bounds is not None else X

    def _tell(
        self, state: GradientState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> GradientState:
        reference = None
        if "reference" in state.probe:  # the last row: x_ref at this batch's sample (set True only)
            reference = float(values[-1])
            X, values = X[:-1], values[:-1]
        g = self._estimate(state, X, values)
        if not self.controlled:
            return self._plain_step(state, g)
        sampled = state.sampled or self.samples_read  # (_sampled inline)
        if sampled and not state.sampled:
            state = dataclasses.replace(state, sampled=True)
        value, exact = self._centre_value(state, values)
        rule = state.rule
        if not math.isfinite(rule["f_ref"]) and not math.isfinite(value) and np.isfinite(values).any():
            # f is not finite at the start: begin from the best finite probe around it
            i = int(np.argmin(values))
            return dataclasses.replace(
                state, x=X[i].copy(), probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1, start_moved=True
            )
        x = state.x
        # (an undone step's x_ref - x is not needed: the iterate goes back to x_ref itself, below)
        step, rule_state = self.rule.update(
            g,
            rule,
            x,
            value=value,
            exact=exact,
            probe_values=values,
            reference=reference,
            sampled=sampled,
            undo_step=False,
        )
        if rule_state["n_success"] > rule["n_success"]:  # the tell of the last success (for _stall)
            rule_state["last_success"] = self.nit + 1
        x_ref = rule_state["x_ref"]
        known = self._x_norm
        if x_ref is not rule["x_ref"] and known[0] is x:
            # a new x_ref is the control's copy of x (params + 0.0, the same squares): its norm is x's, kept for
            # the step that is undone back to it
            self._ref_norm = (x_ref, known[1])
        if rule_state["n_undone"] > rule["n_undone"]:
            x_new = x_ref.copy()  # exactly the last accepted point (x + (x_ref - x) may round)
            ref = self._ref_norm
            if ref[0] is x_ref:  # its copy has its norm: the next probe radius needs it
                self._x_norm = (x_new, ref[1])
        else:
            # no step taken (the control counts every step it takes, and an undo was ruled out above): the step is
            # zeros, and x + zeros is x with -0.0 entries as 0.0; when the control has just accepted x, its x_ref
            # is that very array (its copy params + 0.0), so x_new is x_ref itself, bit for bit, without the sum
            # (and the next judgement, handed x_ref back, keeps it instead of copying it again)
            zero_step = rule_state["n_steps"] == rule["n_steps"]
            x_new = x_ref if zero_step and x_ref is not rule["x_ref"] and self._alias_ref else x + step
            # ||x_new|| finite means every entry is; it is kept for the next probe radius, which needs it (a cache
            # keyed by the array itself: a state's arrays are never written in place, so it cannot go stale)
            if zero_step and known[0] is x:  # x_new has the squares of x: the same norm
                x_norm = known[1]
            else:
                x_norm = norm(x_new)
            if x_norm < math.inf:
                self._x_norm = (x_new, x_norm)
            elif not all_finite(x_new):  # (a finite vector whose norm overflows: not rejected)
                x_new = x
        perturbs = self._perturbs
        if perturbs is None:  # fixed by the params: found once, not at every tell
            perturbs = self._perturbs = getattr(self.params, "perturbation", None) is not None
        if perturbs and g is not None:
            # after an undone step too: at a saddle the control undoes even its zero steps (the centre estimate
            # of a central difference moves with the probes) while the estimate stays small
            zeta, fields = maybe_perturb(
                self.params,
                state.t,
                g,
                _perturb_fields(state),
                self._first_length(),
                self.dim,
                self.params.q,
                float(state.rule["f_ref"]),
                rng,
            )
            if zeta is not None:  # kept whatever the next value: the descent steps grow its useful part
                x_new = x_new + zeta
                rule_state = self.rule.jump(rule_state)
            state = dataclasses.replace(state, **fields)
        if self.bounds is not None:
            x_new = self.project(x_new)
        cached = self._tell_replacer  # evolve's function for this state class and these fields, found once
        if cached[0] is not type(state):
            cached = self._tell_replacer = (type(state), replacer(type(state), *_TELL_CHANGES))
        rep = cached[1] or evolve  # (None: a state class evolve hands to dataclasses.replace)
        return rep(
            state,
            x=x_new,
            t=state.t + 1,
            rule=rule_state,
            probe={},
            g=state.g if g is None else g,
            n_skipped=state.n_skipped + (g is None),  # (an int: int + bool)
        )

    def _plain_step(self, state: GradientState, g: np.ndarray | None) -> GradientState:
        if g is None:
            return evolve(state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1)
        x_new, rule_state = self.rule.apply(state.x, g, state.rule)
        # a non-finite g or an exploding step never poisons the iterate (NaN/inf in g reach x_new)
        if not all_finite(x_new):
            return evolve(state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1)
        if self.bounds is not None:
            x_new = self.project(x_new)
        return evolve(state, x=x_new, t=state.t + 1, rule=rule_state, probe={}, g=g)

    def outcome(self) -> dict[str, Any]:
        """The step control's record (``res.step_control``); a failure when the last centre value is worse than
        the first; a note when steps were undone or f(x0) was not finite."""
        if not self.controlled:
            return {}
        s = self.state.rule
        info = {
            "mode": "adaptive" if self.rule.adapt else "fixed",
            "n_steps": int(s["n_steps"]),
            "n_success": int(s["n_success"]),
            "n_undone": int(s["n_undone"]),
            "length": float(s["r"]) if self.rule.adapt else None,
            "lr_factor": None if self.rule.adapt else float(s["m"]),
            "mu": self._mu(self.state),
            "noise": math.sqrt(float(s["noise2"])),
            "f_first": float(s["f_first"]),
            "f_last": float(s["f_ref"]),
        }
        if getattr(self.params, "perturbation", None) is not None:
            info["n_perturbed"] = int(self.state.n_perturbed)
        out: dict[str, Any] = {"step_control": info}
        notes = []
        if self.state.start_moved:
            notes.append("f was not finite at x0; the run started from the best finite probe around it")
        if info["n_undone"]:
            notes.append(f"{info['n_undone']} steps undone (the next centre was worse or not finite)")
        if self.state.sampled:
            # a stochastic objective: f_first and f_last are values of two points at two samples, so their
            # order is mostly the spread between samples (it flagged 6 of 8 improving lad runs as worse)
            info["sampled"] = True
            notes.append(
                "a stochastic objective: f_first and f_last are values at different samples, so whether the "
                "run ended worse than it started is not judged from them (evaluate the iterate on all samples)"
            )
        if notes:
            out["note"] = "; ".join(notes)
        if self._stall(self.state) == "stalled":
            out["failure"] = (
                f"no value lower than f(x0) = {info['f_first']:.6g} was found: x0 is a minimum, or f is flat "
                "around it (a piecewise-constant objective, e.g. integer variables, where the estimates see no "
                "slope: try cma, ga or cbo)"
            )
        elif not self.state.sampled and info["f_last"] > info["f_first"]:
            out["failure"] = (
                f"the run ended worse than it started: f at the last iterate {info['f_last']:.6g} > "
                f"f at the first {info['f_first']:.6g}"
            )
        return out

    @property
    def x(self) -> np.ndarray:
        """The current iterate. Under the adaptive step control (``lr=None``) it is the last **accepted** centre
        (``x_ref``, whose value the control has judged): the trial step that the next batch would query becomes
        the iterate only once its value is known, so a run that ends mid-trial ends on a point it has measured
        (the trial may be far worse: under noise the length can be a tenth of a wide probe). With a fixed
        ``lr`` the rule's step is taken as given, as in ``zoo.torch``."""
        if self.controlled and self.rule.adapt and math.isfinite(self.state.rule["f_ref"]):
            return np.array(self.state.rule["x_ref"], dtype=np.float64, copy=True)
        return self.state.x.copy()

    @property
    def gradient(self) -> np.ndarray:
        """The last gradient estimate."""
        return self.state.g.copy()

    def estimate_gradient(self, fun, x: Any | None = None) -> np.ndarray:
        """One estimate of the gradient of a vectorized ``fun`` at ``x`` (default: the iterate), without
        stepping or counting: for tests and diagnostics."""
        x = self.state.x if x is None else np.asarray(x, dtype=np.float64)
        X, probe = self._probe(x, self.rng)
        state = dataclasses.replace(self.state, x=x, probe=probe)
        values = np.asarray(fun(X), dtype=np.float64)
        values = np.where(np.isfinite(values), values, np.inf)
        g = self._estimate(state, X, values)
        return np.zeros_like(x) if g is None else g
