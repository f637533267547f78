"""Methods that use only the order of a batch accept rankings as well as values.

CMA-ES (and every restart wrapper or portfolio around it) is invariant to monotone transformations of ``f``:
its updates read only the order of the batch (Hansen 2016, arXiv:1604.00772, Sec. 2). So besides
``tell(X, values)`` these methods take ``tell(X, ranking=...)`` or ``tell(X, pairs=...)``; the values path is
unchanged (pycma's value-based termination keeps working), a ranking is turned into *order values*
(:func:`order_values`) that the method ranks exactly as the answer does.

Top-k answers: the unranked points get no weight (marked ``+inf`` here; the CMA bridge tells them as copies of
the mean, whose zero deviation adds nothing to the mean, covariance and step-size updates). Pairs: the order of
the Copeland scores (net wins); points in no pair get no weight. Equal order values are ties: pycma breaks them
by position in the batch, whose order is that of independent samples, so a tie is a tie in expectation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.core.feedback import Comparisons
from zoo.core.ranking import copeland_scores


def order_values(c: Comparisons) -> np.ndarray:
    """Values in the order of the answer: the rank (0 = best) of each ranked point (tied points share the mean
    of their positions), minus the Copeland score for pairs (a tie adds no edge); ``+inf`` for points the answer
    does not rank (no weight)."""
    v = np.full(c.n, np.inf)
    if c.ranking is not None:
        pos = np.arange(len(c.ranking), dtype=np.float64)
        if c.groups is not None and len(pos):  # a tie group shares one value: the mean of its positions
            pos = (np.bincount(c.groups, weights=pos) / np.bincount(c.groups))[c.groups]
        v[c.ranking] = pos
        return v
    pairs = c.pairs
    named = np.unique(pairs.ravel())
    v[named] = -np.asarray(copeland_scores(c.n, pairs), dtype=np.float64)[named]
    return v


class AcceptsRankings:
    """Mixin for an :class:`~zoo.core.method.Method` whose class ``feedback`` is ``"values"``: a
    ``ranking=`` / ``pairs=`` answer reaches ``_tell`` as a :class:`~zoo.core.feedback.Comparisons`, values as
    an array (the core's checks of both apply)."""

    def tell(self, X: Any, values: Any = None, *, ranking: Any = None, pairs: Any = None) -> None:
        if values is None and (ranking is not None or pairs is not None):
            self.feedback = "ranking"  # this call only: the core turns the answer into Comparisons
            try:
                super().tell(X, ranking=ranking, pairs=pairs)
            finally:
                del self.feedback
        else:
            super().tell(X, values, ranking=ranking, pairs=pairs)

    def _track_best_from_ranking(self, X: np.ndarray, comparisons: Comparisons) -> None:
        # a wrapper keeps the point its inner run keeps (rank-sgd's iterate, cma's winner or mean), taken by
        # forward() before a restart replaces the inner; without it, an answer naming no single winner
        # (disjoint pairs) would leave the wrapper at x0 for the whole run
        inner_best = getattr(self, "_inner_best_x", None)
        if inner_best is not None:
            self._best_x = inner_best
            self._inner_best_x = None
        else:
            super()._track_best_from_ranking(X, comparisons)  # type: ignore[misc]


def forward(inner: Any, X: np.ndarray, feedback: Any, outer: Any = None) -> None:
    """Tell ``inner`` the feedback a wrapper received (values, or the ranking / pairs it came as); with
    rankings, the wrapper ``outer`` notes the inner's best point (see ``AcceptsRankings``)."""
    if isinstance(feedback, Comparisons):
        inner.tell(X, **feedback.as_kwargs())
        if outer is not None:
            outer._inner_best_x = inner.best[0]
    else:
        inner.tell(X, feedback)
