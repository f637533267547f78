"""Rank feedback: :class:`Comparisons`, the normalized form of a ranking or a list of pairwise comparisons.

A top-k ``ranking`` (indices into the batch, best first) and/or ``pairs`` ("i beats j" edges).
:func:`normalize_comparisons` validates user answers; :func:`comparisons_from_values` gives the full ranking
that values imply. Cyclic (inconsistent) pair lists are valid answers; :attr:`Comparisons.n_cycles` counts
their cycles.

Ties ("these two are equally good"):

- in a ranking, an item may be a list of tied indices: ``[[3, 0], 7]`` says 3 and 0 are equally good and
  both better than 7 (``[3, 0, 7]`` would say 3 beats 0). Tied points get equal rank (the mean of their
  positions, :func:`zoo.core.ranking.rank_weights`) and no comparison between them;
- in a pair list, ``(a, "=", b)`` says a and b are equally good, next to ``(winner, loser)`` pairs. A tie
  adds no "i beats j" edge, so it moves no weight in ZO-RankSGD's sum; a list of ties only is a round with
  no comparison (the estimator skips it, as for any answer with no edge).
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

    ``ranking``: indices best first (top-k allowed, ``k <= n``), or None when only pairs were given;
    ``groups``: the tie group of each ranked position (non-decreasing labels 0, 1, ...), None without ties.
    ``pairs_given``: int array ``(E, 2)`` of edges ``(winner, loser)``; ``ties_given``: ``(T, 2)`` tied pairs.
    """

    n: int
    ranking: np.ndarray | None
    pairs_given: np.ndarray | None = None
    groups: np.ndarray | None = None
    ties_given: np.ndarray | None = None

    @property
    def has_ties(self) -> bool:
        """Whether the answer says some points are equally good."""
        if self.groups is not None:
            return len(np.unique(self.groups)) < len(self.groups)
        return self.ties_given is not None and len(self.ties_given) > 0

    @property
    def pairs(self) -> np.ndarray:
        """Every implied edge: a ranked point beats each lower-ranked and each unranked point."""
        if self.pairs_given is not None:
            return self.pairs_given
        r = self.ranking
        assert r is not None
        unranked = np.setdiff1d(np.arange(self.n), r, assume_unique=True)
        g = np.arange(len(r)) if self.groups is None else self.groups
        edges = [(int(r[a]), int(r[b])) for a in range(len(r)) for b in range(a + 1, len(r)) if g[a] != g[b]]
        edges += [(int(w), int(u)) for w in r for u in unranked]
        return np.array(edges, dtype=np.int64).reshape(-1, 2)

    @property
    def n_edges(self) -> int:
        """``|E|``, the number of "i beats j" comparisons (implied by a ranking, or given)."""
        if self.pairs_given is not None:
            return len(self.pairs_given)
        assert self.ranking is not None
        return n_ranking_edges(self.n, len(self.ranking), self.groups)

    def weights(self) -> np.ndarray:
        """Per-point weights ``w_i`` = losses - wins, so that ``sum over edges (xi_j - xi_i) = w @ xi``.
        A ranking uses the closed form of :func:`zoo.core.ranking.rank_weights` (centred linear ranks)."""
        if self.pairs_given is not None:
            return edge_weights(self.n, self.pairs_given)
        assert self.ranking is not None
        return rank_weights(self.n, self.ranking, self.groups)

    @property
    def n_cycles(self) -> int:
        """Independent cycles in the answer (0 for a ranking or any consistent pair list)."""
        if self.pairs_given is None:
            return 0
        return cycle_rank(self.n, self.pairs_given)

    def _top(self) -> np.ndarray:
        """The ranking's first tie group (one point without ties)."""
        assert self.ranking is not None
        if self.groups is None:
            return self.ranking[:1]
        return self.ranking[self.groups == self.groups[0]]

    def best(self) -> int:
        """The point to keep: the top of a ranking, else the most net wins (Copeland); ties go to the
        lowest index (so a line search tied with its current point keeps it)."""
        if self.ranking is not None and len(self.ranking):
            return int(self._top().min())
        return int(np.argmax(copeland_scores(self.n, self.pairs)))

    def as_kwargs(self) -> dict[str, Any]:
        """``opt.tell(X, **c.as_kwargs())``: the answer as ``ranking=`` or ``pairs=`` (ties in the forms of
        :func:`normalize_comparisons`)."""
        if self.pairs_given is not None:
            if not self.has_ties:
                return {"pairs": self.pairs_given.copy()}
            pairs: list[Any] = [tuple(int(v) for v in p) for p in self.pairs_given]
            return {"pairs": pairs + [(int(a), "=", int(b)) for a, b in self.ties_given]}
        assert self.ranking is not None
        return {"ranking": self.ranking_items() if self.has_ties else self.ranking.copy()}

    def ranking_items(self) -> list[Any]:
        """The ranking as a list, best first, a group of tied indices as a list (``[[3, 0], 7]``)."""
        assert self.ranking is not None
        g = np.arange(len(self.ranking)) if self.groups is None else self.groups
        items: list[Any] = []
        for label in np.unique(g):
            members = [int(v) for v in self.ranking[g == label]]
            items.append(members if len(members) > 1 else members[0])
        return items

    def winner(self) -> int | None:
        """The batch's best point when the feedback names one (the top of a ranking when no other point
        ties with it, or the unique point that wins a comparison and loses none)."""
        if self.ranking is not None and len(self.ranking):
            top = self._top()
            return int(top[0]) if len(top) == 1 else None
        p = self.pairs
        if len(p) == 0:
            return None
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


def _check_range(arr: np.ndarray, n: int, what: str) -> None:
    out = (arr < 0) | (arr >= n)
    if out.any():
        raise ValueError(f"{what} index {int(arr[out][0])} is outside the batch (valid: 0..{n - 1})")


def _ranking_with_ties(ranking: Any) -> tuple[Any, np.ndarray | None]:
    """Flatten a ranking whose items may be lists of tied indices; the group label of each position."""
    if not isinstance(ranking, (list, tuple)) or not any(isinstance(i, (list, tuple)) for i in ranking):
        return ranking, None
    flat: list[Any] = []
    groups: list[int] = []
    for label, item in enumerate(ranking):
        members = list(item) if isinstance(item, (list, tuple)) else [item]
        if not members:
            raise ValueError(f"ranking item {label} is an empty tie group: name at least one point in it")
        if any(isinstance(m, (list, tuple)) for m in members):
            raise ValueError("ranking items are indices or lists of tied indices, not nested deeper")
        flat += members
        groups += [label] * len(members)
    return flat, np.asarray(groups, dtype=np.int64)


def _pairs_with_ties(pairs: Any) -> tuple[Any, list[Any]]:
    """Split a pair list into ``(winner, loser)`` pairs and ``(a, "=", b)`` ties."""
    if isinstance(pairs, np.ndarray) or not isinstance(pairs, (list, tuple)):
        return pairs, []
    strict: list[Any] = []
    ties: list[Any] = []
    for item in pairs:
        if isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[1], str):
            if item[1] != "=":
                raise ValueError(f"a tie is written (a, '=', b), got {tuple(item)!r}")
            ties.append((item[0], item[2]))
        else:
            strict.append(item)
    return strict, ties


def normalize_comparisons(n: int, *, ranking: Any = None, pairs: Any = None) -> Comparisons:
    """Validate a ranking or a pair list against a batch of ``n`` points; raise a clear error otherwise.

    ``ranking``: indices best first; an item may be a list of tied indices (``[[3, 0], 7]``).
    ``pairs``: ``(winner, loser)`` pairs, and ``(a, "=", b)`` for a tie."""
    if ranking is not None:
        flat, groups = _ranking_with_ties(ranking)
        r = _as_index_array(flat, "ranking")
        if r.ndim != 1:
            raise ValueError(
                f"ranking must be a flat list of indices (a tie as a list of indices), got shape {r.shape}"
            )
        _check_range(r, n, "ranking")
        uniq, counts = np.unique(r, return_counts=True)
        if (counts > 1).any():
            raise ValueError(f"ranking names point {int(uniq[counts > 1][0])} more than once")
        if groups is not None and len(np.unique(groups)) == len(groups):
            groups = None  # lists of one index: no tie
        return Comparisons(n=n, ranking=r, groups=groups)
    strict, tie_list = _pairs_with_ties(pairs)
    ties = None
    if tie_list:
        ties = _as_index_array(tie_list, "ties").reshape(-1, 2)
        _check_range(ties, n, "tie")
        same = ties[:, 0] == ties[:, 1]
        if same.any():
            raise ValueError(f"tie {int(ties[same][0, 0])} = {int(ties[same][0, 0])} names one point twice")
        if len(strict) == 0:
            return Comparisons(n=n, ranking=None, pairs_given=np.zeros((0, 2), np.int64), ties_given=ties)
    p = _as_index_array(strict, "pairs")
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(
            f"pairs must be a list of (winner, loser) pairs (a tie as (a, '=', b)), got shape {p.shape}"
        )
    _check_range(p, n, "pair")
    same = p[:, 0] == p[:, 1]
    if same.any():
        raise ValueError(f"pair {tuple(int(v) for v in p[same][0])} says a point beats itself")
    return Comparisons(n=n, ranking=None, pairs_given=p, ties_given=ties)
