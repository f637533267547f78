"""Pure random search: the GA of :mod:`zoo.population.genetic` with no parents (Rastrigin 1963; Bergstra & Bengio,
JMLR 2012, for its use as a baseline). Every batch of ``popsize`` points is fresh: uniform in finite bounds
(``sampling="uniform"``, the default when the box is finite) or ``x0 + sigma eps`` with ``eps`` a slice of the
shared noise table, built by the GA's offspring kernel (``use_numba=False``: its numpy twin). The base class keeps
the best point. ``asynchronous=True`` asks any number of points at a time (fresh normals).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.core.asynchronous import SteadyState
from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int, check_real
from zoo.kernels import ga_offspring as _kernel
from zoo.kernels.noise import TABLE_SIZE, noise_table
from zoo.population.genetic import _EMPTY, _NO_MASK, _check_table_dim, _finite_box


@dataclasses.dataclass(frozen=True)
class RandomSearchParams(Params):
    popsize: int = 100
    sampling: str = "auto"  # "uniform" in finite bounds, "gaussian" around x0, "auto": uniform if it can
    sigma: float = 1.0
    use_numba: bool = True

    def check(self, dim: int) -> None:
        check_int(self.popsize, "popsize (batch size)", 1)
        check_choice(self.sampling, "sampling", ("auto", "uniform", "gaussian"))
        check_real(self.sigma, "sigma", 0, low_open=True)
        _check_table_dim(dim)


@dataclasses.dataclass
class RandomSearchState(State):
    generation: int = 0


@register("random-search")
class RandomSearch(SteadyState, Method):
    """Pure random search, the GA with no parents: batches uniform in the bounds or ``x0 + sigma N(0, I)``."""

    Params = RandomSearchParams
    State = RandomSearchState
    requires_x0 = False

    def _setup(self) -> None:
        p = self.params
        self._uniform = p.sampling == "uniform" or (p.sampling == "auto" and _finite_box(self.bounds))
        if self._uniform and not _finite_box(self.bounds):
            raise ValueError("sampling='uniform' needs finite bounds=(lower, upper)")

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> RandomSearchState:
        return RandomSearchState()

    def _batch_size(self, state: RandomSearchState) -> int:
        return self.params.popsize

    def _ask(self, state: RandomSearchState, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if self._uniform:
            lo, hi = self.bounds
            return lo + (hi - lo) * rng.random((p.popsize, self.dim))
        genes = rng.integers(0, TABLE_SIZE, size=p.popsize, dtype=np.int64)
        lo, hi = (_EMPTY, _EMPTY) if self.bounds is None else self.bounds
        args = (
            self.x0[None, :],
            np.zeros(p.popsize, np.int64),
            np.full(p.popsize, -1, np.int64),
            np.zeros(p.popsize, np.int64),
            _NO_MASK,
            noise_table(),
            genes,
            np.full(self.dim, float(p.sigma)),  # the kernel takes per-coordinate widths
            lo,
            hi,
        )
        if not p.use_numba:
            return _kernel.offspring_numpy(*args, self.bounds is not None)
        X = np.empty((p.popsize, self.dim))
        _kernel.offspring(*args, self.bounds is not None, X)
        return X

    def _tell(
        self, state: RandomSearchState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> RandomSearchState:
        return RandomSearchState(generation=state.generation + 1)  # the base class keeps the best point

    def _ask_async(self, state: RandomSearchState, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if self._uniform:
            lo, hi = self.bounds
            return lo + (hi - lo) * rng.random((n, self.dim))
        X = self.x0 + p.sigma * rng.standard_normal((n, self.dim))
        return self.project(X)

    def _tell_async(self, state: RandomSearchState, X: np.ndarray, values: np.ndarray) -> RandomSearchState:
        return RandomSearchState(generation=state.generation + 1)
