"""Oracles: how a method's batch turns into feedback.

- :class:`ValueOracle` wraps the user's objective once, so every method sees batches. It counts every query,
  enforces the budget exactly (a batch that would overrun it is refused before anything is evaluated), checks
  the shape of what the objective returns, counts non-finite values, and attaches the offending point to an
  exception raised by the objective (:class:`ObjectiveError`).
- :class:`Comparisons` is the normalized form of rank feedback: a top-k ``ranking`` (indices into the batch,
  best first) and/or ``pairs`` ("i beats j" edges). :func:`normalize_comparisons` validates user answers.
  Cyclic (inconsistent) pair lists are valid answers; :attr:`Comparisons.n_cycles` counts their cycles.
- :class:`RankOracle` turns a value objective into a ranking oracle (full ranking, top-k, or pairwise
  comparisons), optionally noisy (close pairs flipped with a given probability): for tests and benchmarks.

NaN policy (the same everywhere in zoo): a NaN or +-inf value is recorded (counted in ``n_nonfinite``) and
ranks worst; :meth:`zoo.core.estimator.Estimator.tell` replaces it by ``+inf`` before the algorithm sees it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core.ranking import (
    copeland_scores,
    cycle_rank,
    edge_weights,
    n_ranking_edges,
    rank_weights,
)


class ObjectiveError(RuntimeError):
    """The objective raised. ``x`` is the point (per-point objective) or the batch (vectorized) it was given;
    the original exception is ``__cause__``. Nothing was told to the optimizer, so the run can resume."""

    def __init__(self, message: str, x: np.ndarray, batch: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.x = x
        self.batch = x if batch is None else batch
        self.optimizer: Any = None  # set by minimize() so the caller can resume the run


class BudgetExhausted(RuntimeError):
    """A batch would take the number of queries past the budget; nothing was evaluated."""


class ValueOracle:
    """Batched, counted access to ``fun``.

    ``fun(X)`` with ``X`` of shape ``(n, d)`` returning ``(n,)`` when ``vectorized``; otherwise ``fun(x)``
    with ``x`` of shape ``(d,)`` returning a scalar, called once per row.
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        *,
        dim: int,
        vectorized: bool = False,
        budget: int | None = None,
    ) -> None:
        if not callable(fun):
            raise TypeError(f"the objective must be callable, got {type(fun).__name__}")
        self.fun = fun
        self.dim = int(dim)
        self.vectorized = bool(vectorized)
        self.budget = budget
        self.nfev = 0
        self.n_nonfinite = 0

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else self.budget - self.nfev

    def __call__(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"the oracle takes a batch of shape (n, {self.dim}), got {X.shape}")
        n = len(X)
        if self.budget is not None and self.nfev + n > self.budget:
            raise BudgetExhausted(
                f"a batch of {n} queries would exceed the budget ({self.nfev} of {self.budget} used)"
            )
        values = self._eval_batch(X) if self.vectorized else self._eval_points(X)
        self.nfev += n
        self.n_nonfinite += int(np.count_nonzero(~np.isfinite(values)))
        return values

    def _eval_batch(self, X: np.ndarray) -> np.ndarray:
        try:
            out = self.fun(X)
        except Exception as exc:
            raise ObjectiveError(
                f"the objective raised {type(exc).__name__}: {exc} (on a batch of {len(X)} points; see .x)", X
            ) from exc
        try:
            values = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"a vectorized objective must return numbers of shape ({len(X)},)") from exc
        if values.shape != (len(X),):
            if values.size == len(X) and values.ndim == 2 and 1 in values.shape:
                return values.reshape(len(X))
            raise ValueError(
                f"a vectorized objective must return shape ({len(X)},) for X of shape {X.shape}, "
                f"got {values.shape}; pass vectorized=False for an objective of one point"
            )
        return values

    def _eval_points(self, X: np.ndarray) -> np.ndarray:
        values = np.empty(len(X))
        for i in range(len(X)):
            x = X[i].copy()
            try:
                v = self.fun(x)
            except Exception as exc:
                self.nfev += i  # the points before it were queried: count them
                raise ObjectiveError(
                    f"the objective raised {type(exc).__name__}: {exc} (at the point in .x)", x, X
                ) from exc
            arr = np.asarray(v, dtype=np.float64) if not isinstance(v, float) else None
            if arr is not None:
                if arr.size != 1:
                    self.nfev += i
                    raise ValueError(
                        f"the objective must return a scalar for x of shape ({self.dim},), got shape {arr.shape}; "
                        "pass vectorized=True for an objective that takes a batch"
                    )
                v = float(arr.reshape(()))
            values[i] = v
        return values


# ---------------------------------------------------------------------------------------------- rankings
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


# ---------------------------------------------------------------------------------------------- rank oracles
_RANK_KINDS = ("full", "topk", "pairs")


class RankOracle:
    """A value objective seen only through comparisons: for tests and benchmarks of rank-feedback methods.

    ``kind="full"``: the full ranking of the batch (best first). ``kind="topk"``: the ``k`` best, in order.
    ``kind="pairs"``: ``n_pairs`` "i beats j" comparisons; the default ``n_pairs=None`` gives ``n // 2``
    disjoint random pairs (each point compared once), an int gives that many random pairs of distinct
    points, ``"all"`` every pair (then noise can make the answer cyclic, as a person's can).

    Noise: a comparison of two points whose values differ by at most ``close`` is flipped with probability
    ``flip_prob`` (for rankings: adjacent points of the true order are swapped, one pass from the best down).
    Values are queried through a :class:`ValueOracle`, so queries are counted and the budget is exact;
    non-finite values rank worst. Randomness (pairing, flips) comes from ``seed`` only.
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        *,
        dim: int,
        kind: str = "full",
        k: int | None = None,
        n_pairs: int | str | None = None,
        flip_prob: float = 0.0,
        close: float = float("inf"),
        vectorized: bool = True,
        budget: int | None = None,
        seed: int = 0,
    ) -> None:
        if kind not in _RANK_KINDS:
            raise ValueError(f"kind must be one of {_RANK_KINDS}, got {kind!r}")
        if kind == "topk" and (k is None or int(k) < 1):
            raise ValueError(f"kind='topk' needs k >= 1 (how many best points to return), got k={k!r}")
        if isinstance(n_pairs, str) and n_pairs != "all":
            raise ValueError(f"n_pairs must be None, a positive int or 'all', got {n_pairs!r}")
        if isinstance(n_pairs, (int, np.integer)) and int(n_pairs) < 1:
            raise ValueError(f"n_pairs must be positive, got {n_pairs!r}")
        if not 0.0 <= float(flip_prob) <= 1.0:
            raise ValueError(f"flip_prob must lie in [0, 1], got {flip_prob!r}")
        if not float(close) >= 0.0:
            raise ValueError(f"close must be a non-negative threshold, got {close!r}")
        self.values = ValueOracle(fun, dim=dim, vectorized=vectorized, budget=budget)
        self.kind, self.k, self.n_pairs = kind, k, n_pairs
        self.flip_prob, self.close = float(flip_prob), float(close)
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.n_flips = 0

    @property
    def nfev(self) -> int:
        return self.values.nfev

    def __call__(self, X: Any) -> Comparisons:
        """Query the batch and answer with comparisons (indices into ``X``)."""
        f = self.values(X)
        return self.compare(np.where(np.isfinite(f), f, np.inf))

    def compare(self, f: np.ndarray) -> Comparisons:
        """The (possibly noisy) answer that values ``f`` of a batch imply."""
        f = np.asarray(f, dtype=np.float64)
        n = len(f)
        if self.kind == "pairs":
            return Comparisons(n=n, ranking=None, pairs_given=self._pairs(f))
        order = np.argsort(f, kind="stable")
        if self.flip_prob > 0:
            for a in range(n - 1):
                i, j = order[a], order[a + 1]
                if self._flip(f[i], f[j]):
                    order[a], order[a + 1] = j, i
        k = n if self.kind == "full" else min(int(self.k), n)  # type: ignore[arg-type]
        return Comparisons(n=n, ranking=order[:k].copy())

    def _flip(self, fa: float, fb: float) -> bool:
        gap = abs(fa - fb) if np.isfinite(fa) and np.isfinite(fb) else (0.0 if fa == fb else np.inf)
        if gap <= self.close and self.rng.random() < self.flip_prob:
            self.n_flips += 1
            return True
        return False

    def _pairs(self, f: np.ndarray) -> np.ndarray:
        n = len(f)
        if n < 2:
            raise ValueError("pairwise comparisons need a batch of at least 2 points")
        if self.n_pairs is None:
            perm = self.rng.permutation(n)[: 2 * (n // 2)]
            pairs = perm.reshape(-1, 2)
        elif self.n_pairs == "all":
            ii, jj = np.triu_indices(n, 1)
            pairs = np.stack([ii, jj], axis=1)
        else:
            a = self.rng.integers(0, n, size=int(self.n_pairs))
            b = (a + self.rng.integers(1, n, size=len(a))) % n  # distinct from a
            pairs = np.stack([a, b], axis=1)
        out = np.empty_like(pairs)
        for e, (i, j) in enumerate(pairs):
            i_wins = f[i] <= f[j]
            if self._flip(f[i], f[j]):
                i_wins = not i_wins
            out[e] = (i, j) if i_wins else (j, i)
        return out.astype(np.int64)
