"""ZO-RankSGD: optimization from rankings alone (Tang, Xiao, Dong, Hastie & Lee, "Zeroth-order optimization
meets human feedback: provable learning via ranking oracles", 2023).

Estimate (one batch of ``m`` points): ``xi_1..xi_m ~ N(0, I)``, query ``x + mu * xi_i``, receive comparisons
("i beats j": i is better, lower f) and form::

    g = (1/|E|) * sum over edges (i beats j) of (xi_j - xi_i) = (1/|E|) * sum_i w_i xi_i

with ``w_i`` = (times i loses) - (times i wins) (:mod:`zoo.core.ranking`). A top-k ranking implies every
ranked point beats each lower-ranked and each unranked one: rank ``r`` (0-based) gets ``w = 2r - m + 1``,
unranked points ``w = +k`` -- for a full ranking the centred linear rank weights of rank-shaped ES (one
shared function, :func:`zoo.core.ranking.rank_weights`). ``-g`` points towards the better points: a descent
direction.

Any answer gives a direction: a full ranking, a top-k list, a few pairs, or an inconsistent (cyclic) pair
list from a person -- the edges of a cycle partly cancel, nothing breaks; cycles are counted in
``state.n_cycles`` (answers with at least one cycle: ``state.n_cyclic_answers``).

Step (default): the ranking line search of :mod:`zoo.updates.line_search` -- the next batch is ``x`` and
``x - eta * gamma^i * d(g)`` (``i < n_trials``), ranked by the same oracle; the best becomes the new ``x``.
So ``ask`` alternates an estimation batch (``m`` points) and a search batch (``n_trials + 1`` points); the
phase is ``state.search["phase"]``. With ``line_search=False`` an update rule (``update``, ``lr``) takes
the step instead and every batch is an estimation batch.

Feedback: ``tell(X, ranking=[...])`` (indices into the batch ``ask`` returned, best first, top-k allowed),
``tell(X, pairs=[(i, j), ...])``, or ``tell(X, values)`` (turned into the full ranking; ``zoo.minimize`` runs
it that way). Options: ``popsize`` (``m``, points per estimate, 10; ``m=`` is the deprecated name),
``antithetic`` (False: True queries ``x +- mu xi``, m even), ``mu`` (None: ``0.1 * eta / sqrt(d)``, a probe of
length a tenth of the current trial length ``eta``, so it follows the scale; a probe as short as ``1e-3 eta``
ranks pure noise on a noisy objective, issue 16), ``line_search`` (True), ``eta`` (None:
``0.1 * zoo.updates.length_scale(x0, bounds) * sqrt(d)``),
``gamma`` (0.5), ``n_trials`` (4), ``direction`` ("unit"), ``adapt`` (True), ``update``/``lr`` (sgd, 0.01).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.feedback import Comparisons, comparisons_from_values
from zoo.core.ranking import edge_weights, rank_weights
from zoo.core.registry import register
from zoo.core.renamed import RenamedOptions
from zoo.core.validate import check_int
from zoo.estimators.base import GradientMethod, GradientParams, GradientState
from zoo.estimators.formulas import probes, rank
from zoo.updates.base import LearningRate, Transform
from zoo.updates.line_search import LineSearchPhases, RankingLineSearch
from zoo.updates.step_control import length_scale

__all__ = ["RankSGD", "RankSGDParams", "RankState", "edge_weights", "rank_weights"]


@dataclasses.dataclass(frozen=True)
class RankSGDParams(GradientParams):
    popsize: int = 10  # m, points compared per estimate (was m)
    antithetic: bool = False
    line_search: bool = True
    eta: float | None = None
    gamma: float = 0.5
    n_trials: int = 4
    direction: str = "unit"
    adapt: bool = True
    update: str | Transform = "sgd"
    lr: LearningRate = 0.01

    def check(self, dim: int) -> None:
        super().check(dim)
        check_int(self.popsize, "popsize (points compared per estimate, was m)", 2)
        if self.antithetic and self.popsize % 2:
            raise ValueError(
                f"antithetic=True pairs each xi with -xi, so popsize must be even, got popsize={self.popsize}"
            )
        if self.line_search:
            self.search_rule()  # validates eta, gamma, n_trials, direction

    def search_rule(self) -> RankingLineSearch:
        return RankingLineSearch(
            eta=1.0 if self.eta is None else self.eta,
            gamma=self.gamma,
            n_trials=self.n_trials,
            direction=self.direction,
            adapt=self.adapt,
        )


@dataclasses.dataclass
class RankState(GradientState):
    search: dict[str, Any] = dataclasses.field(default_factory=dict)
    n_cycles: int = 0
    n_cyclic_answers: int = 0


@register("rank-sgd", "zo-ranksgd")
class RankSGD(RenamedOptions, LineSearchPhases, GradientMethod):
    """ZO-RankSGD (Tang et al. 2023): directions from rankings or comparisons + a ranking line search."""

    Params = RankSGDParams
    State = RankState
    renamed_options = {"m": "popsize"}
    feedback = "ranking"
    controlled = False  # no values to judge a step by: the line search (or the plain rule) steps

    def _setup(self) -> None:
        super()._setup()
        self.line_search = self.params.search_rule() if self.params.line_search else None

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> RankState:
        base = super()._init(x0, rng)
        search = self.line_search.init() if self.line_search is not None else {}
        if search and self.params.eta is None:  # the first trial length from the problem's scale
            search["eta"] = 0.1 * length_scale(x0, self.bounds) * math.sqrt(x0.size)
        return RankState(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, search=search)

    def _batch_size(self, state: RankState) -> int:
        return int(self.params.popsize)  # an estimation batch (LineSearchPhases sizes the search batches)

    def _centre_row(self, state: RankState) -> int | None:
        return None  # rows x + mu xi_j: none at x (and no step control reads it: controlled = False)

    def _probe(self, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
        # antithetic: mirrored directions xi and -xi (zoo's addition, as in ES)
        xi = probes.rank_directions(rng, int(self.params.popsize), x.shape[0], self.params.antithetic)
        mu = self._mu(self.state)
        return probes.shifted(x[None, :], xi[None], mu)[0], {"xi": xi, "mu": mu}

    def _mu(self, state: RankState) -> float:
        """``mu`` if given, else ``0.1 * eta / sqrt(d)``: a Gaussian probe of length a tenth of the line search's
        current trial length (the ratio of :class:`zoo.updates.SuccessStep`), so it follows the scale and stays
        wide enough that the ranking of a noisy objective still carries the slope."""
        if self.params.mu is not None:
            return float(self.params.mu)
        if state.search.get("eta") is not None:
            return 0.1 * float(state.search["eta"]) / math.sqrt(state.x.size)
        return 0.1 * length_scale(self.x0, self.bounds)

    def _estimate(self, state: RankState, X: np.ndarray, feedback: Comparisons) -> np.ndarray | None:
        if feedback.n_edges == 0:
            return None
        xi = state.probe["xi"] if self.bounds is None else (X - state.x[None, :]) / float(state.probe["mu"])
        g, _ = rank.estimate(feedback.weights()[None, :], np.array([feedback.n_edges]), xi[None])
        return g[0]

    def _tell(self, state: RankState, X: np.ndarray, feedback: Any, rng: np.random.Generator) -> RankState:
        cycles = feedback.n_cycles if isinstance(feedback, Comparisons) else 0
        new = super()._tell(state, X, feedback, rng)
        if not isinstance(new, RankState):  # GradientMethod's update-rule step builds a plain GradientState
            fields = {f.name: getattr(new, f.name) for f in dataclasses.fields(new)}
            new = RankState(
                **fields,
                search=state.search,
                n_cycles=state.n_cycles,
                n_cyclic_answers=state.n_cyclic_answers,
            )
        if cycles:
            new = dataclasses.replace(
                new, n_cycles=state.n_cycles + cycles, n_cyclic_answers=state.n_cyclic_answers + 1
            )
        return new

    def _track_best_from_ranking(self, X: np.ndarray, comparisons: Comparisons) -> None:
        # with rankings only, the iterate is the best point known (the line search never leaves a better one)
        self._best_x = self.state.x.copy()

    def estimate_gradient(self, fun: Any, x: Any | None = None) -> np.ndarray:
        """One estimate at ``x`` (default: the iterate) without stepping or counting: ``fun(X)`` returns
        values (turned into the full ranking) or :class:`Comparisons` (e.g. a ``RankOracle``)."""
        x = self.state.x if x is None else np.asarray(x, dtype=np.float64)
        X, probe = self._probe(x, self.rng)
        answer = fun(X)
        if not isinstance(answer, Comparisons):
            values = np.asarray(answer, dtype=np.float64)
            answer = comparisons_from_values(np.where(np.isfinite(values), values, np.inf))
        g = self._estimate(dataclasses.replace(self.state, x=x, probe=probe), X, answer)
        return np.zeros_like(x) if g is None else g

    @property
    def phase(self) -> str:
        """``"estimate"`` or ``"search"``: what the next ``ask`` is for."""
        return str(self.state.search.get("phase", "estimate"))

    def _state_from_dict(self, d: dict[str, Any]) -> RankState:
        search = dict(d.get("search") or {})
        if search.get("direction") is not None:
            search["direction"] = np.asarray(search["direction"], dtype=np.float64)
        d["search"] = search
        return RankState(**d)
