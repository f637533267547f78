"""Batched Cholesky solves of small symmetric positive definite systems (the GP surrogates of FZooS).

For each ``c`` of a stack ``K`` (C, n, n), ``y`` (C, n)::

    K_c = L_c L_c^T,    alpha_c = K_c^-1 y_c  (L z = y, then L^T alpha = z),    logdet_c = 2 sum_j log L_c[j, j]

numpy's batched ``cholesky`` / ``solve`` pay a copy and a LAPACK call per small matrix and have no batched
triangular solve (so ``alpha`` would need two more LU factorizations); the ``@njit`` kernel does the
factorization and both triangular solves in one pass per matrix. A matrix that is not numerically positive
definite is reported (``ok[c] = False``) and left to the caller (which adds jitter).

The kernel has a plain-numpy twin :func:`chol_solve_numpy`; ``tests/kernels/test_spd_kernel.py`` holds them equal.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, fastmath=True)
def _chol_solve(K, y, alpha, logdet, ok):  # pragma: no cover - compiled
    C, n = K.shape[0], K.shape[1]
    L = np.zeros((n, n))
    z = np.zeros(n)
    for c in range(C):
        good = True
        ld = 0.0
        for j in range(n):
            s = K[c, j, j]
            for k in range(j):
                s -= L[j, k] * L[j, k]
            if not s > 0.0:
                good = False
                break
            ljj = math.sqrt(s)
            L[j, j] = ljj
            ld += math.log(ljj)
            i = j + 1
            # four rows of column j per pass over row j of L (its loads shared, four independent sums; each sum is
            # taken in the same order as one row at a time, so the same bits)
            while i + 3 < n:
                t0, t1, t2, t3 = K[c, i, j], K[c, i + 1, j], K[c, i + 2, j], K[c, i + 3, j]
                for k in range(j):
                    ljk = L[j, k]
                    t0 -= L[i, k] * ljk
                    t1 -= L[i + 1, k] * ljk
                    t2 -= L[i + 2, k] * ljk
                    t3 -= L[i + 3, k] * ljk
                L[i, j], L[i + 1, j], L[i + 2, j], L[i + 3, j] = t0 / ljj, t1 / ljj, t2 / ljj, t3 / ljj
                i += 4
            while i < n:
                t = K[c, i, j]
                for k in range(j):
                    t -= L[i, k] * L[j, k]
                L[i, j] = t / ljj
                i += 1
        ok[c] = good
        if not good:
            logdet[c] = math.nan
            for j in range(n):
                alpha[c, j] = math.nan
            continue
        logdet[c] = 2.0 * ld
        for i in range(n):  # L z = y
            t = y[c, i]
            for k in range(i):
                t -= L[i, k] * z[k]
            z[i] = t / L[i, i]
        for i in range(n - 1, -1, -1):  # L^T alpha = z
            t = z[i]
            for k in range(i + 1, n):
                t -= L[k, i] * alpha[c, k]
            alpha[c, i] = t / L[i, i]


def chol_solve(
    K: np.ndarray, y: np.ndarray, use_numba: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(alpha (C, n), logdet (C,), ok (C,))`` for SPD stacks ``K`` (C, n, n) and ``y`` (C, n); rows with
    ``ok`` False (not positive definite) hold NaN."""
    if not use_numba:
        return chol_solve_numpy(K, y)
    K = np.ascontiguousarray(K, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    C, n = y.shape
    alpha, logdet, ok = np.empty((C, n)), np.empty(C), np.empty(C, dtype=np.bool_)
    _chol_solve(K, y, alpha, logdet, ok)
    return alpha, logdet, ok


def chol_solve_numpy(K: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plain-numpy twin of :func:`chol_solve` (LAPACK Cholesky per matrix, solves, the same outputs)."""
    C, n = y.shape
    alpha, logdet, ok = np.full((C, n), np.nan), np.full(C, np.nan), np.zeros(C, dtype=bool)
    for c in range(C):
        try:
            L = np.linalg.cholesky(K[c])
        except np.linalg.LinAlgError:
            continue
        z = np.linalg.solve(L, y[c])
        alpha[c] = np.linalg.solve(L.T, z)
        logdet[c] = 2.0 * np.log(np.diag(L)).sum()
        ok[c] = True
    return alpha, logdet, ok
