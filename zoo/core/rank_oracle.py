"""A value objective seen only through comparisons (:class:`RankOracle`): for tests and benchmarks.

It answers with a full ranking, a top-k, or pairwise comparisons, optionally noisy (close pairs flipped
with a given probability).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core.feedback import Comparisons
from zoo.core.oracle import ValueOracle

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
