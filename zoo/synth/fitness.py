"""The record GA's objective: the weighted squared error of a table's answers against target answers.

``f(D) = sum_q w_q (c_q(D) / N - y_q)^2`` (:func:`zoo.kernels.workload.fitness`), with ``y`` the measured
(noisy) answers and ``w_q = 0`` for queries not measured yet. Two ways to evaluate a batch of tables:

- ``fit(X)``: full recomputation, every record of every table (``O(P N Q)``),
- ``fit.incremental(opt)``: from the parents' counts and the few records each child replaced
  (:meth:`zoo.synth.ga.RecordGA.pending_edits`), ``O(P rows (blocks + ranges + halfspaces))``.

They return the same values (counts are exact integers; fitness agrees to rounding); a test holds them equal.
The incremental path keeps the counts of the GA's current parents, keyed by member id, and the sparse count
change of the last batch's children, so a child that becomes a parent gets its counts without a recount.
After ``load_state_dict`` (or any unknown parent) it recounts that parent once.
"""

from __future__ import annotations

import numpy as np

from zoo.kernels import workload as _k
from zoo.synth.queries import Workload


class WorkloadFitness:
    """Objective over flattened tables ``(P, N*m)`` for :class:`zoo.synth.ga.RecordGA`."""

    def __init__(
        self,
        workload: Workload,
        n_records: int,
        target: np.ndarray,
        weights: np.ndarray,
        use_numba: bool = True,
    ):
        self.workload = workload.build()
        self.n_records = int(n_records)
        self.m = len(workload.domain)
        self.use_numba = use_numba
        self.set_target(target, weights)
        self._counts: dict[int, np.ndarray] = {}
        self._children: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}
        self._scratch = np.zeros(self.n_queries)
        self._mark = np.zeros(self.n_queries, dtype=np.bool_)

    @property
    def n_queries(self) -> int:
        return self.workload.n_queries

    def set_target(self, target: np.ndarray, weights: np.ndarray) -> None:
        """New measured answers (a new round); the counts kept stay valid."""
        target = np.asarray(target, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        if target.shape != (self.n_queries,) or weights.shape != (self.n_queries,):
            raise ValueError(f"target and weights must have shape ({self.n_queries},)")
        self.y, self.w = target, weights

    def value(self, counts: np.ndarray) -> float:
        return _k.fitness(counts, self.y, self.w, 1.0 / self.n_records)

    def table_counts(self, x: np.ndarray) -> np.ndarray:
        return self.workload.counts(np.asarray(x).reshape(self.n_records, self.m), self.use_numba)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Full recomputation for each flattened table of the batch."""
        return np.array([self.value(self.table_counts(x)) for x in np.atleast_2d(X)])

    # ------------------------------------------------------------------ incremental
    def _parent_counts(self, edits: dict) -> np.ndarray:
        out = np.empty((len(edits["parent_ids"]), self.n_queries))
        known: dict[int, np.ndarray] = {}
        for s, pid in enumerate(edits["parent_ids"].tolist()):
            c = self._counts.get(pid)
            if c is None and pid in self._children:
                src, idx, val = self._children[pid]
                if src in self._counts:
                    c = self._counts[src].copy()
                    np.add.at(c, idx, val)
            if c is None:
                c = self.table_counts(edits["parents"][s])
            out[s] = c
            known[pid] = c
        self._counts = known  # only the current parents' counts are kept
        return out

    def incremental(self, opt) -> np.ndarray:
        """Fitness of ``opt``'s pending batch from its parents' counts and the records each child changed."""
        X = opt.pending
        if X is None:
            raise RuntimeError("incremental() needs a pending batch: call opt.ask() first")
        edits = opt.pending_edits()
        if edits is None:  # generation 0: one table, counted in full
            c = self.table_counts(X[0])
            self._counts, self._children = {int(opt.state.next_id): c}, {}
            return np.array([self.value(c)])
        pc = self._parent_counts(edits)
        pf = np.array([self.value(c) for c in pc])
        old, new = edits["old"], edits["new"]
        P, k = old.shape[0], old.shape[1]
        wl = self.workload
        n_user = len(wl.user_fns)
        ud = np.zeros((P, n_user))
        if n_user:
            m = self.m
            for u, fn in enumerate(wl.user_fns):
                dn = np.asarray(fn(new.reshape(P * k, m)), dtype=np.float64).reshape(P, k).sum(axis=1)
                do = np.asarray(fn(old.reshape(P * k, m)), dtype=np.float64).reshape(P, k).sum(axis=1)
                ud[:, u] = dn - do
        inv_n = 1.0 / self.n_records
        if not self.use_numba:
            f, dense = _k.children_fitness_numpy(
                pc, pf, edits["parent"], old, new, ud, wl.user_offset, wl.layout, self.y, self.w, inv_n
            )
            self._children = {}
            for i, cid in enumerate(edits["child_ids"].tolist()):
                idx = np.flatnonzero(dense[i])
                self._children[cid] = (int(edits["parent_ids"][edits["parent"][i]]), idx, dense[i, idx])
            return f
        n_b = wl.m_attrs.shape[0]
        width = 2 * k * n_b + (self.n_queries - int(wl.m_offset[-1]))
        t_idx = np.empty((P, max(width, 1)), dtype=np.int64)
        t_val = np.empty((P, max(width, 1)))
        n_t = np.empty(P, dtype=np.int64)
        f = np.empty(P)
        _k.children_fitness(
            pc, pf, np.asarray(edits["parent"], dtype=np.int64), old, new, ud, wl.user_offset, *wl.layout,
            self.y, self.w, inv_n, self._scratch, self._mark, t_idx, t_val, n_t, f,
        )  # fmt: skip
        pids = edits["parent_ids"][edits["parent"]]
        self._children = {
            cid: (int(pids[i]), t_idx[i, : n_t[i]], t_val[i, : n_t[i]])
            for i, cid in enumerate(edits["child_ids"].tolist())
        }
        return f
