"""Directional curvature from three points, and the variable metric it teaches (rge's default metric, issue 16).

**Three points.** Along a direction ``v`` the values ``f0 = f(x)``, ``fp = f(x + mu v)``, ``fm = f(x - mu v)`` give
the directional derivative and the curvature along ``v``::

    D = (fp - fm) / (2 mu)            = v . grad f(x)  + O(mu^2)
    c = (fp + fm - 2 f0) / mu^2       = v^T H v        + O(mu^2)

both exact on a quadratic for every ``mu``. HiZOO (Zhao et al., "Second-order fine-tuning without pain for LLMs: a
Hessian-informed zeroth-order optimizer", 2024) and ZO-HessAware (Ye et al., "Hessian-aware zeroth-order
optimization", 2018) read the Hessian from these same values; the curvature is free next to a central
difference once ``f(x)`` is queried anyway (one query more than a forward difference).

**Metric.** Directions are ``v = A z`` with ``z ~ N(0, I)``: ``A`` is a factor of the sampling covariance
``C = A A^T``, learned so that the Hessian seen through it, ``A^T H A``, is a multiple ``kappa`` of the identity
(``C -> H^{-1} / kappa``, Newton's metric; ``E[(g . v) v] = C g`` is then the Newton direction). One measurement
gives ``lambda = c / |z|^2``, the whitened curvature along ``zh = z / |z|``; the factor is rescaled along ``zh`` so
that this curvature becomes ``kappa`` (the running geometric mean of the measurements)::

    A <- A (I + (rho^(-1/2) - 1) zh zh^T),     rho = clip(lambda / kappa, 1 / clip, clip)

after which ``zh^T A'^T H A' zh = kappa`` when ``rho`` was not clipped (a rank-one, Frobenius-smallest correction of
the factor along the measured direction, the multiplicative form of the randomized Hessian estimate of
Leventhal & Lewis, "Randomized Hessian estimation and directional search", Optimization 60, 2011). The diagonal
form (``A`` a vector, ``v = A * z``) rescales each coordinate by its share of ``zh``:
``A_i <- A_i (1 + (rho^(-1/2) - 1) zh_i^2)``; it learns an axis-aligned conditioning only. A curvature ``c <= 0``
(not convex along ``v``) teaches nothing and is skipped.

**Line step.** The minimizer of the quadratic model along ``v``: ``t = -D / c`` (``c > 0``), else a step of the
whole radius downhill, ``t = -sign(D) radius / |z|``; ``|t| |z| <= radius`` (the trust radius, in the whitened
space ``y`` of ``x = x_c + A y``). This is random pursuit with exact line steps in a learned metric (Stich, Mueller &
Gaertner, "Variable metric random pursuit", Math. Program. 156, 2016), the line search replaced by the curvature
of the same three points.

Arrays: ``values`` is ``(1 + 2q,)`` (``[f0, fp_1 .. fp_q, fm_1 .. fm_q]``), ``Z`` is ``(q, d)``; numpy.
"""

from __future__ import annotations

import math

import numpy as np

KINDS = ("full", "diag")


def points(x: np.ndarray, V: np.ndarray, mu: float) -> np.ndarray:
    """The probe batch ``[x, x + mu v_1 .. x + mu v_q, x - mu v_1 .. x - mu v_q]``, ``(1 + 2q, d)``."""
    return np.concatenate([x[None, :], x + mu * V, x - mu * V])


def directions(A: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``v_j = A z_j`` for the rows of ``Z`` (``A`` a ``(d, d)`` factor or a ``(d,)`` diagonal)."""
    return Z @ A.T if A.ndim == 2 else Z * A


def three_point(values: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mu D, mu^2 c)``, each ``(q,)``: the first and second differences along the ``q`` directions,
    ``(fp - fm) / 2`` and ``(fp - f0) + (fm - f0)``, not yet divided by ``mu`` (which may be 1e-300: ``mu^2``
    would underflow); non-finite where a value of the pair, or ``f0``, is."""
    f0 = values[0]
    fp, fm = values[1 : 1 + q], values[1 + q : 1 + 2 * q]
    with np.errstate(invalid="ignore", over="ignore"):
        return (fp - fm) / 2.0, (fp - f0) + (fm - f0)  # differences first: f0 may be large next to them


def estimate(A: np.ndarray, Z: np.ndarray, first: np.ndarray, mu: float) -> np.ndarray | None:
    """The preconditioned gradient estimate ``(1/q') sum_j D_j v_j = A (1/q') sum_j D_j z_j`` (``D_j = first_j /
    mu``) over the finite directions (``E = C grad f`` for Gaussian ``z``; the central two-point estimate when
    ``A = I``); None when no direction is finite."""
    D = first / mu
    ok = np.isfinite(D)
    if not ok.any():
        return None
    y = (D @ Z) / D.size if ok.all() else (D[ok] @ Z[ok]) / int(ok.sum())
    return A @ y if A.ndim == 2 else A * y


def step(A: np.ndarray, Z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``sum_j t_j v_j = A (sum_j t_j z_j)``: one product with the factor, whatever ``q``."""
    y = t @ Z
    return A @ y if A.ndim == 2 else A * y


def log_whitened_curvature(z: np.ndarray, second: float, mu: float) -> float:
    """``log lambda``, ``lambda = c / |z|^2`` the curvature of ``f`` seen through the metric along ``z / |z|``
    (``c = second / mu^2``), in logs so that no scale over- or underflows; NaN unless ``second > 0``."""
    if not (second > 0.0 and math.isfinite(second)):
        return math.nan
    return math.log(second) - 2.0 * math.log(mu) - math.log(float(z @ z))


def update_factor(A: np.ndarray, z: np.ndarray, rho: float) -> np.ndarray:
    """The factor rescaled along ``zh = z / |z|`` so that a measured whitened curvature ``rho * kappa`` becomes
    ``kappa``: ``A (I + (rho^(-1/2) - 1) zh zh^T)`` (full) or ``A * (1 + (rho^(-1/2) - 1) zh^2)`` (diagonal).
    ``rho > 0``; the caller clips it."""
    beta = 1.0 / math.sqrt(rho) - 1.0
    zh = z / math.sqrt(float(z @ z))
    if A.ndim == 1:
        return A * (1.0 + beta * zh * zh)
    return A + np.outer(beta * (A @ zh), zh)


def update_factor_many(A: np.ndarray, Z: np.ndarray, rhos: np.ndarray) -> np.ndarray:
    """:func:`update_factor` for each row of ``Z`` in turn, as one product: the rank-one factors multiply to
    ``I + U W^T`` (``u_j = beta_j (I + U W^T) zh_j``, ``w_j = zh_j``), so the factor is touched once,
    ``A + (A U) W^T``, whatever the number of directions (``O(q d^2)``, one new ``(d, d)`` array)."""
    Zh = Z / np.sqrt(np.einsum("ij,ij->i", Z, Z))[:, None]
    betas = 1.0 / np.sqrt(rhos) - 1.0
    if A.ndim == 1:
        return A * np.prod(1.0 + betas[:, None] * Zh * Zh, axis=0)
    q = Zh.shape[0]
    U = np.empty((A.shape[0], q))
    for j in range(q):
        c = Zh[j] + U[:, :j] @ (Zh[:j] @ Zh[j]) if j else Zh[j]
        U[:, j] = betas[j] * c
    return A + (A @ U) @ Zh


def line_steps(first: np.ndarray, second: np.ndarray, Z: np.ndarray, mu: float, radius: float) -> np.ndarray:
    """The step coefficients ``t_j`` (the step is ``sum_j t_j v_j``): ``-D_j / c_j = -mu first_j / second_j``
    where the curvature is positive, else the whole radius downhill; zero where a difference is not finite;
    the whitened length of the sum of the ``q`` steps is capped at ``radius`` (``|sum_j t_j z_j| <= radius``)."""
    norms = np.sqrt(np.einsum("ij,ij->i", Z, Z))
    ok = np.isfinite(first) & np.isfinite(second)
    convex = ok & (second > 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.where(convex, -mu * (first / np.where(convex, second, 1.0)), -np.sign(first) * radius / norms)
    t = np.where(ok & np.isfinite(t), t, 0.0)
    length = float(np.linalg.norm(t @ Z)) if t.size > 1 else abs(float(t[0])) * float(norms[0])
    if length > radius > 0.0 or not math.isfinite(length):
        t = t * (radius / length) if math.isfinite(length) and length > 0.0 else np.zeros_like(t)
    return t
