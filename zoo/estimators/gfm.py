"""GFM, the gradient-free method for nonsmooth nonconvex (stochastic) problems: Lin, Zheng & Jordan,
*Gradient-free methods for deterministic and stochastic nonsmooth nonconvex optimization* (NeurIPS 2022).

Each step draws ``b`` directions ``w_j`` uniform on the unit sphere and ``b`` samples ``xi_j`` and moves along
the two-point estimate of ``grad f_delta`` (:mod:`zoo.estimators.goldstein`, the estimate core's central
difference)::

    g_t = (1/b) sum_j d / (2 delta) * (F(x_t + delta w_j; xi_j) - F(x_t - delta w_j; xi_j)) * w_j
    x_{t+1} = x_t - eta g_t

``2b`` queries per step (the paper: ``b = 1``). Step: ``lr=None`` (``"normalized"``) moves a length ``delta``
along ``-g_t / ||g_t||``, the Goldstein descent step (Zhang, Lin, Jegelka, Sra & Jadbabaie, ICML 2020), which
needs neither ``L`` nor a horizon; ``lr="paper"`` is the paper's constant step for a horizon of ``T`` steps,
with a batch of ``b`` (whose variance is ``b`` times smaller)::

    eta = (1/10) * sqrt(delta * (Delta + delta L) * b / (d^(3/2) L^3 T))

``L`` and ``Delta`` estimated online (:mod:`zoo.estimators.goldstein`), ``T`` = ``steps`` or the steps the budget
allows (``budget / (2b)``, else ``max_iter``, else 1000). With it GFM reaches a ``(delta, epsilon)``-Goldstein
stationary point (in expectation, at a random iterate) within ``O(L^4 d^(3/2) eps^-4 + Delta L^3 d^(3/2)
delta^-1 eps^-4)`` queries. On the benchmarks of issue 15 it barely moves in 20,000 queries (its ``eta`` is
set by the worst case), hence the default. ``lr=`` a number or a schedule ``lr(t)`` is a plain SGD rate.

History: ``res.history["stationarity"]``, the norm of a running mean of the estimates over the last ``~d / b``
steps (one estimate's norm is about ``sqrt(d)`` times the gradient's: noise); ``res.iterate`` is the last
iterate, the papers' output (``res.x`` is the best value sampled, which for a stochastic objective is the luckiest
sample, not the best point).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from zoo.core.registry import register
from zoo.core.validate import check_int
from zoo.estimators.goldstein import GoldsteinMethod, GoldsteinParams, GoldsteinState


@dataclasses.dataclass(frozen=True)
class GFMParams(GoldsteinParams):
    batch: int = 1  # b: direction-sample pairs per step
    steps: int | None = None  # T, the horizon of the step size; None: from the budget

    def check(self, dim: int) -> None:
        super().check(dim)
        if self.lr == "adaptive":
            raise ValueError(
                "lr='adaptive' judges each step by paired queries at two consecutive iterates, which gfm does "
                "not make; use gfm+ or lr='normalized' / 'paper' / a number"
            )
        check_int(self.batch, "batch (direction-sample pairs per step)", 1)
        if self.steps is not None:
            check_int(self.steps, "steps (the horizon T of the step size)", 1)


@dataclasses.dataclass
class GFMState(GoldsteinState):
    horizon: int = 1000
    mean: np.ndarray | None = None  # running mean of the estimates (the stationarity record)


@register("gfm")
class GFM(GoldsteinMethod):
    """Gradient-free method (Lin, Zheng & Jordan 2022): SGD on the two-point estimate of the ball smoothing."""

    Params = GFMParams
    State = GFMState
    default_lr = "normalized"

    def _init(self, x0, rng):
        p = self.params
        if p.steps is not None:
            horizon = p.steps
        elif self.budget is not None:
            horizon = max(self.budget // (2 * p.batch), 1)
        else:
            horizon = self.max_iter or 1000
        return GFMState(
            x=x0, t=0, v=np.zeros_like(x0), probe={}, horizon=int(horizon), mean=np.zeros_like(x0)
        )

    def _batch_size(self, state):
        return 2 * self.params.batch

    def _ask(self, state, rng):
        X, state.probe = self._pairs([state.x], self.params.batch, rng)
        return self.project(X) if self.bounds is not None else X

    def _tell(self, state, X, values, rng):
        learned = self._learn(state, values, 1)
        g, ok = self._estimates(state, X, values, 1)
        if not ok[0]:
            return dataclasses.replace(
                state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1, **learned
            )
        w = max(1.0 / (state.t + 1 - state.n_skipped), self.params.batch / self.dim)
        mean = state.mean + w * (g[0] - state.mean)
        return self._step(state, g[0], mean=mean, stationarity=float(np.linalg.norm(mean)), **learned)

    def _paper_lr(self, state):
        L = self.lipschitz(state)
        if not L > 0.0:
            return 0.0
        b, d = self.params.batch, self.dim
        return 0.1 * math.sqrt(
            self.delta * (self._gap(state) + self.delta * L) * b / (d**1.5 * L**3 * state.horizon)
        )
