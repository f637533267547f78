"""``"ng:<Name>"``: any optimizer of ``nevergrad.optimizers.registry`` (Rapin & Teytaud 2018) behind the zoo
ask/tell contract; ``zoo.make("ng:OnePlusOne", x0=x0)``. nevergrad is imported lazily.

Seeding: nevergrad draws from ``optimizer.parametrization.random_state``, a ``numpy.random.RandomState`` seeded
from the zoo rng; same seed, same numbers. Resuming: by replay (:mod:`zoo.population.bridges.replay`), exact
for optimizers that draw only from that generator (NGOpt, CMA, DE, OnePlusOne, PSO, ... are checked in the
tests). Non-finite values are told as a finite value above every value of the run (never a constant), so with
one worker a NaN still ranks worst.

Failures inside nevergrad are re-raised as a ``RuntimeError`` naming the optimizer, the evaluation count and
the library's message: nevergrad 1.0.12's ``NGOpt`` picks a meta-model sub-optimizer for d = 10 and 1e4
evaluations, which calls ``float()`` on a 1-element array and raises under numpy >= 2.4 (after ~118
evaluations); the error says so and names working optimizers. Overhead: 0.7-2.5 ms per candidate in d = 10.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core.method import Params
from zoo.core.registry import register_prefix
from zoo.core.renamed import RenamedOptions
from zoo.core.validate import check_count, check_int
from zoo.population.bridges.replay import ReplayBridge, ReplayState

#: what the known numpy >= 2.4 incompatibility of nevergrad <= 1.0.12 says
_NUMPY_SCALAR_ERROR = "only 0-dimensional arrays can be converted to Python scalars"


@dataclasses.dataclass(frozen=True)
class NevergradParams(Params):
    """``popsize`` (was ``num_workers``): candidates per ask (nevergrad's parallelism, the batch size);
    ``ng_budget``: the budget nevergrad plans for (None: zoo's budget, else 1000*d; NGOpt picks its
    sub-optimizer from it)."""

    popsize: int = 1
    ng_budget: int | None = None
    space: Any = None  # a zoo space spec (set by minimize(space=...)): nevergrad's own parametrization of it

    def check(self, dim: int) -> None:
        check_int(self.popsize, "popsize (candidates per ask, was num_workers)", 1)
        check_count(self.ng_budget, "ng_budget", none_ok=True)


class NevergradBridge(RenamedOptions, ReplayBridge):
    """Base of the ``ng:<Name>`` classes; ``optimizer_name`` is set by :func:`nevergrad_method`."""

    Params = NevergradParams
    renamed_options = {"num_workers": "popsize"}
    optimizer_name: str = ""

    def _new_backend(self, library_seed: int) -> Any:
        import nevergrad as ng

        self._space = None
        if self.params.space is not None:  # zoo sees the "unit" code of nevergrad's points
            from zoo.core.space import Space, nevergrad_parametrization

            self._space = Space.from_spec(self.params.space)
            param = nevergrad_parametrization(self._space)
        else:
            param = ng.p.Array(init=self.x0.copy())
        if self.bounds is not None and self._space is None:
            param.set_bounds(self.bounds[0], self.bounds[1])
        param.random_state = np.random.RandomState(library_seed)
        budget = self.params.ng_budget or self.budget or 1000 * self.dim
        opt_cls = ng.optimizers.registry[self.optimizer_name]
        self._candidates: list = []
        return opt_cls(parametrization=param, budget=int(budget), num_workers=int(self.params.popsize))

    def _backend_ask(self) -> np.ndarray:
        try:
            self._candidates = [self._backend.ask() for _ in range(self.params.popsize)]
        except Exception as exc:
            raise self._library_error(exc) from exc
        if self._space is not None:
            return np.array([self._space.encode(_ng_value(c.value)) for c in self._candidates])
        return np.array([c.value for c in self._candidates], dtype=np.float64).reshape(
            len(self._candidates), -1
        )

    def _backend_tell(self, values: np.ndarray) -> None:
        try:
            for cand, v in zip(self._candidates, values.tolist()):
                self._backend.tell(cand, v)
        except Exception as exc:
            raise self._library_error(exc) from exc
        self._candidates = []

    def _library_error(self, exc: Exception) -> RuntimeError:
        """A failure inside nevergrad, named as such (with the known numpy >= 2.4 case spelled out)."""
        import nevergrad

        msg = (
            f"nevergrad {nevergrad.__version__}'s {self.optimizer_name} failed after "
            f"{self._backend.num_tell} evaluations: {type(exc).__name__}: {exc}"
        )
        if _NUMPY_SCALAR_ERROR in str(exc):
            msg += (
                f" (a known incompatibility of nevergrad <= 1.0.12 with numpy {np.__version__} >= 2.4 in its "
                "meta-model sub-optimizer; use ng:CMA, ng:OnePlusOne, ng:DE or zoo's own 'auto' / 'cma-bipop', "
                "or numpy < 2.4)"
            )
        return RuntimeError(msg)

    def _batch_size(self, state: ReplayState) -> int:
        return self.params.popsize


def _ng_value(v: Any) -> Any:
    """A nevergrad Tuple value is a tuple; a zoo positional point is a list."""
    return list(v) if isinstance(v, tuple) else v


_NG_CLASSES: dict[str, type] = {}


def nevergrad_method(name: str) -> type:
    """The zoo class running nevergrad's optimizer ``name`` (``zoo.make("ng:NGOpt", ...)``)."""
    if name in _NG_CLASSES:
        return _NG_CLASSES[name]
    try:
        import nevergrad as ng
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "method 'ng:...' needs nevergrad: pip install 'zoo-dfo[bench]' (or pip install nevergrad)"
        ) from exc
    if name not in ng.optimizers.registry:
        close = sorted(n for n in ng.optimizers.registry if name.lower() in n.lower())[:10]
        hint = f" Close names: {', '.join(close)}." if close else ""
        raise ValueError(
            f"unknown nevergrad optimizer {name!r}.{hint} List the names with "
            '`python -c "import nevergrad as ng; print(sorted(ng.optimizers.registry))"` '
            "(e.g. ng:NGOpt, ng:CMA, ng:DE, ng:OnePlusOne, ng:PSO)"
        )
    cls = type(
        f"Nevergrad_{name}",
        (NevergradBridge,),
        {
            "optimizer_name": name,
            "name": f"ng:{name}",
            "__doc__": f"nevergrad's {name} optimizer (ask/tell).",
        },
    )
    _NG_CLASSES[name] = cls
    return cls


register_prefix("ng", nevergrad_method)
