"""GFM, the gradient-free method for nonsmooth nonconvex (stochastic) problems: Lin, Zheng & Jordan,
*Gradient-free methods for deterministic and stochastic nonsmooth nonconvex optimization* (NeurIPS 2022).

Each step draws ``b`` directions ``w_j`` uniform on the unit sphere and ``b`` samples ``xi_j`` and moves along
the two-point estimate of ``grad f_delta`` (:mod:`zoo.estimators.goldstein`, the estimate core's central
difference)::

    g_t = (1/b) sum_j d / (2 delta) * (F(x_t + delta w_j; xi_j) - F(x_t - delta w_j; xi_j)) * w_j
    x_{t+1} = x_t - eta g_t

``2b`` queries per step (the paper: ``b = 1``). Step: ``lr=None`` (``"adaptive"``, the default) moves a length
``r`` along ``-g_t / ||g_t||`` and lets zoo's success-based step control (:class:`zoo.updates.SuccessStep`, the
rule of the gradient methods, reused as is) judge the moves: ``r`` starts at ``delta`` (the Goldstein descent
step: Zhang, Lin, Jegelka, Sra & Jadbabaie, ICML 2020), a move that makes the smoothed value worse is undone
(back to the last accepted point ``x_a``) and ``r`` halved, a better one grows ``r`` 1.25x. On a stochastic
objective each trial batch also queries ``x_a`` at the pairs' samples (``b`` more queries, as the gradient
methods add one), so::

    D_t = (1/b) sum_j [(F(x_t + delta w_j; xi_j) + F(x_t - delta w_j; xi_j)) / 2 - F(x_a; xi_j)]

estimates ``f(x_t) - f(x_a)`` without the spread between samples (common random numbers; the pair mean is at
least ``F(x_t; xi)`` for a convex ``F``, so the bias is against the trial), and the trials since ``x_a`` are
judged together by the control's t-test on their ``D_t`` at 4, 8, 16, ... trials: a significant increase undoes
(back to ``x_a``) and halves ``r``; an undecided window goes on (``undo_undecided=False``: with ``b = 1`` a
step's progress shows only over hundreds of trials, and undoing undecided windows collapsed ``r`` to
``delta / 50`` on issue 15's ``lad``); a significant decrease accepts the **mean of the window's trial points**
``x_bar`` (the test says the trials are lower than ``x_a`` on average, so for a convex ``f`` their mean point is
lower still, by Jensen's inequality, and it averages the sideways walk out: Polyak & Juditsky, SIAM J. Control
Optim. 1992) and grows ``r``; the next trial starts from ``x_bar``. Accepting the last trial instead ended a
run 2.6 % worse than x0 on ``l1-cauchy`` (benchmarks/RESULTS.md, issue 15, session 5).

Why (issue 15, ``l1-cauchy``): a step of fixed length ``rho`` along a one-pair estimate whose cosine with the
gradient is ``c`` moves ``rho c`` towards a solution at distance ``R`` and ``rho`` sideways, which adds
``rho^2 / (2 R)`` to the distance; it makes progress only while ``c > rho / (2 R)``. There (d = 200, one data
point's slope ~14 against a mean gradient < 1) ``c ~ 0.004`` and ``delta / (2 R) ~ 0.02``: the normalized step
of length ``delta`` is a random walk away from x0 (5 of 5 runs ended at 4-5x the starting loss), and the
measured failures shrink ``r`` below the scale where it pays. On a deterministic objective the control
compares the pair means of consecutive batches (an estimate of ``f_delta``, as for the central-difference
gradient methods), with no extra query.

``lr="normalized"`` is the plain normalized step (length ``delta``, unjudged: the default before);
``lr="paper"`` is the paper's constant step for a horizon of ``T`` steps, with a batch of ``b`` (whose variance
is ``b`` times smaller)::

    eta = (1/10) * sqrt(delta * (Delta + delta L) * b / (d^(3/2) L^3 T))

``L`` and ``Delta`` estimated online (:mod:`zoo.estimators.goldstein`), ``T`` = ``steps`` or the steps the budget
allows (``budget / (2b)``, else ``max_iter``, else 1000). With it GFM reaches a ``(delta, epsilon)``-Goldstein
stationary point (in expectation, at a random iterate) within ``O(L^4 d^(3/2) eps^-4 + Delta L^3 d^(3/2)
delta^-1 eps^-4)`` queries. On the benchmarks of issue 15 it barely moves in 20,000 queries (its ``eta`` is
set by the worst case). ``lr=`` a number or a schedule ``lr(t)`` is a plain SGD rate.

History: ``res.history["stationarity"]``, the norm of a running mean of the estimates over the last ``~d / b``
steps (one estimate's norm is about ``sqrt(d)`` times the gradient's: noise); ``res.iterate`` is the last
iterate, the papers' output (with ``lr="adaptive"`` the last accepted one; ``res.x`` is the best value sampled,
which for a stochastic objective is the luckiest sample, not the best point).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from zoo.core.method import evolve
from zoo.core.registry import register
from zoo.core.validate import check_int
from zoo.estimators.goldstein import GoldsteinMethod, GoldsteinParams, GoldsteinState
from zoo.updates.base import make_rule
from zoo.updates.step_control import SuccessStep


@dataclasses.dataclass(frozen=True)
class GFMParams(GoldsteinParams):
    batch: int = 1  # b: direction-sample pairs per step
    steps: int | None = None  # T, the horizon of the step size; None: from the budget

    def check(self, dim: int) -> None:
        super().check(dim)
        check_int(self.batch, "batch (direction-sample pairs per step)", 1)
        if self.steps is not None:
            check_int(self.steps, "steps (the horizon T of the step size)", 1)


@dataclasses.dataclass
class GFMState(GoldsteinState):
    horizon: int = 1000
    mean: np.ndarray | None = None  # running mean of the estimates (the stationarity record)
    rule: dict | None = None  # lr="adaptive": the SuccessStep state (x_ref, the length r, the window)
    sampled: bool = False  # a stochastic objective (its samples were read): trials judged against x_ref
    x_sum: np.ndarray | None = None  # the sum of the trial points in the control's window, and their number
    n_sum: int = 0


@register("gfm")
class GFM(GoldsteinMethod):
    """Gradient-free method (Lin, Zheng & Jordan 2022): SGD on the two-point estimate of the ball smoothing."""

    Params = GFMParams
    State = GFMState
    default_lr = "adaptive"

    def _setup(self):
        super()._setup()
        # the gradient methods' success-based control around the plain direction -g (sgd at lr = 1)
        # (an undecided window goes on: with b = 1 the progress of a step shows only over hundreds of them)
        self.rule = SuccessStep(make_rule("sgd", 1.0), undo_undecided=False) if self._adaptive() else None

    def _adaptive(self) -> bool:
        lr = self.params.lr
        return lr is None or (isinstance(lr, str) and lr == "adaptive")

    def _init(self, x0, rng):
        p = self.params
        if p.steps is not None:
            horizon = p.steps
        elif self.budget is not None:
            horizon = max(self.budget // (2 * p.batch), 1)
        else:
            horizon = self.max_iter or 1000
        rule = None
        if self.rule is not None:  # the first length is delta: scale s with r0_frac * s * sqrt(d) = delta
            rule = self.rule.init(x0, scale=self.delta / (self.rule.r0_frac * math.sqrt(self.dim)))
        return GFMState(
            x=x0, t=0, v=np.zeros_like(x0), probe={}, horizon=int(horizon), mean=np.zeros_like(x0), rule=rule
        )

    def _reference(self, state) -> bool:
        """Whether the next batch also queries the last accepted point ``x_a`` at the trial's directions and
        samples: on a stochastic objective, when the centre is a trial (not ``x_a`` itself after an undo)."""
        if state.rule is None or not (state.sampled or self.samples_read):
            return False
        r = state.rule
        return math.isfinite(r["f_ref"]) and not r["recheck"] and not np.array_equal(state.x, r["x_ref"])

    def _batch_size(self, state):
        b = self.params.batch
        return 2 * b + (b if self._reference(state) else 0)

    def _ask(self, state, rng):
        X, state.probe = self._pairs([state.x], self.params.batch, rng)
        if self._reference(state):  # x_a at each pair's sample: b rows
            b = self.params.batch
            X = np.concatenate([X, np.repeat(state.rule["x_ref"][None], b, axis=0)])
            state.probe["xi"] = np.concatenate([state.probe["xi"], state.probe["xi"][:b]])
            state.probe["reference"] = True
        return self.project(X) if self.bounds is not None else X

    def _tell(self, state, X, values, rng):
        if state.rule is not None:
            return self._tell_adaptive(state, X, values)
        learned = self._learn(state, values, 1)
        g, ok = self._estimates(state, X, values, 1)
        if not ok[0]:
            return dataclasses.replace(
                state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1, **learned
            )
        w = max(1.0 / (state.t + 1 - state.n_skipped), self.params.batch / self.dim)
        mean = state.mean + w * (g[0] - state.mean)
        return self._step(state, g[0], mean=mean, stationarity=float(np.linalg.norm(mean)), **learned)

    def _tell_adaptive(self, state, X, values):
        """``lr="adaptive"``: the estimate at the trial ``x_t`` gives the direction, :class:`SuccessStep` the
        length and the verdict (``value``: the mean of the pair values at ``x_t``, an estimate of ``F(x_t; xi)``
        that is at least it for a convex ``F`` (so biased against the trial); ``reference``: ``F(x_a; xi_j)`` at
        the pairs' samples)."""
        sampled = state.sampled or self.samples_read
        reference = None
        b2 = 2 * self.params.batch
        if state.probe.get("reference", False):  # the last b rows: x_a at the pairs' samples
            reference = float(np.mean(values[b2:]))
            X, values = X[:b2], values[:b2]
        learned = self._learn(state, values, 1)
        g, ok = self._estimates(state, X, values, 1)
        value = float(np.mean(values))  # non-finite if any value is: a failed trial is undone
        gx = g[0] if ok[0] else None
        step, rule = self.rule.update(
            gx, state.rule, state.x, value=value, exact=False, reference=reference, sampled=sampled
        )
        x_sum, n_sum = state.x_sum, state.n_sum
        # a trial of the window
        if reference is not None and math.isfinite(reference) and math.isfinite(value):
            x_sum = state.x.copy() if n_sum == 0 else x_sum + state.x
            n_sum += 1
        if rule["n_undone"] > state.rule["n_undone"]:
            x_new = rule["x_ref"].copy()  # exactly the last accepted point
            x_sum, n_sum = None, 0
        elif rule["n_success"] > state.rule["n_success"] and n_sum:
            # the test said: the window's trials are lower than x_a on average; their mean point is then lower
            # still for a convex f (Jensen), and averages the sideways walk out (Polyak-Ruppert): accept it
            x_bar = x_sum / n_sum
            rule = dict(rule, x_ref=x_bar)
            x_new = x_bar + step
            x_sum, n_sum = None, 0
        else:
            x_new = state.x + step
            if not np.isfinite(x_new).all():
                x_new = state.x
            if rule["n_success"] > state.rule["n_success"]:
                x_sum, n_sum = None, 0
        if self.bounds is not None:
            x_new = self.project(x_new)
        fields = dict(
            learned, x=x_new, t=state.t + 1, rule=rule, probe={}, sampled=sampled, x_sum=x_sum, n_sum=n_sum
        )
        if gx is None:
            return evolve(state, n_skipped=state.n_skipped + 1, **fields)
        w = max(1.0 / (state.t + 1 - state.n_skipped), self.params.batch / self.dim)
        mean = state.mean + w * (gx - state.mean)
        return evolve(state, v=gx, mean=mean, stationarity=float(np.linalg.norm(mean)), **fields)

    @property
    def x(self) -> np.ndarray:
        """The current iterate; with ``lr="adaptive"`` the last **accepted** one (the trial after it is not yet
        judged), as for the gradient methods' step control."""
        r = self.state.rule
        if r is not None and math.isfinite(r["f_ref"]):
            return np.array(r["x_ref"], dtype=np.float64, copy=True)
        return self.state.x.copy()

    def outcome(self):
        out = super().outcome()
        out["iterate"] = self.x
        r = self.state.rule
        if r is not None:
            out["goldstein"].update(
                length=float(r["r"]), n_undone=int(r["n_undone"]), n_success=int(r["n_success"]),
                sampled=bool(self.state.sampled),
            )  # fmt: skip
        return out

    def _paper_lr(self, state):
        L = self.lipschitz(state)
        if not L > 0.0:
            return 0.0
        b, d = self.params.batch, self.dim
        return 0.1 * math.sqrt(
            self.delta * (self._gap(state) + self.delta * L) * b / (d**1.5 * L**3 * state.horizon)
        )
