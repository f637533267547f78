"""Ranking line search: the step length of a direction-only estimate, chosen by the same oracle.

ZO-RankSGD (Tang et al., 2023, Algorithm 2) estimates a direction ``g`` only (a ranking says nothing about
scale), so the step comes from one more oracle call: rank the ``l + 1`` points::

    x,  x - eta * gamma^0 * g,  x - eta * gamma^1 * g,  ...,  x - eta * gamma^(l-1) * g

and move to the best (``gamma = 0.5``, ``l = 4`` by default). ``x`` takes part, so a bad direction or too
long steps never make things worse: the iterate stays. Only the best of the batch is needed, so a top-1
answer, a full ranking, pairwise comparisons or plain values all work.

zoo's addition (``adapt=True``, default; ``adapt=False`` is the paper's fixed ``eta``): after each search
the scale follows the winner, ``eta <- eta * gamma^(t* - 1)`` when step ``t*`` wins (so the largest step
winning doubles ``eta``), and ``eta <- eta * gamma`` when ``x`` wins.
``direction``: ``"raw"`` uses ``g`` as estimated; ``"unit"`` uses ``g / ||g||`` (then ``eta`` is a length);
``"sign"`` uses ``sign(g)`` (sign-SGD's direction).

Reuse: :class:`LineSearchPhases` is a mixin for any estimate-then-step method (``GradientMethod`` shape:
``_probe`` / ``_estimate``; its State has a ``search`` dict). ``ask``/``tell`` then alternate an estimation
batch and a search batch; the phase lives in ``state.search["phase"]``, so ``state_dict`` resumes in either.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

_DIRECTIONS = ("raw", "unit", "sign")


@dataclasses.dataclass(frozen=True)
class RankingLineSearch:
    """``x - eta * gamma^i * d(g)`` for ``i < n_trials``, together with ``x``; keep the best."""

    eta: float = 1.0
    gamma: float = 0.5
    n_trials: int = 4
    direction: str = "raw"
    adapt: bool = True

    def __post_init__(self) -> None:
        if not (np.isfinite(self.eta) and self.eta > 0):
            raise ValueError(f"line search eta (largest trial step) must be positive, got {self.eta!r}")
        if not 0 < self.gamma < 1:
            raise ValueError(f"line search gamma (step shrink factor) must lie in (0, 1), got {self.gamma!r}")
        if isinstance(self.n_trials, bool) or int(self.n_trials) != self.n_trials or self.n_trials < 1:
            raise ValueError(f"line search n_trials (l) must be a positive int, got {self.n_trials!r}")
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"line search direction must be one of {_DIRECTIONS}, got {self.direction!r}")

    @property
    def batch_size(self) -> int:
        return int(self.n_trials) + 1

    def init(self) -> dict[str, Any]:
        """The search's part of an optimizer state (plain, so ``state_dict`` holds it)."""
        return {"phase": "estimate", "direction": None, "eta": float(self.eta), "n_searches": 0, "n_stays": 0}

    def steps(self, eta: float) -> np.ndarray:
        """The trial step lengths ``eta * gamma^i``, ``i < n_trials``."""
        return eta * self.gamma ** np.arange(self.n_trials)

    def shape_direction(self, g: np.ndarray) -> np.ndarray | None:
        """``g`` as the search uses it; None when it carries no direction (zero or non-finite)."""
        if not np.all(np.isfinite(g)):
            return None
        norm = float(np.linalg.norm(g))
        if norm == 0.0:
            return None
        if self.direction == "unit":
            return g / norm
        if self.direction == "sign":
            return np.sign(g)
        return g

    def candidates(self, x: np.ndarray, direction: np.ndarray, eta: float) -> np.ndarray:
        """The batch to rank: row 0 is ``x``, row ``i + 1`` is ``x - eta * gamma^i * direction``."""
        return np.concatenate([x[None, :], x[None, :] - self.steps(eta)[:, None] * direction[None, :]])

    @staticmethod
    def choose(feedback: Any) -> int:
        """Index of the best candidate: from values (argmin; ties keep ``x``) or from
        :class:`~zoo.core.feedback.Comparisons` (top of the ranking, else most net wins)."""
        if isinstance(feedback, np.ndarray):
            return int(np.argmin(feedback))
        return int(feedback.best())

    def next_eta(self, eta: float, chosen: int) -> float:
        """The scale for the next search (unchanged without ``adapt``)."""
        if not self.adapt:
            return eta
        if chosen == 0:
            return eta * self.gamma
        return eta * self.gamma ** (chosen - 2)


class LineSearchPhases:
    """Mixin: alternate an estimation batch (``_probe``/``_estimate``) and a line-search batch.

    Host requirements: a ``GradientMethod``-shaped estimator whose State has fields ``x, t, probe, g,
    n_skipped`` and a dict ``search`` (from :meth:`RankingLineSearch.init`), and a ``self.line_search``
    (a :class:`RankingLineSearch`, or None to use the host's update rule instead). Put the mixin first in the
    bases so its ``_ask``/``_tell``/``_batch_size`` run.
    """

    line_search: RankingLineSearch | None = None

    def _batch_size(self, state: Any) -> int:
        if self.line_search is not None and state.search.get("phase") == "search":
            return self.line_search.batch_size
        return super()._batch_size(state)  # type: ignore[misc]

    def _ask(self, state: Any, rng: np.random.Generator) -> np.ndarray:
        if self.line_search is None or state.search.get("phase") != "search":
            return super()._ask(state, rng)  # type: ignore[misc]
        X = self.line_search.candidates(state.x, np.asarray(state.search["direction"]), state.search["eta"])
        return self.project(X) if self.bounds is not None else X  # type: ignore[attr-defined]

    def _tell(self, state: Any, X: np.ndarray, feedback: Any, rng: np.random.Generator) -> Any:
        ls = self.line_search
        if ls is None:
            return super()._tell(state, X, feedback, rng)  # type: ignore[misc]
        search = dict(state.search)  # never write into the state we were given
        if search.get("phase") == "search":
            chosen = ls.choose(feedback)
            search.update(
                phase="estimate",
                direction=None,
                eta=ls.next_eta(float(search["eta"]), chosen),
                n_searches=int(search["n_searches"]) + 1,
                n_stays=int(search["n_stays"]) + int(chosen == 0),
            )
            return dataclasses.replace(state, x=X[chosen].copy(), search=search)
        g = self._estimate(state, X, feedback)  # type: ignore[attr-defined]
        direction = None if g is None else ls.shape_direction(np.asarray(g))
        if direction is None:  # nothing usable: skip the search, estimate again
            return dataclasses.replace(state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1)
        search.update(phase="search", direction=direction)
        return dataclasses.replace(state, probe={}, t=state.t + 1, g=g, search=search)
