"""The offspring batch of a Deep-GA generation, read from the shared noise table (Numba kernel + numpy twin).

Row ``i`` of the batch is::

    base_i   = parents[p_i]                                  (mate m_i < 0: no crossover)
    base_i   = where(mask[r_i], parents[m_i], parents[p_i])  (uniform crossover with mate m_i)
    child_i  = base_i + w * table[(o_i + j) mod N]           (o_i < 0: no mutation, e.g. the elite)
    child_i  = clip(child_i, lo, hi)                          (when bounded)

``w`` is the per-coordinate mutation width ``(d,)`` (elementwise; a problem whose coordinates live on
different scales mutates each on its own), ``table`` is :func:`zoo.kernels.noise.noise_table` (float32,
N = 4 Mi numbers); a mutation is the single integer ``o_i``. Slices wrap around the end of the table, so any offset in ``[0, N)`` and any ``d <= N`` is
valid (a wrapped slice is still ``d`` distinct i.i.d. table entries). The kernel and its twin do the same
float64 operations in the same order (no fused multiply-add: ``fastmath=False``), so they agree bit for bit,
and a genome replayed by :mod:`zoo.population.genome` reproduces a population member exactly.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, fastmath=False)
def offspring(  # pragma: no cover - compiled
    parents, parent_idx, mate_idx, mask_row, mask, table, offsets, widths, lo, hi, bounded, out
):
    n_table = table.shape[0]
    d = parents.shape[1]
    # one width for every coordinate (a scalar sigma, the default off an unbounded x0 = 0): multiply by a
    # scalar, which vectorizes better than an elementwise width (the same products, so the same bits)
    uniform = True
    for j in range(1, d):
        if widths[j] != widths[0]:
            uniform = False
            break
    w0 = widths[0] if d > 0 else 0.0
    for i in range(parent_idx.shape[0]):
        p = parent_idx[i]
        m = mate_idx[i]
        if m < 0:
            for j in range(d):
                out[i, j] = parents[p, j]
        else:
            r = mask_row[i]
            for j in range(d):
                out[i, j] = parents[m, j] if mask[r, j] else parents[p, j]
        o = offsets[i]
        if o >= 0:
            # two loops instead of a modulo per element: the common no-wrap case stays vectorizable
            head = min(d, n_table - o)
            if uniform:
                for j in range(head):
                    out[i, j] = out[i, j] + w0 * np.float64(table[o + j])
            else:
                for j in range(head):
                    out[i, j] = out[i, j] + widths[j] * np.float64(table[o + j])
            for j in range(head, d):
                out[i, j] = out[i, j] + widths[j] * np.float64(table[o + j - n_table])
        if bounded:
            for j in range(d):
                v = out[i, j]
                if v < lo[j]:
                    v = lo[j]
                if v > hi[j]:
                    v = hi[j]
                out[i, j] = v


def offspring_numpy(parents, parent_idx, mate_idx, mask_row, mask, table, offsets, widths, lo, hi, bounded):
    """Numpy twin of :func:`offspring`; returns the batch."""
    d = parents.shape[1]
    X = parents[parent_idx].copy()
    crossed = np.flatnonzero(mate_idx >= 0)
    if crossed.size:
        X[crossed] = np.where(mask[mask_row[crossed]], parents[mate_idx[crossed]], X[crossed])
    mutated = np.flatnonzero(offsets >= 0)
    if mutated.size:
        idx = (offsets[mutated, None] + np.arange(d)) % table.shape[0]
        X[mutated] = X[mutated] + widths * table[idx].astype(np.float64)
    if bounded:
        X = np.minimum(np.maximum(X, lo), hi)
    return X


def table_slice(table: np.ndarray, offset: int, d: int) -> np.ndarray:
    """``table[(offset + j) mod N]`` for ``j < d`` as float64 (the mutation direction of one offset)."""
    n = table.shape[0]
    head = min(d, n - offset)
    out = np.empty(d)
    out[:head] = table[offset : offset + head]
    out[head:] = table[: d - head]
    return out
