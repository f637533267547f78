"""Surrogates of FZooS: a local GP on the nearest history points, and random Fourier features.

GP posterior mean (RBF kernel ``k(x, z) = exp(-||x - z||^2 / (2 l^2))``, noise ``s2``, constant prior mean
``m`` = mean of the selected values):

    mu(x) = m + k(x, Z) (K + s2 I)^-1 (y - m)
    grad mu(x) = sum_j alpha_j k(x, z_j) (z_j - x) / l^2,      alpha = (K + s2 I)^-1 (y - m)

Random Fourier features (Rahimi & Recht 2007), shared by all clients through one seed:
``phi(z) = sqrt(2/M) cos(W z + b)``, ``W ~ N(0, I / l^2)`` of shape (M, d), ``b ~ U(0, 2 pi)``.
A client fits ``f_hat_i(z) = ybar_i + phi(z) . nu_i`` (Bayesian linear regression, the GP posterior mean of the
RFF kernel) and the gradient is ``grad f_hat(z) = -sqrt(2/M) sum_j nu_j sin(w_j . z + b_j) w_j``.
"""

from __future__ import annotations

import math

import numpy as np


def gp_mean_gradient(x: np.ndarray, Z: np.ndarray, y: np.ndarray, lengthscale: float,
                     noise: float = 1e-6) -> np.ndarray:
    """Gradient at ``x`` of the GP posterior mean fitted on ``(Z, y)`` (values standardized inside)."""
    ym = float(y.mean())
    ys = float(y.std()) or 1.0
    yn = (y - ym) / ys
    sq = np.einsum("ij,ij->i", Z, Z)
    D2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (Z @ Z.T), 0.0)
    K = np.exp(-0.5 * D2 / lengthscale**2)
    K[np.diag_indices_from(K)] += noise
    alpha = _spd_solve(K, yn)
    diff = Z - x
    kx = np.exp(-0.5 * np.einsum("ij,ij->i", diff, diff) / lengthscale**2)
    return ys * ((alpha * kx) @ diff) / lengthscale**2


def _spd_solve(K: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solve ``K a = y`` for a symmetric positive definite ``K`` (Cholesky; LU if scipy is missing or the
    factorization fails numerically)."""
    try:
        from scipy.linalg import cho_factor, cho_solve

        return cho_solve(cho_factor(K, check_finite=False), y, check_finite=False)
    except (ImportError, np.linalg.LinAlgError):
        return np.linalg.solve(K, y)


def nearest(x: np.ndarray, X: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` history points nearest to ``x`` (all of them if there are fewer)."""
    if len(X) <= n:
        return np.arange(len(X))
    diff = X - x
    d2 = np.einsum("ij,ij->i", diff, diff)
    return np.argpartition(d2, n - 1)[:n]


_BASIS: dict[tuple[int, int, int, float], tuple[np.ndarray, np.ndarray]] = {}


def rff_basis(seed: int, n_features: int, dim: int, lengthscale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` drawn from the shared seed: every client and the server rebuild the same features."""
    key = (seed, n_features, dim, lengthscale)
    if key not in _BASIS:
        if len(_BASIS) > 8:
            _BASIS.clear()
        _BASIS[key] = _draw_basis(seed, n_features, dim, lengthscale)
    return _BASIS[key]


def _draw_basis(seed: int, n_features: int, dim: int, lengthscale: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64([seed, 0xF0F]))
    W = rng.standard_normal((n_features, dim)) / lengthscale
    b = rng.uniform(0.0, 2.0 * math.pi, n_features)
    return W, b


def rff_fit(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray, noise: float = 1e-3) -> np.ndarray:
    """Weights ``nu`` of ``f(z) ~ mean(y) + phi(z) . nu`` (ridge in the dual form, an n x n solve)."""
    M = W.shape[0]
    Phi = math.sqrt(2.0 / M) * np.cos(X @ W.T + b)  # (n, M)
    yc = y - y.mean()
    scale = float(yc.std()) or 1.0  # prior nu ~ N(0, scale^2 I): the noise is relative to the signal
    A = Phi @ Phi.T
    A[np.diag_indices_from(A)] += noise
    return Phi.T @ np.linalg.solve(A, yc / scale) * scale


def rff_gradient(W: np.ndarray, b: np.ndarray, nu: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``grad f_hat(x) = -sqrt(2/M) sum_j nu_j sin(w_j . x + b_j) w_j`` for ``x`` of shape (d,) or (C, d)."""
    M = W.shape[0]
    s = np.sin(x @ W.T + b)  # (C, M)
    return -math.sqrt(2.0 / M) * (nu * s) @ W
