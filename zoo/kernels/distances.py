"""Batched squared Euclidean distances between small stacks of points (the GP windows of FZooS).

For stacks ``A`` (C, n, d), ``B`` (C, m, d) and their rows' squared norms ``a`` (C, n), ``b`` (C, m)::

    D[c, i, j] = max(a[c, i] + b[c, j] - 2 <A[c, i], B[c, j]>, 0)

(the expansion of ``||A_ci - B_cj||^2``; the clamp removes the negative rounding of near-equal points).

numpy's batched ``A @ B^T`` makes one BLAS call per client, whose set-up dominates at FZooS's sizes (a step's
6 new points against a 60-point window, d = 100): the ``@njit`` kernel does the C small products in one pass,
about twice as fast at 1,000 clients (a scratch timing); with ``A is B`` (a whole window against itself) it computes the lower triangle
and mirrors it, so the result is exactly symmetric. The kernel has a plain-numpy twin :func:`sq_dists_numpy`;
``tests/kernels/test_distance_kernel.py`` holds them equal (to rounding: the dot products sum in another order).
"""

from __future__ import annotations

import numba
import numpy as np

# no "nnan" / "ninf": a NaN or an infinity in a window must come out as numpy's expression gives it
_FLAGS = {"nsz", "arcp", "contract", "reassoc"}


@numba.njit(cache=True, fastmath=_FLAGS)
def _sq_dists(A, B, a, b, out, symmetric):  # pragma: no cover - compiled
    C, n, d = A.shape
    m = B.shape[1]
    for c in range(C):
        if symmetric:
            for i in range(n):
                for j in range(i + 1):
                    s = 0.0
                    for t in range(d):
                        s += A[c, i, t] * B[c, j, t]
                    v = a[c, i] + b[c, j] - 2.0 * s
                    if v < 0.0:
                        v = 0.0
                    out[c, i, j] = v
                    out[c, j, i] = v
            continue
        for j in range(m):
            i = 0
            # three rows of A per pass over a row of B (its loads shared: the pass is memory bound)
            while i + 2 < n:
                s0 = s1 = s2 = 0.0
                for t in range(d):
                    bt = B[c, j, t]
                    s0 += A[c, i, t] * bt
                    s1 += A[c, i + 1, t] * bt
                    s2 += A[c, i + 2, t] * bt
                out[c, i, j] = max(a[c, i] + b[c, j] - 2.0 * s0, 0.0)
                out[c, i + 1, j] = max(a[c, i + 1] + b[c, j] - 2.0 * s1, 0.0)
                out[c, i + 2, j] = max(a[c, i + 2] + b[c, j] - 2.0 * s2, 0.0)
                i += 3
            while i < n:
                s0 = 0.0
                for t in range(d):
                    s0 += A[c, i, t] * B[c, j, t]
                out[c, i, j] = max(a[c, i] + b[c, j] - 2.0 * s0, 0.0)
                i += 1


def sq_norms(A: np.ndarray) -> np.ndarray:
    """``||a_i||^2`` for a stack ``A`` (C, n, d) -> (C, n)."""
    return np.einsum("cnd,cnd->cn", A, A)


def sq_dists(
    A: np.ndarray,
    B: np.ndarray,
    a: np.ndarray | None = None,
    b: np.ndarray | None = None,
    use_numba: bool = True,
) -> np.ndarray:
    """``||a_i - b_j||^2`` for stacks ``A`` (C, n, d) and ``B`` (C, m, d) -> (C, n, m); ``a`` / ``b``: the rows'
    :func:`sq_norms` when the caller keeps them (FZooS's window: only its new rows' norms are new each step)."""
    a = sq_norms(A) if a is None else a
    b = sq_norms(B) if b is None else b
    if not use_numba:
        return sq_dists_numpy(A, B, a, b)
    symmetric = A is B and a is b
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = A if symmetric else np.ascontiguousarray(B, dtype=np.float64)
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = a if symmetric else np.ascontiguousarray(b, dtype=np.float64)
    out = np.empty((A.shape[0], A.shape[1], B.shape[1]))
    _sq_dists(A, B, a, b, out, symmetric)
    return out


def sq_dists_numpy(A: np.ndarray, B: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The plain-numpy twin of :func:`sq_dists` (one batched matrix product)."""
    return np.maximum(a[:, :, None] + b[:, None, :] - 2.0 * (A @ B.transpose(0, 2, 1)), 0.0)
