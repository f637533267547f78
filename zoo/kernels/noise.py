"""Gaussian directions read from a shared noise table, and the estimate assembled from them.

Why a table: drawing a fresh standard normal costs about 9 ns here, i.e. 9 us per direction at d=1000,
which alone is above the per-candidate overhead we allow. OpenAI-ES and Deep GA read directions as slices of
one pre-drawn table at random offsets instead; a direction is then one integer (its offset), cheap to store,
send and replay. Shifted slices of an i.i.d. sequence are uncorrelated, so each direction is N(0, I) and
distinct directions are uncorrelated (``tests/kernels`` checks the first two moments).

Kernels (``@njit``) and their plain-numpy twins, held equal by tests:

- ``perturb``: ``out[b, i] = x[b] + s * c_bi * table[o_bi : o_bi + d]`` with ``c_bi = 1`` (Gaussian) or
  ``c_bi = sqrt(d) / ||table[o_bi : o_bi + d]||`` (uniform on the sphere of radius sqrt(d)); forward rows are
  ``[x, x + mu u_1, ...]``, central rows ``[x + mu u_1, ..., x - mu u_1, ...]``.
- ``assemble``: ``g[b] = sum_i w_bi * table[o_bi : o_bi + d]``.

Both take a leading batch axis ``b`` (runs or clients); :func:`perturb_rows` / :func:`assemble_rows` are the
batch of one.
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


class _Count(int):
    """An ``int`` whose ``np.prod`` is itself, found without numpy's reduction machinery.

    ``Generator.integers(..., size=n)`` computes ``np.prod(size)`` (to return early on an empty draw) before it
    draws; for a plain int that is numpy's array-function dispatch, ``_wrapreduction`` and a ``multiply.reduce``
    of a 0-d array: about 21,000 of the 37,000 instructions of a draw of 8 offsets, a tenth of a zo-adam step at
    d=10. This subclass answers the dispatch (NEP 18's ``__array_function__``) for ``np.prod`` with the count
    itself, the same number; any other function gets the plain int. The draw is the same call with the same
    ``size`` value, so the numbers, the array and the generator's state are those of ``size=n``, bit for bit
    (``tests/kernels/test_noise_kernels.py``)."""

    __slots__ = ()

    def __array_function__(self, func, types, args, kwargs):
        if func is np.prod and len(args) == 1 and not kwargs:
            return int(self)
        return func(*[int(a) if a is self else a for a in args], **kwargs)


_COUNTS: dict[int, _Count] = {}


def draw_offsets(rng: np.random.Generator, q: int, d: int) -> np.ndarray:
    """``q`` random start offsets of slices of length ``d`` in the table: ``rng.integers(0, TABLE_SIZE - d,
    size=q, dtype=np.int64)``, with ``q`` passed as a :class:`_Count`."""
    if d > TABLE_SIZE // 4:
        raise ValueError(f"the noise table holds {TABLE_SIZE} numbers; d={d} is too large, use noise='rng'")
    size = _COUNTS.get(q)
    if size is None:
        size = _COUNTS[q] = _Count(q)
    return rng.integers(0, TABLE_SIZE - d, size=size, dtype=np.int64)


# ------------------------------------------------------------------------------------------------ numba
# Every kernel takes a leading batch axis B (one row per run or client; the numpy methods pass B = 1).
# Loops run over 1-D slice views of the table and of the output rows: that is what lets Numba vectorize them
# (4-10x faster than 2-D indexing here). fastmath only contracts x + s*t into one FMA and reorders the norm's
# sum, so results equal the numpy twin to ~1 ulp (the tests allow 1e-14 relative).
@numba.njit(cache=True, fastmath=True)
def perturb(x, table, offsets, mu, sphere, central, out, scales):  # pragma: no cover - compiled
    B, d = x.shape
    q = offsets.shape[1]
    base = 0 if central else 1
    for b in range(B):
        xb = x[b]
        if not central:
            out[b, 0, :] = xb
        for i in range(q):
            o = offsets[b, i]
            seg = table[o : o + d]
            c = 1.0
            if sphere:
                acc = 0.0
                for j in range(d):
                    t = np.float64(seg[j])
                    acc += t * t
                c = math.sqrt(d) / math.sqrt(acc)
            scales[b, i] = c
            s = mu * c
            row = out[b, base + i]
            for j in range(d):
                row[j] = xb[j] + s * np.float64(seg[j])
            if central:
                row = out[b, q + i]
                for j in range(d):
                    row[j] = xb[j] - s * np.float64(seg[j])


@numba.njit(cache=True, fastmath=True)
def assemble(table, offsets, coef, d, out):  # pragma: no cover - compiled
    B = offsets.shape[0]
    for b in range(B):
        ob = out[b]
        ob[:] = 0.0
        for i in range(offsets.shape[1]):
            w = coef[b, i]
            if w == 0.0:
                continue
            o = offsets[b, i]
            seg = table[o : o + d]
            for j in range(d):
                ob[j] += w * np.float64(seg[j])


# ------------------------------------------------------------------------------------------------ numpy
def directions_numpy(table, offsets, d):
    """The directions ``table[o : o + d]`` as float64, shape ``offsets.shape + (d,)``."""
    return table[offsets[..., None] + np.arange(d)].astype(np.float64)


def perturb_numpy(x, table, offsets, mu, sphere, central):
    """Numpy twin of :func:`perturb` (``x`` (B, d), ``offsets`` (B, q)); returns ``(X, scales)``."""
    d = x.shape[-1]
    U = directions_numpy(table, offsets, d)
    if sphere:
        scales = math.sqrt(d) / np.sqrt(np.einsum("...ij,...ij->...i", U, U))
    else:
        scales = np.ones(offsets.shape)
    step = (mu * scales)[..., None] * U
    xb = x[:, None, :]
    if central:
        return np.concatenate([xb + step, xb - step], axis=1), scales
    return np.concatenate([xb, xb + step], axis=1), scales


def assemble_numpy(table, offsets, coef, d):
    """Numpy twin of :func:`assemble`: ``g[b] = sum_i coef[b, i] table[o_bi : o_bi + d]``."""
    U = directions_numpy(table, offsets, d)
    return np.einsum("bi,bij->bj", coef, U)


def perturb_batch(x, offsets, mu, sphere, central, use_numba=True):
    """The query batches ``(B, n, d)`` for table directions ``offsets`` (B, q) around ``x`` (B, d): forward
    rows ``[x, x + mu c u_1, ...]``, central rows ``[x + mu c u_1, ..., x - mu c u_1, ...]``; returns
    ``(X, scales)`` with ``scales`` (B, q) the ``c`` of each direction (1, or the sphere normalization)."""
    table = noise_table()
    if not use_numba:
        return perturb_numpy(x, table, offsets, mu, sphere, central)
    B, q = offsets.shape
    X = np.empty((B, 2 * q if central else q + 1, x.shape[1]))
    scales = np.empty((B, q))
    perturb(x, table, offsets, float(mu), bool(sphere), bool(central), X, scales)
    return X, scales


def assemble_batch(offsets, coef, d, use_numba=True):
    """``g[b] = sum_i coef[b, i] * table[o_bi : o_bi + d]``, shape (B, d) (fold any scale into ``coef``)."""
    table = noise_table()
    if not use_numba:
        return assemble_numpy(table, offsets, coef, d)
    out = np.empty((offsets.shape[0], d))
    assemble(table, offsets, np.ascontiguousarray(coef, dtype=np.float64), int(d), out)
    return out


def perturb_rows(x, offsets, mu, sphere, central, use_numba=True):
    """:func:`perturb_batch` for one point ``x`` (d,) and offsets (q,): ``(X (n, d), scales (q,))``."""
    X, scales = perturb_batch(x[None, :], offsets[None, :], mu, sphere, central, use_numba)
    return X[0], scales[0]


def assemble_rows(offsets, coef, d, use_numba=True):
    """:func:`assemble_batch` for one row: ``sum_i coef_i * table[o_i : o_i + d]``."""
    return assemble_batch(offsets[None, :], np.asarray(coef)[None, :], d, use_numba)[0]
