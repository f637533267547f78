"""The genetic algorithm of Private-GSD: individuals are whole synthetic tables of records.

Liu, Tang, Vietri, Wu, "Generating Private Synthetic Data with Genetic Algorithms", ICML 2023. A member is
a table ``D`` of ``N`` encoded records (:mod:`zoo.synth.domain`), flattened to one vector of ``N * m`` numbers,
so the GA runs through zoo's ask / tell contract (``state_dict``, seeds and budgets as for every method).
One generation, with ``T`` parents (the elite, best first) and ``P`` children::

    child_i   = parents[p_i],  p_i ~ U{0..T-1}, then ``rows`` times:
      mutation  (prob 1 - p_crossover): record r ~ U{0..N-1}, attribute j ~ U{0..m-1}, x_rj <- a fresh value
                (a category ~ U{0..k_j - 1}, or a number ~ U[0, 1] for a numeric attribute)
      crossover (prob p_crossover, T >= 2): record r <- record r' ~ U{0..N-1} of another parent
    parents'  = the T best of parents + children (ties keep the older member: elitism)

A child differs from its parent in at most ``rows`` records, and :meth:`RecordGA.pending_edits` says which,
so the fitness (the error on statistical queries) can be updated incrementally
(:class:`zoo.synth.fitness.WorkloadFitness`) instead of recomputed over all ``N`` records.

Generation 0 is the starting table alone (``x0``; a uniform draw from the domain when none is given).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core.method import Method, Params, State


@dataclasses.dataclass(frozen=True)
class RecordGAParams(Params):
    sizes: tuple = ()  # categories per attribute, 0 = numeric in [0, 1] (Domain.sizes)
    n_records: int = 1000
    popsize: int = 32  # children per generation
    elite: int = 2  # parents kept (T)
    rows: int = 1  # records each child changes
    p_crossover: float = 0.2

    def check(self, dim: int) -> None:
        m = len(self.sizes)
        if m < 1 or any(isinstance(s, bool) or int(s) != s or s < 0 for s in self.sizes):
            raise ValueError(
                f"sizes must list, per attribute, its number of categories (0 = numeric), got {self.sizes!r}"
            )
        for name, v, low in (
            ("n_records", self.n_records, 1),
            ("popsize", self.popsize, 1),
            ("elite", self.elite, 1),
            ("rows", self.rows, 1),
        ):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{name} must be an int >= {low}, got {v!r}")
        if dim != self.n_records * m:
            raise ValueError(
                f"a member has n_records * attributes = {self.n_records * m} numbers, got dim={dim}"
            )
        if isinstance(self.p_crossover, bool) or not 0.0 <= float(self.p_crossover) <= 1.0:
            raise ValueError(f"p_crossover must be a probability in [0, 1], got {self.p_crossover!r}")


@dataclasses.dataclass
class RecordGAState(State):
    generation: int = 0
    parents: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))  # (T, N*m), best first
    parent_f: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))
    parent_ids: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    next_id: int = 1
    batch_parent: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))  # parent slot
    batch_rows: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0), np.int64))
    batch_old: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0, 0)))
    batch_new: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0, 0)))
    n_improved: int = 0  # generations whose best member improved on the previous elite


class RecordGA(Method):
    """Private-GSD's GA on tables of records: mutation of attribute values, record crossover, elitism."""

    name = "record-ga"
    Params = RecordGAParams
    State = RecordGAState
    requires_x0 = False

    def __init__(self, x0: Any = None, *, sizes: Any, n_records: int, **kwargs: Any) -> None:
        sizes = tuple(int(s) for s in np.asarray(sizes).reshape(-1))
        self._draw_x0 = x0 is None
        kwargs.setdefault("dim", n_records * len(sizes))
        super().__init__(x0, sizes=sizes, n_records=n_records, **kwargs)

    @property
    def n_attributes(self) -> int:
        return len(self.params.sizes)

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> None:
        self._sizes = np.asarray(self.params.sizes, dtype=np.int64)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> RecordGAState:
        p = self.params
        table = x0.reshape(p.n_records, self.n_attributes)
        if self._draw_x0:
            u = rng.random(table.shape)
            cat = self._sizes > 0
            u[:, cat] = np.floor(u[:, cat] * self._sizes[cat])
            self.x0 = u.reshape(-1)
        else:
            cat = self._sizes > 0
            bad_cat = cat & ~np.all(
                (table >= 0) & (table < np.maximum(self._sizes, 1)) & (table == np.round(table)), axis=0
            )
            bad_num = ~cat & ~np.all((table >= 0) & (table <= 1), axis=0)
            if bad_cat.any() or bad_num.any():
                cols = np.flatnonzero(bad_cat | bad_num).tolist()
                raise ValueError(
                    f"x0 is not an encoded table of this domain: attribute(s) {cols} out of range"
                )
        return RecordGAState(parents=np.zeros((0, self.dim)))

    def _batch_size(self, state: RecordGAState) -> int:
        return 1 if len(state.parents) == 0 else self.params.popsize

    def _ask(self, state: RecordGAState, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if len(state.parents) == 0:
            return self.x0[None, :].copy()
        n_par, m, P, k = len(state.parents), self.n_attributes, p.popsize, p.rows
        slots = rng.integers(0, n_par, size=P)
        X = state.parents[slots]  # a copy (fancy indexing)
        tables = X.reshape(P, p.n_records, m)
        rows = rng.integers(0, p.n_records, size=(P, k))
        old = np.empty((P, k, m))
        new = np.empty((P, k, m))
        crossing = (rng.random((P, k)) < p.p_crossover) if n_par > 1 else np.zeros((P, k), bool)
        attr = rng.integers(0, m, size=(P, k))
        u = rng.random((P, k))
        sz = self._sizes[attr]
        value = np.where(sz > 0, np.floor(u * sz), u)
        mate = (slots[:, None] + rng.integers(1, max(n_par, 2), size=(P, k))) % n_par
        mate_row = rng.integers(0, p.n_records, size=(P, k))
        ar = np.arange(P)
        par_tables = state.parents.reshape(n_par, p.n_records, m)
        for j in range(k):  # edits apply in order, so a record changed twice stays consistent
            old[:, j] = tables[ar, rows[:, j]]
            rec = old[:, j].copy()
            rec[ar, attr[:, j]] = value[:, j]
            donor = par_tables[mate[:, j], mate_row[:, j]]
            rec = np.where(crossing[:, j, None], donor, rec)
            tables[ar, rows[:, j]] = rec
            new[:, j] = rec
        state.batch_parent, state.batch_rows, state.batch_old, state.batch_new = slots, rows, old, new
        return X

    def _tell(
        self, state: RecordGAState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> RecordGAState:
        n_par, T = len(state.parents), self.params.elite
        pool_f = np.concatenate([state.parent_f, values])
        child_ids = state.next_id + np.arange(len(X), dtype=np.int64)
        pool_ids = np.concatenate([state.parent_ids, child_ids])
        keep = np.argsort(pool_f, kind="stable")[:T]  # parents come first, so ties keep them
        parents = np.stack([state.parents[i] if i < n_par else X[i - n_par] for i in keep])
        improved = n_par > 0 and pool_f[keep[0]] < state.parent_f[0]
        return RecordGAState(
            generation=state.generation + 1,
            parents=parents,
            parent_f=pool_f[keep].copy(),
            parent_ids=pool_ids[keep].copy(),
            next_id=int(state.next_id + len(X)),
            n_improved=state.n_improved + int(improved),
        )

    # ------------------------------------------------------------------ what a fitness needs
    def pending_edits(self) -> dict[str, np.ndarray] | None:
        """What the pending children changed, for an incremental fitness; None for generation 0.

        ``parent_ids (T,)`` and ``parents (T, N*m)`` of the current elite, and per child ``i``: its parent
        slot ``parent[i]``, its id ``child_ids[i]``, the records ``old[i, j]`` it replaced by ``new[i, j]``.
        """
        st = self.state
        if self.pending is None or len(st.parents) == 0:
            return None
        return {
            "parent_ids": st.parent_ids,
            "parents": st.parents,
            "parent": st.batch_parent,
            "child_ids": st.next_id + np.arange(len(st.batch_parent), dtype=np.int64),
            "old": st.batch_old,
            "new": st.batch_new,
        }

    @property
    def best_table(self) -> np.ndarray:
        """The best table seen, shape ``(N, m)`` (encoded)."""
        x = self.state.parents[0] if len(self.state.parents) else self.x0
        return x.reshape(self.params.n_records, self.n_attributes).copy()

    @property
    def deterministic(self) -> bool:
        return False
