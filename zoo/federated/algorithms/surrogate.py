"""Surrogates of FZooS, batched over clients: a GP on each client's trajectory window, and random Fourier features.

Every function takes a leading client axis ``C`` so that a round of 1,000 clients is a handful of batched
matrix operations, not a Python loop. A window holds up to ``W`` points per client; ``mask`` (C, W) marks the
filled rows (the others are padding that the formulas ignore exactly: their kernel rows are the identity, their
values 0, their weights 0).

GP posterior mean (RBF kernel ``k(x, z) = exp(-||x - z||^2 / (2 l^2))``, noise ``s2``, values standardized with
the window's mean and standard deviation):

    mu(x) = m + s k(x, Z) (K + s2 I)^-1 (y - m) / s
    grad mu(x) = s sum_j alpha_j k(x, z_j) (z_j - x) / l^2,      alpha = (K + s2 I)^-1 (y - m) / s

Hyper-parameters from each client's own window: the lengthscale by the median heuristic (``l`` = a multiple of
the median pairwise distance of the window, Garreau et al. 2017), the multiple and the noise chosen by the
marginal likelihood over a small grid (a few batched Cholesky factorizations, :mod:`zoo.kernels.spd`).

Random Fourier features (Rahimi & Recht 2007), shared by all parties through one seed drawn from the run seed:
``phi(z) = sqrt(2/M) cos(W z + b)``, ``W ~ N(0, I / l^2)`` of shape (M, d), ``b ~ U(0, 2 pi)``. A client fits
``f_hat_i(z) = ybar_i + phi(z) . nu_i`` (ridge regression in the dual form, the GP posterior mean of the RFF
kernel) and ``grad f_hat(z) = -sqrt(2/M) sum_j nu_j sin(w_j . z + b_j) w_j``.
"""

from __future__ import annotations

import math

import numpy as np

from zoo.kernels.distances import sq_dists
from zoo.kernels.spd import chol_solve

LENGTH_GRID = (0.5, 1.0, 2.0)  # multiples of the median pairwise distance
NOISE_GRID = (1e-6, 1e-3, 1e-1)  # noise variances of the standardized values


def standardize(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``((y - m) / s`` on the filled rows (0 elsewhere), ``m``, ``s``) per client."""
    k = np.maximum(mask.sum(axis=1), 1)
    m = np.where(mask, y, 0.0).sum(axis=1) / k
    var = np.where(mask, (y - m[:, None]) ** 2, 0.0).sum(axis=1) / k
    s = np.sqrt(var)
    s = np.where(s > 0, s, 1.0)
    return np.where(mask, (y - m[:, None]) / s[:, None], 0.0), m, s


def median_distance(D2: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median pairwise distance between the filled rows of each window (C,); 1 where fewer than 2 points.

    Clients whose windows are filled in the same rows (every client in a round where none failed, e.g. while the
    windows fill in round 0) are taken together: one ``median`` over the upper triangle of their filled rows, no
    loop over clients."""
    C, W, _ = D2.shape
    out = np.ones(C)
    if W < 2:
        return out
    if mask.all():  # full windows (every round after the first): one pattern, no padding to skip
        iu, ju = np.triu_indices(W, 1)
        med = median_sqrt(D2[:, iu, ju])
        return np.where(np.isfinite(med) & (med > 0), med, 1.0)
    if (mask == mask[:1]).all():  # every client filled in the same rows (round 0 without faults)
        patterns, inverse = mask[:1], np.zeros(C, dtype=np.intp)
    else:
        patterns, inverse = np.unique(mask, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
    for k, pattern in enumerate(patterns):
        rows = np.flatnonzero(pattern)
        if len(rows) < 2:
            continue
        idx = np.flatnonzero(inverse == k)
        iu, ju = np.triu_indices(len(rows), 1)
        med = median_sqrt(D2[idx[:, None], rows[iu][None, :], rows[ju][None, :]])
        out[idx] = np.where(np.isfinite(med) & (med > 0), med, 1.0)
    return out


def median_sqrt(sq: np.ndarray) -> np.ndarray:
    """``np.median(np.sqrt(sq), axis=1)``, the same bits, cheaper: one partition at the middle (numpy's median
    partitions at two or three places, 5x the time on 1,770 values a row) and square roots of the middle values
    only (``sqrt`` keeps the order; the median is the middle value or the mean of the two middle ones, the lower
    one the largest left of the partition point; NaN when a row holds one). ``sq`` (C, P) is partitioned in
    place."""
    P = sq.shape[1]
    k = P // 2
    sq.partition(k, axis=1)
    hi = np.sqrt(sq[:, k])
    mid = hi if P % 2 else (np.sqrt(sq[:, :k].max(axis=1)) + hi) / 2.0
    return np.where(np.isnan(sq.max(axis=1)), np.nan, mid)


def filled_prefix(mask: np.ndarray) -> int:
    """The number ``n`` of leading window rows that hold a point in some client: rows ``n..`` are padding in every
    client (while the windows fill in round 0), so the GP can work on the first ``n`` rows alone."""
    used = np.flatnonzero(mask.any(axis=0))
    return int(used[-1]) + 1 if len(used) else 0


def pad_identity(K: np.ndarray, W: int) -> np.ndarray:
    """``K`` (C, n, n) embedded in (C, W, W) with the identity on the padding rows: the :func:`kernel_matrix` of the
    whole window whose rows ``n..`` are padding."""
    C, n, _ = K.shape
    if n == W:
        return K
    out = np.zeros((C, W, W))
    out[:, :n, :n] = K
    out[:, np.arange(n, W), np.arange(n, W)] = 1.0
    return out


def kernel_matrix(D2: np.ndarray, mask: np.ndarray, ls: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``K + s2 I`` on the filled rows; padding rows and columns are the identity (uncorrelated with everything)."""
    return add_noise(kernel_exp(D2, mask, ls), mask, noise)


def add_noise(
    K: np.ndarray, mask: np.ndarray, noise: np.ndarray, diag: np.ndarray | None = None
) -> np.ndarray:
    """``K`` (a :func:`kernel_exp`, written in place and returned) with ``s2`` added on the filled rows' diagonal
    and 1 on the padding's: the kernel matrix. ``diag``: the diagonal of the ``kernel_exp`` when ``K``'s own has
    been overwritten (several noise levels of one lengthscale reuse one ``kernel_exp``, whose exponentials are the
    cost, rewriting only its diagonal)."""
    W = K.shape[1]
    idx = np.arange(W)
    K[:, idx, idx] = (K[:, idx, idx] if diag is None else diag) + np.where(mask, noise[:, None], 1.0)
    return K


def kernel_exp(D2: np.ndarray, mask: np.ndarray, ls: np.ndarray) -> np.ndarray:
    """``k(z_i, z_j) = exp(-||z_i - z_j||^2 / (2 l^2))`` on the filled rows, 0 on the padding."""
    K = D2 * (-0.5 / ls[:, None, None] ** 2)
    np.exp(K, out=K)
    if not mask.all():
        K *= mask[:, :, None] & mask[:, None, :]
    return K


def chol_solve_jitter(K: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(K^-1 y, log det K)`` per matrix of the stack (the batched Cholesky kernel of :mod:`zoo.kernels.spd`);
    a matrix that is not numerically positive definite is retried with jitter 1e-8, 1e-6, ... on its diagonal."""
    alpha, logdet, ok = chol_solve(K, y)
    jitter, eye = 1e-8, np.eye(K.shape[-1])
    while not ok.all():
        if jitter > 1e2:
            raise np.linalg.LinAlgError("the GP kernel matrix is not positive definite even with jitter 1e2")
        bad = np.flatnonzero(~ok)
        a2, l2, ok2 = chol_solve(K[bad] + jitter * eye, y[bad])
        alpha[bad], logdet[bad], ok[bad] = a2, l2, ok2
        jitter *= 100.0
    return alpha, logdet


def fit_hypers(
    D2: np.ndarray, yn: np.ndarray, mask: np.ndarray, med: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per client, the (lengthscale multiple, noise) of the grids with the largest log marginal likelihood
    ``-1/2 y^T K^-1 y - 1/2 log det K`` on the filled rows (the padding adds 0 to both terms); ``med``: the
    windows' :func:`median_distance` when the caller has it (FZooS needs it for its lengthscale too)."""
    med = median_distance(D2, mask) if med is None else med
    C = D2.shape[0]
    best = np.full(C, -np.inf)
    mult, noise = np.ones(C), np.full(C, NOISE_GRID[0])
    idx = np.arange(D2.shape[1])
    for a in LENGTH_GRID:
        E = kernel_exp(D2, mask, a * med)  # once per lengthscale, shared by the noise levels
        diag = E[:, idx, idx].copy()
        for s2 in NOISE_GRID:  # only the diagonal differs (no copy of E per noise level)
            alpha, logdet = chol_solve_jitter(add_noise(E, mask, np.full(C, s2), diag), yn)
            ll = -0.5 * np.einsum("cw,cw->c", yn, alpha) - 0.5 * logdet
            better = ll > best
            best, mult, noise = (
                np.where(better, ll, best),
                np.where(better, a, mult),
                np.where(better, s2, noise),
            )
    return mult, noise


def gp_gradient(
    x: np.ndarray,
    Z: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    K: np.ndarray,
    ls: np.ndarray,
    dx2: np.ndarray,
) -> np.ndarray:
    """Gradient at ``x`` (C, d) of each client's GP posterior mean, given the window's kernel matrix ``K``
    (:func:`kernel_matrix`), the lengthscales ``ls`` (C,) and the squared distances ``dx2`` (C, W) from ``x``
    to the window: ``s / l^2 sum_j alpha_j k(x, z_j) (z_j - x)``."""
    yn, _, s = standardize(y, mask)
    alpha, _ = chol_solve_jitter(K, yn)
    ak = alpha * np.where(mask, np.exp(-0.5 * dx2 / ls[:, None] ** 2), 0.0)
    return (np.einsum("cw,cwd->cd", ak, Z) - ak.sum(axis=1)[:, None] * x) * (s / ls**2)[:, None]


def gp_mean_gradient(
    x: np.ndarray, Z: np.ndarray, y: np.ndarray, mask: np.ndarray, mult: np.ndarray, noise: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient at ``x`` (C, d) of each client's GP posterior mean on its window ``(Z, y)`` (C, W, d), (C, W),
    with lengthscale ``mult`` x the window's median pairwise distance, from scratch (FZooS keeps ``K`` up to date
    step by step and calls :func:`gp_gradient`). Returns ``(grad (C, d), lengthscale)``."""
    D2 = sq_dists(Z, Z)
    ls = mult * median_distance(D2, mask)
    dx2 = sq_dists(x[:, None, :], Z)[:, 0]
    return gp_gradient(x, Z, y, mask, kernel_matrix(D2, mask, ls, noise), ls, dx2), ls


def rff_basis(seed: int, n_features: int, dim: int, lengthscale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` drawn from the shared seed: every client and the server rebuild the same features."""
    rng = np.random.Generator(np.random.PCG64([int(seed), 0xF0F]))
    W = rng.standard_normal((n_features, dim)) / lengthscale
    b = rng.uniform(0.0, 2.0 * math.pi, n_features)
    return W, b


def rff_features(W: np.ndarray, b: np.ndarray, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``phi(z) = sqrt(2/M) cos(W z + b)`` for the rows of ``X`` (C, n, d) -> (C, n, M), in float32; padding
    rows 0.

    The phases are taken about each client's centre ``c`` (the mean of its filled rows), ``W (z - c) + (W c + b)``
    with ``W c + b`` reduced modulo 2 pi in float64: the same angles, small where the window is (a trajectory
    window is local), so that float32 holds them to ~1e-7 and the cosine can be taken in float32 (numpy's float32
    cosine is SIMD, an order of magnitude cheaper than its float64 one on the 60,000 x 100 features of a
    1,000-client round in a scratch timing). The features'
    rounding, ~1e-7 absolute, is far below their own Monte Carlo error (of order M^(-1/2)) and below what the
    ridge solve's noise (1e-3 on the diagonal) lets through, so :func:`rff_fit` also forms ``Phi Phi^T`` in
    float32 and solves in float64."""
    M = W.shape[0]
    C, n, d = X.shape
    k = np.maximum(mask.sum(axis=1), 1)
    centre = np.einsum("cn,cnd->cd", mask.astype(np.float64), X) / k[:, None]
    offset = np.remainder(centre @ W.T + b, 2.0 * math.pi)  # (C, M)
    local = np.empty((C, n, d), dtype=np.float32)
    np.subtract(X, centre[:, None, :], out=local, casting="same_kind")
    Phi = (local.reshape(C * n, d) @ W.T.astype(np.float32)).reshape(C, n, M)  # one GEMM, not C small ones
    Phi += offset[:, None, :].astype(np.float32)
    np.cos(Phi, out=Phi)
    Phi *= np.float32(math.sqrt(2.0 / M))
    if not mask.all():
        Phi *= mask[:, :, None]  # padding rows 0
    return Phi


def rff_fit(
    W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, mask: np.ndarray, noise: float = 1e-3
) -> np.ndarray:
    """Weights ``nu`` (C, M) of ``f(z) ~ mean(y) + phi(z) . nu`` on each client's filled rows (ridge in the dual
    form: a W x W solve per client; the prior ``nu ~ N(0, s^2 I)`` scales with the values' spread ``s``)."""
    Phi = rff_features(W, b, X, mask)
    yn, _, s = standardize(y, mask)
    A = (Phi @ Phi.transpose(0, 2, 1)).astype(np.float64)
    n = A.shape[1]
    A[:, np.arange(n), np.arange(n)] += np.where(mask, noise, 1.0)
    coef, _ = chol_solve_jitter(A, yn)
    return np.einsum("cwm,cw->cm", Phi, coef) * s[:, None]


def rff_gradient(W: np.ndarray, b: np.ndarray, nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``grad f_hat(x) = -sqrt(2/M) sum_j nu_j sin(w_j . x + b_j) w_j`` for ``x`` (C, d) and ``nu`` (C, M) or
    (M,)."""
    M = W.shape[0]
    s = np.sin(x @ W.T + b)  # (C, M)
    return -math.sqrt(2.0 / M) * (nu * s) @ W
