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
reach a ``(delta, epsilon)``-Goldstein stationary point, an ``eps^-1`` better than GFM.

zoo's defaults keep the recursion and the paper's ``b = m = ceil(sqrt(b'))`` and replace the two constants a
black box does not give (``L``, ``epsilon``) by self-adapting rules:

- ``refresh_batch=None``: ``b'`` starts at ``d`` and doubles (up to ``256 d``) whenever a refresh fails the norm
  test (its own pairs' standard error exceeds ``||v||``: Byrd, Chin, Nocedal & Wu, Math. Program. 2012), i.e.
  ``epsilon`` is the gradient norm actually met. A number fixes ``b'``; ``q`` (the period ``m``) and ``batch``
  fix ``m`` and ``b``.
- ``lr=None`` (``"adaptive"``): a step of length ``r`` along ``-v_t / ||v_t||``; each correction's pairs give at
  common directions and samples an estimate of ``f_delta(x_t) - f_delta(x_{t-1})``, the effect of the last
  step: ``r`` grows 1.25x after a significant decrease (mean below minus its standard error) and halves
  otherwise, and a significant increase undoes the step (back to ``x_{t-1}``, whose estimate ``v_{t-1}`` is
  still valid): zoo's success rule, judged with no extra query and no comparison across samples; ``r`` starts
  at ``0.1 s sqrt(d)`` like zoo's step control.
  ``lr="paper"`` is the paper's ``eta = delta / (2 d L_hat)`` (L estimated online,
  :mod:`zoo.estimators.goldstein`), ``"normalized"`` a step of length ``delta``, a number or a schedule a plain
  rate.

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
    refresh_n: int = 0  # b', the pairs of the next refresh (grown by the norm test when refresh_batch=None)
    n_undone: int = 0  # lr="adaptive": steps undone (the correction said f_delta went up)


@register("gfm+", "gfm-plus")
class GFMPlus(GoldsteinMethod):
    """GFM+ (Chen, Xu & Luo 2023): SPIDER-style recursive two-point estimates of the ball smoothing."""

    Params = GFMPlusParams
    State = GFMPlusState

    default_lr = "adaptive"
    #: the norm test grows b' up to this many times d
    max_refresh_factor = 256

    def _init(self, x0, rng):
        p = self.params
        return GFMPlusState(
            x=x0, t=0, v=np.zeros_like(x0), probe={}, x_prev=x0.copy(), since=0, length=self._first_length(),
            refresh_n=p.refresh_batch if p.refresh_batch is not None else self.dim,
        )  # fmt: skip

    def period(self, state=None) -> int:
        """``m``: ``q``, else ``ceil(sqrt(b'))``."""
        s = self.state if state is None else state
        return self.params.q if self.params.q is not None else math.ceil(math.sqrt(s.refresh_n))

    def batch(self, state=None) -> int:
        """``b``: ``batch``, else ``m``."""
        return self.params.batch if self.params.batch is not None else self.period(state)

    def _refresh(self, state) -> bool:
        return state.since == 0 or state.since >= self.period(state)

    def _batch_size(self, state):
        return 2 * state.refresh_n if self._refresh(state) else 4 * self.batch(state)

    def _ask(self, state, rng):
        if self._refresh(state):
            X, state.probe = self._pairs([state.x], state.refresh_n, rng)
        else:
            X, state.probe = self._pairs([state.x, state.x_prev], self.batch(state), rng)
        return self.project(X) if self.bounds is not None else X

    def _norm_test(self, state, values: np.ndarray, v: np.ndarray) -> int:
        """``refresh_batch=None``: the next ``b'``. The refresh's own pairs estimate the variance of one pair's
        estimate, ``s^2 = mean_j ||g_j||^2 - ||v||^2`` (``||g_j|| = sqrt(d) |F+ - F-| / (2 mu)``); when the
        standard error ``s / sqrt(b')`` exceeds ``||v||`` the estimate is mostly noise and ``b'`` doubles (the
        norm test of Byrd, Chin, Nocedal & Wu, Math. Program. 2012; the paper's ``b' ~ d L^2 / eps^2`` with
        ``eps`` the gradient norm actually met), up to ``256 d``."""
        n = state.refresh_n
        if self.params.refresh_batch is not None:
            return n
        V = values.reshape(2, -1)
        ok = np.isfinite(V).all(axis=0)
        if ok.sum() < 2:
            return n
        sq = self.dim * float(np.mean(((V[0, ok] - V[1, ok]) / (2.0 * self.mu)) ** 2))
        var = max(sq - float(v @ v), 0.0) * ok.sum() / (ok.sum() - 1)
        if var / n > float(v @ v):
            return min(2 * n, self.max_refresh_factor * self.dim)
        return n

    def _tell(self, state, X, values, rng):
        refresh = self._refresh(state)
        rows = 1 if refresh else 2
        learned = self._learn(state, values, rows)
        g, ok = self._estimates(state, X, values, rows)
        if not ok.all():  # nothing usable: no step; a correction's v may be stale, so refresh next
            return dataclasses.replace(
                state, probe={}, t=state.t + 1, since=0, n_skipped=state.n_skipped + 1, **learned
            )
        since = 1 if refresh else state.since + 1
        refresh_n = self._norm_test(state, values, g[0]) if refresh else state.refresh_n
        length = state.length
        if not refresh and (self.params.lr or self.default_lr) == "adaptive":
            verdict = self._verdict(values)
            length = state.length * (1.25 if verdict < 0 else 0.5)
            if verdict > 0:  # the last step raised f_delta: undo it; v, the estimate at x_{t-1}, stays valid
                back = dataclasses.replace(state, x=state.x_prev)
                return self._step(
                    back, state.v, x_prev=state.x_prev.copy(), since=since, length=length,
                    stationarity=float(np.linalg.norm(state.v)), n_undone=state.n_undone + 1, **learned,
                )  # fmt: skip
        v = g[0] if refresh else state.v + (g[0] - g[1])
        return self._step(
            state, v, x_prev=state.x.copy(), since=since, stationarity=float(np.linalg.norm(v)), length=length,
            refresh_n=refresh_n, **learned,
        )  # fmt: skip

    @staticmethod
    def _verdict(values: np.ndarray) -> int:
        """``lr="adaptive"``: the correction's pairs give, at common samples and directions, ``b`` estimates
        ``D_j`` of ``f_delta(x_t) - f_delta(x_{t-1})``, the effect of the last step: ``-1`` for a significant
        decrease (``mean D < -stderr D``), ``+1`` for a significant increase, ``0`` undecided."""
        V = values.reshape(2, 2, -1)  # (centre, sign, pair)
        ok = np.isfinite(V).all(axis=(0, 1))
        if not ok.any():
            return 0
        D = 0.5 * (V[0, 0, ok] + V[0, 1, ok] - V[1, 0, ok] - V[1, 1, ok])
        mean = float(np.mean(D))
        se = float(np.std(D)) / math.sqrt(D.size) if D.size > 1 else 0.0
        return -1 if mean < -se else (1 if mean > se else 0)

    def outcome(self):
        out = super().outcome()
        out["goldstein"].update(refresh_batch=int(self.state.refresh_n), n_undone=int(self.state.n_undone))
        return out

    def _paper_lr(self, state):
        L = self.lipschitz(state)
        return self.delta / (2.0 * self.dim * L) if L > 0.0 else 0.0
