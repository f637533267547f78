"""Probes: the directions and coordinates an estimator queries, batched over a leading axis ``B``.

- Gaussian ``u ~ N(0, I)``; ``sphere``: ``u`` uniform on the sphere of radius ``sqrt(d)`` (so ``E[u u^T] = I``);
  ``rademacher``: ``u in {-1, +1}^d`` (SPSA, Spall 1992); ``orthogonal``: the ``q <= d`` directions
  orthogonalized and scaled to norm ``sqrt(d)``.
- Table directions (:mod:`zoo.kernels.noise`): a direction is an offset into the shared noise table; each row of
  the batch draws its offsets from its own generator, so a federated client's numbers do not depend on which
  other clients share its stack.
- Coordinates (CGE): all ``d``, a fresh random subset of ``k``, or a fixed index set.
- Rank probes (ZO-RankSGD): ``m`` Gaussian directions, optionally antithetic (``xi`` and ``-xi``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.kernels import noise as _noise

DIRECTIONS = ("gaussian", "sphere", "rademacher")


def draw(
    rng: np.random.Generator, q: int, d: int, kind: str = "gaussian", orthogonal: bool = False
) -> np.ndarray:
    """``(q, d)`` fresh directions from ``rng``: ``kind`` one of :data:`DIRECTIONS`."""
    if kind == "rademacher":
        U = rng.integers(0, 2, size=(q, d), dtype=np.int8).astype(np.float64) * 2.0 - 1.0
    else:
        U = rng.standard_normal((q, d))
        if kind == "sphere":
            U *= math.sqrt(d) / np.linalg.norm(U, axis=1, keepdims=True)
    if orthogonal:
        Q, R = np.linalg.qr(U.T)  # Q: (d, q) orthonormal columns
        Q *= np.sign(np.diag(R))  # fix QR's sign ambiguity so that the rows stay symmetric in law
        U = Q.T * math.sqrt(d)
    return U


def table_offsets(rngs: Sequence[np.random.Generator], q: int, d: int) -> np.ndarray:
    """``(B, q)`` table offsets, row ``b`` drawn from ``rngs[b]`` (the draws of ``zoo.RGE(noise="table")``)."""
    if len(rngs) == 1:
        return _noise.draw_offsets(rngs[0], q, d)[None, :]
    return np.stack([_noise.draw_offsets(r, q, d) for r in rngs])


def table_directions(offsets: np.ndarray, d: int) -> np.ndarray:
    """The table directions of ``offsets`` as float64 arrays, shape ``offsets.shape + (d,)``."""
    return _noise.directions_numpy(_noise.noise_table(), offsets, d)


def coordinates(rng: np.random.Generator, d: int, spec: Any) -> np.ndarray:
    """The coordinate set of one CGE step: ``spec`` None (all ``d``), an int ``k`` (a sorted random subset of
    ``k``, the sparse CGE of DeepZero), or a fixed sequence of indices."""
    if spec is None:
        return np.arange(d)
    if isinstance(spec, (int, np.integer)):
        return np.sort(rng.choice(d, size=int(spec), replace=False))
    return np.asarray(spec, dtype=np.int64)


def rank_directions(rng: np.random.Generator, m: int, d: int, antithetic: bool = False) -> np.ndarray:
    """``(m, d)`` Gaussian directions of a rank probe; ``antithetic``: ``xi`` and ``-xi`` (m even), as in ES."""
    if antithetic:
        half = rng.standard_normal((m // 2, d))
        return np.concatenate([half, -half])
    return rng.standard_normal((m, d))


def shifted(x: Any, U: Any, mu: float) -> Any:
    """``x[b] + mu * U[b, j]`` for ``x`` (B, d) and ``U`` (B, n, d): the points of a one-sided probe."""
    return x[:, None, :] + mu * U


def ball(rng: np.random.Generator, d: int, radius: float) -> np.ndarray:
    """One point uniform in the ball ``{z : ||z|| <= radius}`` of R^d: ``radius * U^(1/d) * v / ||v||`` with
    ``v ~ N(0, I)``, ``U ~ U(0, 1)`` (the isotropic perturbation of perturbed gradient descent)."""
    v = rng.standard_normal(d)
    n = float(np.linalg.norm(v))
    if n == 0.0:  # probability zero; keep the draw well defined
        return np.zeros(d)
    return (radius * rng.random() ** (1.0 / d) / n) * v
