"""Gaussian directions read from a shared noise table, and the estimate assembled from them.

Why a table: drawing a fresh standard normal costs about 9 ns here, i.e. 9 us per direction at d=1000,
which alone is above the per-candidate overhead we allow. OpenAI-ES and Deep GA read directions as slices of
one pre-drawn table at random offsets instead; a direction is then one integer (its offset), cheap to store,
send and replay. Shifted slices of an i.i.d. sequence are uncorrelated, so each direction is N(0, I) and
distinct directions are uncorrelated (``tests/kernels`` checks the first two moments).

Kernels (``@njit``) and their plain-numpy twins, held equal by tests:

- ``perturb``: ``out[i] = x + s * c_i * table[o_i : o_i + d]`` with ``c_i = 1`` (Gaussian) or
  ``c_i = sqrt(d) / ||table[o_i : o_i + d]||`` (uniform on the sphere of radius sqrt(d)); forward rows are
  ``[x, x + mu u_1, ...]``, central rows ``[x + mu u_1, ..., x - mu u_1, ...]``.
- ``assemble``: ``g = sum_i w_i * c_i * table[o_i : o_i + d]``.
"""

from __future__ import annotations

import math

import numba
import numpy as np

TABLE_SIZE = 1 << 22  # 4 Mi float32 = 16 MiB, shared by every optimizer in the process
TABLE_SEED = 20260101
_TABLE: np.ndarray | None = None


def noise_table() -> np.ndarray:
    """The process-wide table of i.i.d. N(0, 1) float32 numbers (built once, deterministic)."""
    global _TABLE
    if _TABLE is None:
        rng = np.random.Generator(np.random.PCG64(TABLE_SEED))
        table = rng.standard_normal(TABLE_SIZE, dtype=np.float32)
        table.flags.writeable = False
        _TABLE = table
    return _TABLE


def draw_offsets(rng: np.random.Generator, q: int, d: int) -> np.ndarray:
    """``q`` random start offsets of slices of length ``d`` in the table."""
    if d > TABLE_SIZE // 4:
        raise ValueError(f"the noise table holds {TABLE_SIZE} numbers; d={d} is too large, use noise='rng'")
    return rng.integers(0, TABLE_SIZE - d, size=q, dtype=np.int64)


# ------------------------------------------------------------------------------------------------ numba
# Loops run over 1-D slice views of the table and of the output rows: that is what lets Numba vectorize them
# (4-10x faster than 2-D indexing here). fastmath only contracts x + s*t into one FMA and reorders the norm's
# sum, so results equal the numpy twin to ~1 ulp (the tests allow 1e-14 relative).
@numba.njit(cache=True, fastmath=True)
def perturb(x, table, offsets, mu, sphere, central, out, scales):  # pragma: no cover - compiled
    d = x.shape[0]
    q = offsets.shape[0]
    base = 0 if central else 1
    if not central:
        out[0, :] = x
    for i in range(q):
        seg = table[offsets[i] : offsets[i] + d]
        c = 1.0
        if sphere:
            acc = 0.0
            for j in range(d):
                t = np.float64(seg[j])
                acc += t * t
            c = math.sqrt(d) / math.sqrt(acc)
        scales[i] = c
        s = mu * c
        row = out[base + i]
        for j in range(d):
            row[j] = x[j] + s * np.float64(seg[j])
        if central:
            row = out[q + i]
            for j in range(d):
                row[j] = x[j] - s * np.float64(seg[j])


@numba.njit(cache=True, fastmath=True)
def assemble(table, offsets, coef, d, out):  # pragma: no cover - compiled
    out[:] = 0.0
    for i in range(offsets.shape[0]):
        w = coef[i]
        if w == 0.0:
            continue
        seg = table[offsets[i] : offsets[i] + d]
        for j in range(d):
            out[j] += w * np.float64(seg[j])


# ------------------------------------------------------------------------------------------------ numpy
def perturb_numpy(x, table, offsets, mu, sphere, central):
    """Numpy twin of :func:`perturb`; returns ``(X, scales)``."""
    d = x.shape[0]
    U = table[offsets[:, None] + np.arange(d)].astype(np.float64)
    if sphere:
        scales = math.sqrt(d) / np.sqrt(np.einsum("ij,ij->i", U, U))
    else:
        scales = np.ones(len(offsets))
    step = (mu * scales)[:, None] * U
    if central:
        return np.concatenate([x + step, x - step]), scales
    return np.concatenate([x[None, :], x + step]), scales


def assemble_numpy(table, offsets, coef, d):
    """Numpy twin of :func:`assemble`."""
    U = table[offsets[:, None] + np.arange(d)].astype(np.float64)
    return coef @ U


def perturb_rows(x, offsets, mu, sphere, central, use_numba=True):
    """Build the query batch for table directions; returns ``(X, scales)``."""
    table = noise_table()
    q = len(offsets)
    if not use_numba:
        return perturb_numpy(x, table, offsets, mu, sphere, central)
    X = np.empty((2 * q if central else q + 1, x.shape[0]))
    scales = np.empty(q)
    perturb(x, table, offsets, float(mu), bool(sphere), bool(central), X, scales)
    return X, scales


def assemble_rows(offsets, coef, d, use_numba=True):
    """``sum_i coef_i * table[o_i : o_i + d]`` (fold any per-row scale into ``coef``)."""
    table = noise_table()
    if not use_numba:
        return assemble_numpy(table, offsets, coef, d)
    out = np.empty(d)
    assemble(table, offsets, np.ascontiguousarray(coef, dtype=np.float64), int(d), out)
    return out
