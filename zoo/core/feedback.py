"""Rank feedback: :class:`Comparisons`, the normalized form of a ranking or a list of pairwise comparisons.

A top-k ``ranking`` (indices into the batch, best first) and/or ``pairs`` ("i beats j" edges).
:func:`normalize_comparisons` validates user answers; :func:`comparisons_from_values` gives the full ranking
that values imply. Cyclic (inconsistent) pair lists are valid answers; :attr:`Comparisons.n_cycles` counts
their cycles.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core.ranking import (
    copeland_scores,
    cycle_rank,
    edge_weights,
    n_ranking_edges,
    rank_weights,
)


@dataclasses.dataclass(frozen=True)
class Comparisons:
    """Validated rank feedback on a batch of ``n`` points.

    ``ranking``: indices best first (top-k allowed, ``k <= n``), or None when only pairs were given.
    ``pairs``: int array ``(E, 2)`` of edges ``(winner, loser)``.
    """

    n: int
    ranking: np.ndarray | None
    pairs_given: np.ndarray | None = None

    @property
    def pairs(self) -> np.ndarray:
        """Every implied edge: a ranked point beats each lower-ranked and each unranked point."""
        if self.pairs_given is not None:
            return self.pairs_given
        r = self.ranking
        assert r is not None
        unranked = np.setdiff1d(np.arange(self.n), r, assume_unique=True)
        edges = [(int(r[a]), int(r[b])) for a in range(len(r)) for b in range(a + 1, len(r))]
        edges += [(int(w), int(u)) for w in r for u in unranked]
        return np.array(edges, dtype=np.int64).reshape(-1, 2)

    @property
    def n_edges(self) -> int:
        """``|E|``, the number of "i beats j" comparisons (implied by a ranking, or given)."""
        if self.pairs_given is not None:
            return len(self.pairs_given)
        assert self.ranking is not None
        return n_ranking_edges(self.n, len(self.ranking))

    def weights(self) -> np.ndarray:
        """Per-point weights ``w_i`` = losses - wins, so that ``sum over edges (xi_j - xi_i) = w @ xi``.
        A ranking uses the closed form of :func:`zoo.core.ranking.rank_weights` (centred linear ranks)."""
        if self.pairs_given is not None:
            return edge_weights(self.n, self.pairs_given)
        assert self.ranking is not None
        return rank_weights(self.n, self.ranking)

    @property
    def n_cycles(self) -> int:
        """Independent cycles in the answer (0 for a ranking or any consistent pair list)."""
        if self.pairs_given is None:
            return 0
        return cycle_rank(self.n, self.pairs_given)

    def best(self) -> int:
        """The point to keep: the top of a ranking, else the most net wins (Copeland); ties go to the
        lowest index."""
        if self.ranking is not None and len(self.ranking):
            return int(self.ranking[0])
        return int(np.argmax(copeland_scores(self.n, self.pairs)))

    def as_kwargs(self) -> dict[str, Any]:
        """``opt.tell(X, **c.as_kwargs())``: the answer as ``ranking=`` or ``pairs=``."""
        if self.pairs_given is not None:
            return {"pairs": self.pairs_given.copy()}
        assert self.ranking is not None
        return {"ranking": self.ranking.copy()}

    def winner(self) -> int | None:
        """The batch's best point when the feedback names one (the top of a ranking, or the unique
        point that wins a comparison and loses none)."""
        if self.ranking is not None and len(self.ranking):
            return int(self.ranking[0])
        p = self.pairs
        unbeaten = np.setdiff1d(np.unique(p[:, 0]), p[:, 1])
        return int(unbeaten[0]) if len(unbeaten) == 1 else None


def comparisons_from_values(values: np.ndarray) -> Comparisons:
    """The full ranking that values imply (stable; non-finite values, already +inf, rank last)."""
    return Comparisons(n=len(values), ranking=np.argsort(values, kind="stable"))


def _as_index_array(obj: Any, what: str) -> np.ndarray:
    arr = np.asarray(obj)
    if arr.size == 0:
        raise ValueError(f"{what} is empty: name at least one point")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{what} must hold integer indices into the batch, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def normalize_comparisons(n: int, *, ranking: Any = None, pairs: Any = None) -> Comparisons:
    """Validate a ranking or a pair list against a batch of ``n`` points; raise a clear error otherwise."""
    if ranking is not None:
        r = _as_index_array(ranking, "ranking")
        if r.ndim != 1:
            raise ValueError(f"ranking must be a flat list of indices, got shape {r.shape}")
        out = (r < 0) | (r >= n)
        if out.any():
            raise ValueError(f"ranking index {int(r[out][0])} is outside the batch (valid: 0..{n - 1})")
        uniq, counts = np.unique(r, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"ranking names point {int(uniq[counts > 1][0])} more than once")
        return Comparisons(n=n, ranking=r)
    p = _as_index_array(pairs, "pairs")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"pairs must be a list of (winner, loser) pairs, got shape {p.shape}")
    out = (p < 0) | (p >= n)
    if out.any():
        raise ValueError(f"pair index {int(p[out][0])} is outside the batch (valid: 0..{n - 1})")
    same = p[:, 0] == p[:, 1]
    if same.any():
        raise ValueError(f"pair {tuple(int(v) for v in p[same][0])} says a point beats itself")
    return Comparisons(n=n, ranking=None, pairs_given=p)
