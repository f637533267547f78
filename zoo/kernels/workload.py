"""Answers of a workload of statistical queries on a table of records (Numba kernels + numpy twins).

A record ``x`` (encoded, :mod:`zoo.synth.domain`) counts for query ``q`` with weight ``phi_q(x)``; the count
of a table is ``c_q = sum_i phi_q(x_i)`` and its answer ``a_q = c_q / n``. The workload is laid out flat:

- marginal blocks ``b`` over attributes ``A_b`` (padded with -1): the record adds 1 to the one cell
  ``offset_b + sum_j x[A_bj] * stride_bj`` (a k-way marginal is ``prod_j |A_bj|`` cells),
- ranges ``r``: ``phi = 1[lo_r <= x[attr_r] <= hi_r]`` (numeric attributes, encoded in [0, 1]),
- halfspaces ``h``: ``phi = 1[w_h . x >= b_h]`` (weights on numeric attributes only).

The answer vector lists marginal cells, then ranges, then halfspaces (then user queries, which are Python
callables and stay outside the kernels).

GA fitness (weighted squared error against measured answers ``y`` with weights ``w``, zero = unmeasured)::

    f(D) = sum_q w_q (c_q(D) / n - y_q)^2

A child that differs from its parent in a few records gets its counts incrementally,
``c(child) = c(parent) + sum_rows (phi(new) - phi(old))``: only the cells those records touch change, so
``f(child) = f(parent) + sum_{q touched} w_q [((c_q + d_q)/n - y_q)^2 - (c_q/n - y_q)^2]``. This is what makes
the record GA fast (:mod:`zoo.synth.fitness`). Counts are exact integers held in float64, so incremental and
full counts agree exactly; fitness values agree to rounding.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _row_add(x, sign, m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b, out):  # pragma: no cover
    n_b, k_max = m_attrs.shape
    for b in range(n_b):
        idx = m_offset[b]
        for j in range(k_max):
            a = m_attrs[b, j]
            if a < 0:
                break
            idx += np.int64(x[a]) * m_strides[b, j]
        out[idx] += sign
    base = m_offset[n_b]
    for r in range(r_attr.shape[0]):
        v = x[r_attr[r]]
        if r_lo[r] <= v <= r_hi[r]:
            out[base + r] += sign
    base += r_attr.shape[0]
    for h in range(h_b.shape[0]):
        s = 0.0
        for j in range(h_w.shape[1]):
            s += h_w[h, j] * x[j]
        if s >= h_b[h]:
            out[base + h] += sign


@numba.njit(cache=True)
def counts(X, m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b, out):  # pragma: no cover
    """Full recomputation: ``out[q] = sum_i phi_q(X[i])`` (out is zeroed first)."""
    out[:] = 0.0
    for i in range(X.shape[0]):
        _row_add(X[i], 1.0, m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b, out)


def counts_numpy(X, m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b, n_queries):
    """Numpy twin of :func:`counts` (vectorized over records)."""
    X = np.asarray(X, dtype=np.float64)
    out = np.zeros(n_queries)
    for b in range(m_attrs.shape[0]):
        attrs = m_attrs[b][m_attrs[b] >= 0]
        idx = m_offset[b] + X[:, attrs].astype(np.int64) @ m_strides[b, : attrs.size]
        out[m_offset[b] : m_offset[b + 1]] = np.bincount(
            idx - m_offset[b], minlength=m_offset[b + 1] - m_offset[b]
        )
    base = m_offset[-1]
    if r_attr.size:
        v = X[:, r_attr]
        out[base : base + r_attr.size] = ((v >= r_lo) & (v <= r_hi)).sum(axis=0)
    base += r_attr.size
    if h_b.size:
        # same summation order as the kernel (left to right over columns), so ties at b_h agree
        s = np.zeros((X.shape[0], h_b.size))
        for j in range(h_w.shape[1]):
            s = s + X[:, j : j + 1] * h_w[:, j]
        out[base : base + h_b.size] = (s >= h_b).sum(axis=0)
    return out


@numba.njit(cache=True)
def children_fitness(  # pragma: no cover - compiled
    parent_counts, parent_f, child_parent, old, new, user_delta, user_offset,
    m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b,
    y, w, inv_n, scratch, mark, touched_idx, touched_val, n_touched, out_f,
):  # fmt: skip
    """Fitness of each child from its parent's counts and the records it replaced (see module docstring).

    Child ``i`` = parent ``child_parent[i]`` with records ``old[i, k]`` replaced by ``new[i, k]``. Writes
    ``out_f[i]`` and the sparse count change ``touched_idx[i, :n_touched[i]]``, ``touched_val[i, ...]``.
    ``scratch`` (Q zeros, float64) and ``mark`` (Q zeros, bool) are left as they came.
    """
    n_child, n_rows = old.shape[0], old.shape[1]
    n_b, k_max = m_attrs.shape
    n_q = scratch.shape[0]
    for i in range(n_child):
        p = child_parent[i]
        nt = 0
        for k in range(2 * n_rows):
            x = new[i, k] if k < n_rows else old[i, k - n_rows]
            _row_add(
                x,
                1.0 if k < n_rows else -1.0,
                m_attrs,
                m_strides,
                m_offset,
                r_attr,
                r_lo,
                r_hi,
                h_w,
                h_b,
                scratch,
            )
            # the one cell of each marginal block this record falls in: the loop of _row_add, written out
            # again on purpose (a shared inline='always' helper ran 2x slower here, 9x in counts; 2026-12-02)
            for b in range(n_b):
                idx = m_offset[b]
                for j in range(k_max):
                    a = m_attrs[b, j]
                    if a < 0:
                        break
                    idx += np.int64(x[a]) * m_strides[b, j]
                if not mark[idx]:
                    mark[idx] = True
                    touched_idx[i, nt] = idx
                    nt += 1
        for u in range(user_delta.shape[1]):
            scratch[user_offset + u] += user_delta[i, u]
        for q in range(m_offset[n_b], n_q):  # ranges, halfspaces, user queries: the ones that changed
            if scratch[q] != 0.0:
                touched_idx[i, nt] = q
                nt += 1
        f = parent_f[p]
        for t in range(nt):
            q = touched_idx[i, t]
            d = scratch[q]
            c = parent_counts[p, q]
            e0 = c * inv_n - y[q]
            e1 = (c + d) * inv_n - y[q]
            f += w[q] * (e1 * e1 - e0 * e0)
            touched_val[i, t] = d
            scratch[q] = 0.0
            mark[q] = False
        n_touched[i] = nt
        out_f[i] = f


def children_fitness_numpy(
    parent_counts, parent_f, child_parent, old, new, user_delta, user_offset, layout, y, w, inv_n
):
    """Numpy twin of :func:`children_fitness`: each child's dense count change from full counts of its rows.

    ``layout`` is the tuple ``(m_attrs, m_strides, m_offset, r_attr, r_lo, r_hi, h_w, h_b)``. Returns
    ``(fitness (P,), dense count change (P, Q))``.
    """
    n_q = parent_counts.shape[1]
    f = np.empty(len(child_parent))
    delta = np.zeros((len(child_parent), n_q))
    for i, p in enumerate(child_parent):
        d = counts_numpy(new[i], *layout, n_q) - counts_numpy(old[i], *layout, n_q)
        d[user_offset : user_offset + user_delta.shape[1]] += user_delta[i]
        c = parent_counts[p]
        e0 = c * inv_n - y
        e1 = (c + d) * inv_n - y
        f[i] = parent_f[p] + np.sum(w * (e1 * e1 - e0 * e0))
        delta[i] = d
    return f, delta


def fitness(c, y, w, inv_n) -> float:
    """``sum_q w_q (c_q / n - y_q)^2`` (the one definition of the GA fitness)."""
    e = np.asarray(c) * inv_n - y
    return float(np.sum(w * e * e))
