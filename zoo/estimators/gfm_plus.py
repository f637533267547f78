"""GFM+, the gradient-free method with stochastic recursive estimates: Chen, Xu & Luo, *Faster gradient-free
algorithms for nonsmooth nonconvex stochastic optimization* (ICML 2023).

The two-point estimate of ``grad f_delta`` (:mod:`zoo.estimators.goldstein`) in a SPIDER recursion (Fang, Li,
Lin & Zhang, NeurIPS 2018): every ``m`` steps a large batch of ``b'`` direction-sample pairs refreshes the
estimate; in between, a small batch of ``b`` pairs corrects it by the change of the estimate between the last
two iterates, each pair's direction ``w_j`` and sample ``xi_j`` used at both (so the correction is small where
``F`` changes little)::

    t mod m == 0:  v_t = (1/b') sum_j g(x_t; w_j, xi_j)                                    2 b' queries
    otherwise:     v_t = v_{t-1} + (1/b) sum_j [g(x_t; w_j, xi_j) - g(x_{t-1}; w_j, xi_j)]   4 b queries
    x_{t+1} = x_t - eta v_t,    g(x; w, xi) = d / (2 delta) (F(x + delta w; xi) - F(x - delta w; xi)) w

The paper's choices: ``b = m = ceil(sqrt(b'))`` with ``b' ~ d L^2 / epsilon^2``, and ``eta = delta / (2 d L)``:
the per-pair estimate is ``d L / delta``-Lipschitz in ``x``, so the corrections add at most a quarter of
``||v||^2`` of variance per period. Then ``O(L^3 d^(3/2) eps^-3 + Delta L^2 d^(3/2) delta^-1 eps^-3)`` queries
reach a ``(delta, epsilon)``-Goldstein stationary point, an ``eps^-1`` better than GFM. zoo's defaults:
``refresh_batch=None`` is ``b' = d`` (``epsilon ~ L``, the coarsest level: one pair per dimension), ``q=None``
(the refresh period ``m``) and ``batch=None`` follow as ``ceil(sqrt(b'))``; ``L`` is estimated online
(:mod:`zoo.estimators.goldstein`); ``lr=`` a number or a schedule replaces ``eta``.

A refresh or a correction with no usable pair (every value non-finite) skips the step; a failed correction
also forces a refresh next, since ``v`` may then be stale. ``res.history["stationarity"]`` is ``||v_t||``, the
estimated Goldstein measure; ``res.iterate`` is the last iterate, the paper's output.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from zoo.core.registry import register
from zoo.core.validate import check_int
from zoo.estimators.goldstein import GoldsteinMethod, GoldsteinParams, GoldsteinState


@dataclasses.dataclass(frozen=True)
class GFMPlusParams(GoldsteinParams):
    refresh_batch: int | None = None  # b': pairs of a refresh; None: d
    q: int | None = None  # m: steps between two refreshes; None: ceil(sqrt(b'))
    batch: int | None = None  # b: pairs of a correction; None: m

    def check(self, dim: int) -> None:
        super().check(dim)
        if self.refresh_batch is not None:
            check_int(self.refresh_batch, "refresh_batch (pairs of a large-batch refresh)", 1)
        if self.q is not None:
            check_int(self.q, "q (the refresh period: steps between two large-batch refreshes)", 1)
        if self.batch is not None:
            check_int(self.batch, "batch (pairs of a correction step)", 1)


@dataclasses.dataclass
class GFMPlusState(GoldsteinState):
    x_prev: np.ndarray | None = None
    since: int = 0  # steps since the last refresh (0: refresh next)


@register("gfm+", "gfm-plus")
class GFMPlus(GoldsteinMethod):
    """GFM+ (Chen, Xu & Luo 2023): SPIDER-style recursive two-point estimates of the ball smoothing."""

    Params = GFMPlusParams
    State = GFMPlusState

    def _setup(self) -> None:
        super()._setup()
        p = self.params
        self.refresh_batch = p.refresh_batch if p.refresh_batch is not None else self.dim
        root = math.ceil(math.sqrt(self.refresh_batch))
        self.period = p.q if p.q is not None else root
        self.batch = p.batch if p.batch is not None else self.period

    def _init(self, x0, rng):
        return GFMPlusState(x=x0, t=0, v=np.zeros_like(x0), probe={}, x_prev=x0.copy(), since=0)

    def _refresh(self, state) -> bool:
        return state.since == 0 or state.since >= self.period

    def _batch_size(self, state):
        return 2 * self.refresh_batch if self._refresh(state) else 4 * self.batch

    def _ask(self, state, rng):
        if self._refresh(state):
            X, state.probe = self._pairs([state.x], self.refresh_batch, rng)
        else:
            X, state.probe = self._pairs([state.x, state.x_prev], self.batch, rng)
        return self.project(X) if self.bounds is not None else X

    def _tell(self, state, X, values, rng):
        refresh = self._refresh(state)
        rows = 1 if refresh else 2
        learned = self._learn(state, values, rows)
        g, ok = self._estimates(state, X, values, rows)
        if not ok.all():  # nothing usable: no step; a correction's v may be stale, so refresh next
            return dataclasses.replace(
                state, probe={}, t=state.t + 1, since=0, n_skipped=state.n_skipped + 1, **learned
            )
        v = g[0] if refresh else state.v + (g[0] - g[1])
        since = 1 if refresh else state.since + 1
        return self._step(
            state, v, x_prev=state.x.copy(), since=since, stationarity=float(np.linalg.norm(v)), **learned
        )

    def _paper_lr(self, state):
        L = self.lipschitz(state)
        return self.delta / (2.0 * self.dim * L) if L > 0.0 else 0.0
