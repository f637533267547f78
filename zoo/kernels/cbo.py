"""Consensus-based optimization kernels: the consensus point and the fused consensus + particle update.

Consensus of particles ``x_1..x_N`` with values ``f_1..f_N`` (Pinnau et al. 2017)::

    c = sum_n w_n x_n,   w = softmax(-alpha * f)   (log-sum-exp: w_n ~ exp(-alpha (f_n - min f)))

Non-finite values (``+inf``, which is what the estimator base turns NaN into) get weight 0; when no value of
a run is finite its consensus is undefined, the kernel reports 0 finite values and the caller skips the step.

Particle update (Euler-Maruyama; Carrillo et al. 2021 for the anisotropic noise)::

    x <- x - lambda dt H_n (x - c) + sigma sqrt(dt) (x - c) * xi          (anisotropic, elementwise)
    x <- x - lambda dt H_n (x - c) + sigma sqrt(dt) ||x - c||_2 xi        (isotropic)

with ``xi ~ N(0, I)`` and ``H_n = 1`` or, with the Heaviside correction (Carrillo et al. 2018),
``H_n = 1[f(x_n) > f(c)]``: only particles worse than the consensus drift towards it.

Divergence guard: a coordinate whose update overflows (``inf`` or NaN, e.g. isotropic noise with
``sigma^2 d > 2 lambda`` blowing the particles up) keeps its old value, so the state stays finite.

Random numbers are passed in: run ``m``, particle ``n``, coordinate ``j`` reads
``noise[offsets[m] + n * d + j]``. The caller passes either fresh normals from the optimizer's generator
(float64) or the shared float32 noise table of :mod:`zoo.kernels.noise` with one random offset per run and
step (a contiguous block of i.i.d. N(0, 1) numbers: no fresh draw per coordinate).

Every ``@njit`` kernel has a plain-numpy twin below; ``tests/kernels/test_cbo_kernel.py`` holds them equal.
"""

from __future__ import annotations

import math

import numba
import numpy as np


# ------------------------------------------------------------------------------------------------ numba
@numba.njit(cache=True)
def consensus(X, f, idx, alpha, c_out):  # pragma: no cover - compiled
    """Write the consensus of rows ``idx`` of ``X`` (all rows when ``idx`` is empty) into ``c_out``.

    Returns the number of finite values used; 0 when there is none or the weighted sum overflows (then
    ``c_out`` holds no consensus and the caller must not use it)."""
    n_rows = idx.shape[0] if idx.shape[0] > 0 else X.shape[0]
    d = X.shape[1]
    fmin = math.inf
    count = 0
    for r in range(n_rows):
        i = idx[r] if idx.shape[0] > 0 else r
        v = f[i]
        if v < math.inf and v == v:
            count += 1
            if v < fmin:
                fmin = v
    if count == 0:
        return 0
    for j in range(d):
        c_out[j] = 0.0
    total = 0.0
    for r in range(n_rows):
        i = idx[r] if idx.shape[0] > 0 else r
        v = f[i]
        if not (v < math.inf and v == v):
            continue
        w = math.exp(-alpha * (v - fmin))
        if w == 0.0:
            continue
        total += w
        for j in range(d):
            c_out[j] += w * X[i, j]
    finite = True
    for j in range(d):
        c_out[j] /= total
        if not abs(c_out[j]) < math.inf:
            finite = False
    return count if finite else 0  # an overflowing weighted sum (diverged particles) is no consensus


@numba.njit(cache=True)
def cbo_step(
    X,
    F,
    Y,
    FY,
    runs,
    idx,
    alpha,
    lam,
    dt,
    sigma,
    anisotropic,
    heaviside,
    fc,
    noise,
    offsets,
    X_out,
    C,
    spread,
    ok,
):  # pragma: no cover - compiled
    """One CBO step for the runs listed in ``runs`` (rows of other runs are not touched).

    X (M, N, d) positions, F (M, N) their values (used by the Heaviside test); the consensus is computed
    from Y (M, N, d) with values FY (M, N) (pass X, F again without particle memory). idx (M, k) batch rows
    (k = 0: all particles). alpha (M,), fc (M,) f(consensus) (read only when ``heaviside``).
    Writes X_out (M, N, d), C (M, d) the consensus, spread (M,) = max |x - c| before the step, ok (M,) the
    number of finite values in the consensus (0: step skipped, X copied, C and spread untouched)."""
    N = X.shape[1]
    d = X.shape[2]
    sq = sigma * math.sqrt(dt)
    ldt = lam * dt
    cm = np.empty(d)
    for r in range(runs.shape[0]):
        m = runs[r]
        count = consensus(Y[m], FY[m], idx[m], alpha[m], cm)
        ok[m] = count
        if count == 0:
            for n in range(N):
                for j in range(d):
                    X_out[m, n, j] = X[m, n, j]
            continue
        for j in range(d):
            C[m, j] = cm[j]
        base = offsets[m]
        fcm = fc[m]
        worst = 0.0
        for n in range(N):
            h = ldt
            if heaviside and fcm < math.inf and not F[m, n] > fcm:
                h = 0.0
            o = base + n * d
            if anisotropic:
                for j in range(d):
                    diff = X[m, n, j] - cm[j]
                    a = abs(diff)
                    if a > worst:
                        worst = a
                    v = X[m, n, j] - h * diff + sq * diff * noise[o + j]
                    X_out[m, n, j] = v if abs(v) < math.inf else X[m, n, j]
            else:
                norm2 = 0.0
                for j in range(d):
                    diff = X[m, n, j] - cm[j]
                    norm2 += diff * diff
                    a = abs(diff)
                    if a > worst:
                        worst = a
                s = sq * math.sqrt(norm2)
                for j in range(d):
                    diff = X[m, n, j] - cm[j]
                    v = X[m, n, j] - h * diff + s * noise[o + j]
                    X_out[m, n, j] = v if abs(v) < math.inf else X[m, n, j]
        spread[m] = worst


# ------------------------------------------------------------------------------------------------ numpy
def consensus_numpy(
    X: np.ndarray, f: np.ndarray, idx: np.ndarray, alpha: float
) -> tuple[np.ndarray | None, int]:
    """Numpy twin of :func:`consensus`; returns ``(c, count)`` with ``c = None`` when ``count == 0``."""
    if len(idx):
        X, f = X[idx], f[idx]
    finite = np.isfinite(f)
    count = int(finite.sum())
    if count == 0:
        return None, 0
    fmin = f[finite].min()
    with np.errstate(invalid="ignore", over="ignore"):
        w = np.where(finite, np.exp(-alpha * (np.where(finite, f, fmin) - fmin)), 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        c = (w @ X) / w.sum()
    if not np.all(np.abs(c) < math.inf):
        return None, 0
    return c, count


def cbo_step_numpy(
    X, F, Y, FY, runs, idx, alpha, lam, dt, sigma, anisotropic, heaviside, fc, noise, offsets, C
):
    """Numpy twin of :func:`cbo_step`; returns ``(X_out, C, spread, ok)`` (rows of other runs: copies of X,
    C as given, spread inf, ok 0)."""
    M, N, d = X.shape
    X_out = X.copy()
    C = C.copy()
    spread = np.full(M, np.inf)
    ok = np.zeros(M, dtype=np.int64)
    sq = sigma * math.sqrt(dt)
    for m in runs:
        c, count = consensus_numpy(Y[m], FY[m], idx[m], alpha[m])
        ok[m] = count
        if c is None:
            continue
        C[m] = c
        xi = np.asarray(noise[offsets[m] : offsets[m] + N * d], dtype=np.float64).reshape(N, d)
        diff = X[m] - c
        h = np.full(N, lam * dt)
        if heaviside and fc[m] < math.inf:
            h = np.where(F[m] > fc[m], h, 0.0)
        if anisotropic:
            noise_term = sq * diff * xi
        else:
            noise_term = (sq * np.sqrt(np.einsum("nj,nj->n", diff, diff)))[:, None] * xi
        with np.errstate(over="ignore", invalid="ignore"):
            new = X[m] - h[:, None] * diff + noise_term
        X_out[m] = np.where(np.abs(new) < math.inf, new, X[m])
        spread[m] = np.abs(diff).max()
    return X_out, C, spread, ok


# ------------------------------------------------------------------------------------------------ helpers
def consensus_point(
    X: np.ndarray, f: np.ndarray, alpha: float, use_numba: bool = True
) -> tuple[np.ndarray | None, int]:
    """Consensus of all rows of ``X`` (N, d) with values ``f`` (N,): ``(c, n_finite)``, ``c = None`` when no
    value is finite. Shared by CBO and consensus hopping."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    f = np.ascontiguousarray(f, dtype=np.float64)
    empty = np.empty(0, dtype=np.int64)
    if not use_numba:
        return consensus_numpy(X, f, empty, float(alpha))
    c = np.empty(X.shape[1])
    count = consensus(X, f, empty, float(alpha), c)
    return (c if count else None), int(count)
