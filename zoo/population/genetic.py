"""Deep-GA genetic algorithm (Such et al. 2017, "Deep Neuroevolution: Genetic Algorithms Are a Competitive
Alternative for Training Deep Neural Networks for Reinforcement Learning", arXiv:1712.06567).

One generation ``k >= 1`` with population ``P``, truncation ``T`` and per-coordinate mutation widths
``w_k`` (a vector; ``*`` is elementwise)::

    parents   = the T best of the previous generation (best first; parents[0] is the elite)
    child_i   = parents[p_i] + w_k * eps_i,   p_i ~ U{0..T-1},  eps_i ~ N(0, I)   (P - 1 children)
    next gen  = [elite (unchanged)] + children;   w_k = sigma_decay ** (k - 1) * w

``w`` comes from the option ``sigma`` (:func:`zoo.population.genome.mutation_widths`): ``sigma=None``, the
default, reads the scale off the problem, ``w_j = 0.05 (hi_j - lo_j)`` on a finite box side, else
``0.1 |x0_j|``, else (``x0_j = 0``) the median of the other coordinates' widths, else 0.1; so the default
search is the same whether the problem is stated in metres or micrometres. A float ``sigma`` is an absolute
width on every coordinate (the meaning it always had), a sequence one absolute width per coordinate.

Generation 0 is ``x0 + w_init * eps_i`` (``w_init = sigma_init`` when given, else ``w``; ``init="gaussian"``)
or uniform in finite bounds
(``init="uniform"``). Optional uniform crossover: with probability ``p_crossover`` a child starts from
``where(mask, parents[m_i], parents[p_i])`` (mask ~ Bernoulli(1/2)^d) before its mutation (Deep GA: 0).
Children are clipped into ``bounds``.

``eps_i`` is a slice of the shared noise table (:func:`zoo.kernels.noise.noise_table`) at a random offset:
one integer instead of ``d`` fresh normals (a fresh N(0,1) costs ~9 ns, i.e. ~0.9 us per child at d=100),
and the batch is built by the Numba kernel :func:`zoo.kernels.ga_offspring.offspring`. The offsets make every
member a *seed-chain genome* (:mod:`zoo.population.genome`): ``opt.genome(i)`` is a few dozen integers and
``opt.rebuild(genome)`` reproduces the member bit for bit.

Elite and noise. Without ``reevaluate_elite`` the elite keeps its value and is not asked again (a batch is
``P - 1`` children). With ``reevaluate_elite=True`` (noisy objectives) every batch starts with the elite
again; its fitness is the running mean of all its evaluations, and it stays elite only while that mean is
still the best value of the generation (ties keep it); a new elite starts a fresh mean.

NaN policy: a non-finite value is +inf (ranks worst), so a non-finite member becomes a parent only when fewer
than ``T`` members are finite. When no value of a batch is finite, the previous parents and elite are kept
unchanged, the generation is not counted, and ``n_skipped_generations`` counts it; a failed generation 0 is
drawn again. A non-finite re-evaluation makes the elite's mean +inf, so any finite child replaces it.

Integer and categorical genes (``genes``, set by ``minimize(space=...)`` from :mod:`zoo.core.space`): a gene
``(j, n, categorical)`` lives on the ``n`` bins of the unit code. A child keeps its first parent's level, then
an integer gene ``j`` steps by ``round(w_k[j] * n * N(0, 1))`` levels (at least one level, up or down, with
probability ``1/d`` when that rounds to 0), and a categorical gene is redrawn uniformly among the other
choices with probability ``1/d``; both land on the bin centre. No stepping through an unordered category.

Asynchronous (``asynchronous=True``, :mod:`zoo.core.asynchronous`): steady-state truncation selection; the
parents are the ``T`` best points told so far, each new child mutates a random one of them at
``w_k``, ``k = 1 + told // popsize``; the first ``popsize`` points come from the initial distribution.

Random search (``"random-search"``, :mod:`zoo.population.random_search`) is the special case with no parents.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from zoo.core._deprecated import moved
from zoo.core.asynchronous import SteadyState
from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int, check_real
from zoo.kernels import ga_offspring as _kernel
from zoo.kernels.noise import TABLE_SIZE, noise_table
from zoo.population import genome as _genome

_EMPTY = np.zeros(0)
_NO_MASK = np.zeros((1, 1), dtype=np.bool_)


def _check_table_dim(dim: int) -> None:
    if dim > TABLE_SIZE:
        raise ValueError(
            f"mutations are slices of the {TABLE_SIZE}-number noise table, so d <= {TABLE_SIZE}; got d={dim}"
        )


def _finite_box(bounds) -> bool:
    return bounds is not None and bool(np.all(np.isfinite(bounds[0])) and np.all(np.isfinite(bounds[1])))


@dataclasses.dataclass(frozen=True)
class GAParams(Params):
    popsize: int = 100
    truncation: int | None = None  # None: min(20, popsize // 5), at least 1 (Deep GA: 20 of 1000)
    sigma: float | tuple | None = None  # None: from the box / x0 (mutation_widths); float: absolute
    sigma_init: float | None = None  # None: the widths of sigma
    sigma_decay: float = 1.0
    p_crossover: float = 0.0
    reevaluate_elite: bool = False
    init: str = "gaussian"
    use_numba: bool = True
    genes: tuple | None = None  # ((coordinate, n_levels, is_categorical), ...): native discrete genes

    def __post_init__(self) -> None:
        # per-coordinate widths arrive as a list or an array: keep a tuple (hashable, plain in state_dict)
        if isinstance(self.sigma, (list, tuple, np.ndarray)):
            vals = np.asarray(self.sigma, dtype=object).ravel() if np.ndim(self.sigma) else [self.sigma[()]]
            vals = tuple(v.item() if isinstance(v, np.generic) else v for v in vals)
            object.__setattr__(self, "sigma", vals[0] if np.ndim(self.sigma) == 0 else vals)

    @property
    def n_parents(self) -> int:
        if self.truncation is not None:
            return int(self.truncation)
        return max(1, min(20, self.popsize // 5))

    def check(self, dim: int) -> None:
        check_int(self.popsize, "popsize (population size)", 2)
        if self.truncation is not None:
            check_int(self.truncation, "truncation (number of parents)", 1)
            if self.truncation > self.popsize:
                raise ValueError(
                    "truncation (number of parents) must be <= popsize; "
                    f"got {self.truncation} > {self.popsize}"
                )
        if isinstance(self.sigma, tuple):
            if len(self.sigma) != dim:
                raise ValueError(
                    f"sigma as a sequence gives one width per coordinate: expected {dim}, got {len(self.sigma)}"
                )
            for j, s in enumerate(self.sigma):
                check_real(s, f"sigma[{j}]", 0, low_open=True)
        else:
            check_real(self.sigma, "sigma (or one width per coordinate)", 0, low_open=True,
                       none_ok=True)  # fmt: skip
        check_real(self.sigma_init, "sigma_init", 0, low_open=True, none_ok=True)
        check_real(self.sigma_decay, "sigma_decay", 0, 1, low_open=True)
        check_real(self.p_crossover, "p_crossover (a probability)", 0, 1)
        check_choice(self.init, "init", ("gaussian", "uniform"))
        for g in self.genes or ():
            if len(g) != 3 or not 0 <= int(g[0]) < dim or int(g[1]) < 1:
                raise ValueError(
                    f"genes entries are (coordinate < {dim}, n_levels >= 1, is_categorical), got {g!r}"
                )
        _check_table_dim(dim)


@dataclasses.dataclass
class GAState(State):
    generation: int = 0  # index of the next batch; 0 = the initial population
    parents: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))  # (T, d), best first
    parent_f: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # elite entry: its mean
    parent_genomes: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 1), np.int64))
    elite_sum: float = 0.0  # sum of the elite's evaluations (re-evaluation averages them)
    elite_count: int = 0
    batch_parent: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    batch_gene: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    n_skipped_generations: int = 0
    n_told_async: int = 0  # results told by tell_async (steady-state mode)
    widths: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # w, (d,): set once by _init


@register("ga")
class GA(SteadyState, Method):
    """Deep GA: truncation selection, table mutation, elitism, optional crossover, seed-chain genomes."""

    Params = GAParams
    State = GAState
    requires_x0 = False

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> None:
        if self.params.init == "uniform" and not _finite_box(self.bounds):
            raise ValueError("init='uniform' needs finite bounds=(lower, upper)")
        self._lo, self._hi = (_EMPTY, _EMPTY) if self.bounds is None else self.bounds
        self._spares: list[np.ndarray] = []  # the last batches built, for their memory (see _batch_memory)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> GAState:
        # kept in the state (not _setup): w depends on x0, and a resumed run must mutate as the saved one did
        return GAState(parents=np.zeros((0, self.dim)), widths=self._default_widths())

    @property
    def initial_sigma(self) -> np.ndarray:
        """The mutation widths ``w`` (one per coordinate) that ``sigma`` gives on this problem, ``sigma=None``
        included: the restart wrappers scale them (BIPOP's small regime) as they scale cma's ``sigma0``."""
        return self._default_widths()

    def _default_widths(self) -> np.ndarray:
        lo, hi = (None, None) if self.bounds is None else self.bounds
        return _genome.mutation_widths(self.params.sigma, self.x0, lo, hi)

    def _widths(self, state: GAState) -> np.ndarray:
        # a state saved before the widths were stored holds none: they were sigma's, as derived here
        return state.widths if len(state.widths) == self.dim else self._default_widths()

    def _widths0(self, state: GAState) -> np.ndarray:
        p = self.params
        return self._widths(state) if p.sigma_init is None else np.full(self.dim, float(p.sigma_init))

    def _batch_size(self, state: GAState) -> int:
        p = self.params
        if len(state.parents) == 0 or p.reevaluate_elite:
            return p.popsize
        return p.popsize - 1

    def _ask(self, state: GAState, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if len(state.parents) == 0:  # generation 0
            if p.init == "uniform":
                genes = rng.integers(0, 2**63 - 1, size=p.popsize, dtype=np.int64)
                X = np.stack([self._init_member(g) for g in genes])
            else:
                genes = rng.integers(0, TABLE_SIZE, size=p.popsize, dtype=np.int64)
                X = self._build(
                    self.x0[None, :], np.zeros(p.popsize, np.int64), genes, self._widths0(state), rng
                )
            state.batch_parent, state.batch_gene = np.zeros(p.popsize, np.int64), genes
            return X
        n_children = p.popsize - 1
        parent_idx = rng.integers(0, len(state.parents), size=n_children, dtype=np.int64)
        genes = rng.integers(0, TABLE_SIZE, size=n_children, dtype=np.int64)
        if p.reevaluate_elite:  # row 0: the elite again, unchanged (gene -1 = no mutation)
            parent_idx = np.concatenate([[0], parent_idx])
            genes = np.concatenate([[-1], genes])
        w_k = _genome.sigma_at(state.generation, self._widths(state), p.sigma_decay)
        X = self._build(state.parents, parent_idx, genes, w_k, rng)
        state.batch_parent, state.batch_gene = parent_idx, genes
        return X

    def _build(self, parents, parent_idx, genes, widths, rng) -> np.ndarray:
        n, d = len(parent_idx), self.dim
        mate_idx = np.full(n, -1, dtype=np.int64)
        mask_row = np.zeros(n, dtype=np.int64)
        mask = _NO_MASK
        pc = float(self.params.p_crossover)
        if pc > 0 and len(parents) > 1:
            crossed = np.flatnonzero((genes >= 0) & (rng.random(n) < pc))
            # the mate is another parent (crossing a parent with itself would be a no-op)
            shift = rng.integers(1, len(parents), size=crossed.size)
            mate_idx[crossed] = (parent_idx[crossed] + shift) % len(parents)
            mask_row[crossed] = np.arange(crossed.size)
            mask = rng.random((max(crossed.size, 1), d)) < 0.5
        bounded = self.bounds is not None
        table = noise_table()
        args = (parents, parent_idx, mate_idx, mask_row, mask, table, genes, widths, self._lo, self._hi)
        if not self.params.use_numba:
            X = _kernel.offspring_numpy(*args, bounded)
        else:
            X = self._batch_memory(n, d)
            _kernel.offspring(*args, bounded, X)
        if self.params.genes:
            self._discrete_genes(X, parents, parent_idx, genes, widths, rng)
        return X

    def _batch_memory(self, n: int, d: int) -> np.ndarray:
        """An ``(n, d)`` array for the kernel to write a batch into: the memory of one of the last two batches when
        nothing but this list refers to it any more (CPython's reference count: a batch the caller still holds,
        by a name, in a list or through a view, is never reused), else a new array. Why: a new 800 KB batch each
        generation (popsize 1,000, d = 100) lands at the top of glibc's heap, which is trimmed and grown again
        as the other arrays come and go: on one generation in ten every page of the new batch faulted, and the
        mean generation cost 1.5x its median (``benchmarks/ga_overhead.py``). Two spares: in the usual loop
        ``X = opt.ask(); opt.tell(X, f(X))`` the caller's name holds the last batch while the next is built."""
        spares = self._spares
        for k in range(len(spares)):
            # 2 references: the list's slot and getrefcount's argument (any other holder adds one)
            if spares[k].shape == (n, d) and sys.getrefcount(spares[k]) == 2:
                X = spares.pop(k)
                X.setflags(write=True)
                spares.append(X)
                return X
        X = np.empty((n, d))
        spares.append(X)
        if len(spares) > 2:
            del spares[0]
        return X

    def _discrete_genes(self, X, parents, parent_idx, genes, widths, rng) -> None:
        """Native integer / categorical mutation on the unit code's bins (see the module docstring)."""
        mutated = genes >= 0  # gene -1: the elite asked again, unchanged
        p_move = 1.0 / self.dim
        for j, n, categorical in self.params.genes:
            j, n = int(j), int(n)
            level = np.clip(np.floor(parents[parent_idx, j] * n), 0, n - 1).astype(np.int64)
            if categorical:
                redraw = mutated & (rng.random(len(X)) < p_move) & (n > 1)
                other = (level + rng.integers(1, max(n, 2), size=len(X))) % n
                level = np.where(redraw, other, level)
            else:
                step = np.rint(widths[j] * n * rng.standard_normal(len(X))).astype(np.int64)
                nudge = (step == 0) & (rng.random(len(X)) < p_move)
                step = np.where(nudge, rng.choice(np.array([-1, 1]), size=len(X)), step)
                level = np.where(mutated, np.clip(level + step, 0, n - 1), level)
            X[:, j] = (level + 0.5) / n

    def _init_member(self, gene: int) -> np.ndarray:
        p = self.params
        lo, hi = (None, None) if self.bounds is None else self.bounds
        w0 = self._widths0(self.state)  # unused by init="uniform", the only caller
        return _genome.init_member(int(gene), self.x0, init=p.init, sigma_init=w0, lo=lo, hi=hi)

    def _tell(self, state: GAState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator) -> GAState:
        p = self.params
        first = len(state.parents) == 0
        genes, batch_parent = state.batch_gene, state.batch_parent
        # the selection pool: the batch, preceded by the stored elite when it was not asked again
        elite_outside = not first and not p.reevaluate_elite
        if first:
            pool_f, elite_sum, elite_count = values, 0.0, 0
        elif p.reevaluate_elite:  # row 0 is the elite: its fitness is the mean over all its evaluations
            elite_sum, elite_count = state.elite_sum + float(values[0]), state.elite_count + 1
            pool_f = values.copy()
            pool_f[0] = elite_sum / elite_count
        else:  # the elite competes with its stored value; it is not asked again
            elite_sum, elite_count = state.elite_sum, state.elite_count
            pool_f = np.concatenate([state.parent_f[:1], values])
        if not np.isfinite(values).any():  # an all-non-finite generation: keep the previous parents
            return dataclasses.replace(state, n_skipped_generations=state.n_skipped_generations + 1)
        order = np.argsort(pool_f, kind="stable")[: p.n_parents]  # stable: the elite (row 0) wins ties
        rows = order - 1 if elite_outside else order  # batch rows of the selected (-1: the stored elite)
        from_batch = rows >= 0
        parents = np.empty((len(order), self.dim))
        parents[from_batch] = X[rows[from_batch]]
        if elite_outside and not from_batch.all():
            parents[~from_batch] = state.parents[0]
        if first:
            new_genomes = genes[order][:, None]
        else:
            sel_parent = np.where(from_batch, batch_parent[rows], 0)
            sel_gene = np.where(from_batch, genes[rows], -1)
            new_genomes = np.concatenate([state.parent_genomes[sel_parent], sel_gene[:, None]], axis=1)
        if first or order[0] != 0:  # a new elite starts a fresh mean (pool row 0 is the previous elite)
            elite_sum, elite_count = float(pool_f[order[0]]), 1
        return dataclasses.replace(
            state,
            generation=state.generation + 1,
            parents=parents,
            parent_f=pool_f[order],
            parent_genomes=new_genomes,
            elite_sum=elite_sum,
            elite_count=elite_count,
        )

    # ------------------------------------------------------------------ public extras
    @property
    def parents(self) -> np.ndarray:
        """The current parents ``(T, d)``, best first (row 0 is the elite); empty before generation 0."""
        return self.state.parents.copy()

    @property
    def elite(self) -> tuple[np.ndarray, float, int]:
        """``(x, f, n)``: the elite, its fitness (mean of its ``n`` evaluations) and ``n``."""
        s = self.state
        if len(s.parents) == 0:
            raise RuntimeError("no elite yet: tell the first generation")
        return s.parents[0].copy(), s.elite_sum / s.elite_count, int(s.elite_count)

    @property
    def n_skipped_generations(self) -> int:
        """Generations in which no value was finite (the previous parents were kept)."""
        return int(self.state.n_skipped_generations)

    def genome(self, i: int = 0) -> list[int]:
        """Seed-chain genome of parent ``i`` (0 = the elite): ``[g_0, g_1, ..., g_k]`` (see ``genome.py``)."""
        self._require_chain()
        g = self.state.parent_genomes
        if len(g) == 0:
            raise RuntimeError("no parents yet: tell the first generation")
        if not 0 <= i < len(g):
            raise IndexError(f"parent index {i} out of range for {len(g)} parents")
        return [int(v) for v in g[i]]

    def batch_genome(self, i: int) -> list[int]:
        """Seed-chain genome of row ``i`` of the pending batch (call ``ask()`` first)."""
        self._require_chain()
        if self.pending is None:
            raise RuntimeError("batch_genome needs a pending batch: call ask() first")
        s = self.state
        if not 0 <= i < len(s.batch_gene):
            raise IndexError(f"row {i} out of range for a batch of {len(s.batch_gene)}")
        if len(s.parents) == 0:
            return [int(s.batch_gene[i])]
        return [int(v) for v in s.parent_genomes[s.batch_parent[i]]] + [int(s.batch_gene[i])]

    def rebuild(self, genome: list[int]) -> np.ndarray:
        """The parameter vector of ``genome``, replayed with this optimizer's ``x0``, options and bounds."""
        p = self.params
        return _genome.rebuild(
            genome,
            self.x0,
            sigma=self._widths(self.state),
            sigma_init=p.sigma_init,
            sigma_decay=p.sigma_decay,
            bounds=self.bounds,
            init=p.init,
        )

    def _require_chain(self) -> None:
        if self.params.p_crossover > 0:
            raise ValueError("seed-chain genomes exist only without crossover (p_crossover=0)")
        if self.params.genes or self.state.n_told_async:
            raise ValueError("seed-chain genomes exist only for continuous genes in synchronous runs")

    # ------------------------------------------------------------------ steady state (asynchronous=True)
    def _ask_async(self, state: GAState, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if state.n_told_async < p.popsize or len(state.parents) == 0:  # the initial distribution
            if p.init == "uniform":
                return np.stack([self._init_member(g) for g in rng.integers(0, 2**63 - 1, size=n)])
            genes = rng.integers(0, TABLE_SIZE, size=n, dtype=np.int64)
            return self._build(self.x0[None, :], np.zeros(n, np.int64), genes, self._widths0(state), rng)
        k = 1 + state.n_told_async // p.popsize
        parent_idx = rng.integers(0, len(state.parents), size=n, dtype=np.int64)
        genes = rng.integers(0, TABLE_SIZE, size=n, dtype=np.int64)
        w_k = _genome.sigma_at(k, self._widths(state), p.sigma_decay)
        return self._build(state.parents, parent_idx, genes, w_k, rng)

    def _tell_async(self, state: GAState, X: np.ndarray, values: np.ndarray) -> GAState:
        pool_x = np.concatenate([state.parents, X]) if len(state.parents) else X
        pool_f = np.concatenate([state.parent_f, values]) if len(state.parents) else values
        order = np.argsort(pool_f, kind="stable")[: self.params.n_parents]
        told = state.n_told_async + len(X)
        return dataclasses.replace(
            state,
            generation=1 + told // self.params.popsize,
            parents=pool_x[order].copy(),
            parent_f=pool_f[order].copy(),
            parent_genomes=np.full((len(order), 1), -1, np.int64),
            elite_sum=float(pool_f[order[0]]),
            elite_count=1,
            n_told_async=told,
        )


# ---------------------------------------------------------------------------------------------- random search


# random search lived here; one algorithm per file: zoo/population/random_search.py
__getattr__ = moved(
    __name__,
    {
        n: f"zoo.population.random_search:{n}"
        for n in ("RandomSearch", "RandomSearchParams", "RandomSearchState")
    },
)
