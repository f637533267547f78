"""Bridges to pycma and nevergrad behind the zoo ask/tell contract: ``"cma"`` and ``"ng:<Name>"``.

``zoo.make("cma", x0=x0, sigma0=0.5)`` runs ``cma.CMAEvolutionStrategy`` (Hansen & Ostermeier 2001; Hansen
2016, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772); ``zoo.make("ng:NGOpt", x0=x0)`` runs any
optimizer of ``nevergrad.optimizers.registry`` (Rapin & Teytaud 2018). Both libraries are imported lazily,
inside the methods, so ``import zoo`` works without the ``bench`` extra.

Seeding. pycma draws its N(0, I) samples through its ``randn`` option: zoo passes a function reading a
``numpy.random.Generator`` seeded from the zoo rng (pycma's ``seed`` option is set to NaN so that pycma never
touches ``np.random``'s global state). nevergrad draws from ``optimizer.parametrization.random_state``, a
``numpy.random.RandomState`` seeded from the zoo rng. Same seed, same numbers.

Resuming. Neither library's internal state has a plain (pickle-free) form, so the state of a bridge is its
*record*: the seed of the library's generator and every batch of values told so far. ``load_state_dict``
builds a fresh library optimizer with the same options and seed and replays the record (ask, then tell the
recorded values). The library is deterministic given its generator, so the replayed optimizer is bit for bit
the one that was saved. Cost: the state grows by one float per evaluation, and loading costs the library's
own overhead for the whole run again (no objective calls). For nevergrad the replay is exact for optimizers
that draw only from ``parametrization.random_state`` (NGOpt, CMA, DE, OnePlusOne, PSO, ... are checked in the
tests); an optimizer that also reads the clock or the global RNG would not resume exactly.

Overhead. The per-candidate cost of the libraries is theirs, not zoo's: measured in d=10 on our shared
machine, pycma about 0.13 ms per candidate (popsize 10), nevergrad 0.7-2.5 ms per candidate (candidate objects,
its archive; NGOpt also selects and wraps sub-optimizers). See docs/methods/cma.md and docs/methods/nevergrad.md.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.registry import register, register_prefix
from zoo.core.validate import check_choice, check_count, check_int, check_real, check_type

_BOUND_HANDLINGS = ("mirror", "penalty", "clip", "pycma")
_CMA_RESERVED = ("randn", "seed", "popsize", "bounds", "CMA_mirrors_seed", "verbose", "verb_log", "verb_disp")


def finite_values(values: np.ndarray) -> np.ndarray:
    """Replace +inf (zoo's code for a non-finite value) by a finite value ranking worst.

    Rank-based libraries only need the order; a finite stand-in keeps their termination checks (which take
    differences of values) free of ``inf - inf``. All non-finite: a flat batch of ones.
    """
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    good = values[~bad]
    worst = float(good.max()) if good.size else 0.0
    return np.where(bad, worst + 1.0 + abs(worst), values)


@dataclasses.dataclass
class ReplayState(State):
    """The record a bridge resumes from: the library generator's seed and every batch of values told."""

    library_seed: int
    told: list
    asked: bool = False


class ReplayBridge(Method):
    """A library optimizer driven through ask/tell, resumed by replaying its record (see module docstring)."""

    State = ReplayState

    # -------------------------------------------------------------- library hooks
    @abc.abstractmethod
    def _new_backend(self, library_seed: int) -> Any:
        """A fresh library optimizer seeded with ``library_seed``."""

    @abc.abstractmethod
    def _backend_ask(self) -> np.ndarray:
        """The library's next batch."""

    @abc.abstractmethod
    def _backend_tell(self, values: np.ndarray) -> None:
        """Report the values of the library's last batch."""

    # -------------------------------------------------------------- zoo hooks
    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> ReplayState:
        library_seed = int(rng.integers(2**31 - 1))
        self._backend = self._new_backend(library_seed)
        return ReplayState(library_seed=library_seed, told=[])

    def _ask(self, state: ReplayState, rng: np.random.Generator) -> np.ndarray:
        X = np.array(self._backend_ask(), dtype=np.float64)
        state.asked = True
        return X

    def _tell(
        self, state: ReplayState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> ReplayState:
        told = finite_values(np.asarray(values, dtype=np.float64)).copy()
        self._backend_tell(told)
        return ReplayState(library_seed=state.library_seed, told=[*state.told, told], asked=False)

    def _state_from_dict(self, d: dict[str, Any]) -> ReplayState:
        return ReplayState(
            library_seed=int(d["library_seed"]),
            told=[np.asarray(v, dtype=np.float64) for v in d["told"]],
            asked=bool(d["asked"]),
        )

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore the record, then rebuild the library optimizer by replaying it (no objective calls)."""
        super().load_state_dict(sd)
        self._backend = self._new_backend(self.state.library_seed)
        for told in self.state.told:
            X = self._backend_ask()
            if len(X) != len(told):
                raise ValueError(
                    f"{self.name}: replay mismatch, the library asked {len(X)} points, "
                    f"the record holds {len(told)} values (saved with other options?)"
                )
            self._backend_tell(told)
        if self.state.asked:
            X = np.asarray(self._backend_ask(), dtype=np.float64)
            if self._pending is not None and not np.array_equal(X, self._pending):
                raise ValueError(
                    f"{self.name}: replay did not reproduce the pending batch "
                    "(the library is not deterministic given its seed)"
                )


# ======================================================================= pycma
@dataclasses.dataclass(frozen=True)
class CMAParams(Params):
    """``sigma0``: initial step size (None: 0.2 x the mean width of finite bounds, else 0.5);
    ``popsize``: lambda (None: pycma's 4 + floor(3 ln d)); ``cma_options``: further pycma options
    (e.g. ``{"CMA_diagonal": True, "tolfun": 1e-12}``); ``bound_handling``: "penalty" (queries are the
    clipped samples, pycma ranks ``f(clip(x)) + gamma ||x - clip(x)||^2``), "mirror" (zoo reflects the sampled
    points into the box, :func:`mirror_into_box`, and pycma learns on the mirrored landscape: no plateau, cheap),
    "clip" (projection; plateaus outside the box mislead the ranking on steep functions) or "pycma" (pycma's
    ``BoundTransform``, smooth but about 0.1 ms per sample in Python)."""

    sigma0: float | None = None
    popsize: int | None = None
    cma_options: dict | None = None
    bound_handling: str = "penalty"

    def check(self, dim: int) -> None:
        check_real(self.sigma0, "sigma0", 0, low_open=True, none_ok=True)
        check_int(self.popsize, "popsize", 2, none_ok=True, why=" (CMA-ES needs two samples to rank)")
        check_choice(self.bound_handling, "bound_handling", _BOUND_HANDLINGS)
        if check_type(self.cma_options, "cma_options", dict, "a dict of pycma options", none_ok=True):
            clash = sorted(set(self.cma_options) & set(_CMA_RESERVED))
            if clash:
                raise ValueError(f"cma_options {clash} are set by zoo (use popsize=, bounds=, seed=)")


def mirror_into_box(X: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Reflect points into ``[lower, upper]`` coordinate-wise (a triangle wave of period ``2 (upper - lower)``).

    The optimizer then sees ``f(mirror(x))``: continuous, no plateau outside the box, identical inside it.
    One-sided bounds reflect once (``lower + |x - lower|``); infinite ones leave the coordinate as it is.
    """
    lo = np.broadcast_to(lower, X.shape)
    hi = np.broadcast_to(upper, X.shape)
    width = hi - lo
    both = np.isfinite(lo) & np.isfinite(hi) & (width > 0)
    out = X.copy()
    with np.errstate(invalid="ignore"):
        period = np.where(both, 2.0 * width, 1.0)
        y = np.mod(X - np.where(both, lo, 0.0), period)
        y = np.where(y > width, period - y, y)
        out = np.where(both, lo + y, out)
    only_lo = np.isfinite(lo) & ~np.isfinite(hi)
    only_hi = ~np.isfinite(lo) & np.isfinite(hi)
    out = np.where(only_lo, lo + np.abs(X - np.where(only_lo, lo, 0.0)), out)
    out = np.where(only_hi, hi - np.abs(np.where(only_hi, hi, 0.0) - X), out)
    out = np.where(np.isfinite(lo) & np.isfinite(hi) & (width == 0), lo, out)
    return np.clip(out, lower, upper)  # rounding at the edges


def default_cma_popsize(dim: int) -> int:
    """pycma's default population size 4 + floor(3 ln d) (Hansen 2016, Table 1)."""
    return 4 + int(3 * math.log(dim))


@register("cma", "cmaes")
class CMA(ReplayBridge):
    """CMA-ES through pycma (Hansen & Ostermeier 2001), ask/tell; the overhead is pycma's."""

    Params = CMAParams

    @property
    def popsize(self) -> int:
        return self.params.popsize or default_cma_popsize(self.dim)

    @property
    def initial_sigma(self) -> float:
        """``sigma0``, or 0.2 x the mean width of finite bounds (2 on BBOB's [-5, 5]), else 0.5."""
        if self.params.sigma0 is not None:
            return float(self.params.sigma0)
        if self.bounds is not None:
            width = self.bounds[1] - self.bounds[0]
            if np.all(np.isfinite(width)) and np.all(width > 0):
                return float(0.2 * width.mean())
        return 0.5

    def _new_backend(self, library_seed: int) -> Any:
        import cma

        gen = np.random.Generator(np.random.PCG64(library_seed))

        def randn(*shape: int) -> np.ndarray:
            return gen.standard_normal(shape)

        opts: dict[str, Any] = {
            "randn": randn,
            "seed": float("nan"),  # never seed (or read) numpy's global RNG
            "popsize": self.popsize,
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            **(self.params.cma_options or {}),
        }
        if self.bounds is not None and self.params.bound_handling == "pycma":
            opts["bounds"] = [self.bounds[0].tolist(), self.bounds[1].tolist()]
        self._asked: list | None = None
        return cma.CMAEvolutionStrategy(self.x0.copy(), self.initial_sigma, opts)

    def _backend_ask(self) -> np.ndarray:
        self._asked = self._backend.ask()
        X = np.asarray(self._asked, dtype=np.float64)
        if self.bounds is not None and self.params.bound_handling == "mirror":
            X = mirror_into_box(X, self.bounds[0], self.bounds[1])  # pycma is told its own samples
        elif self.bounds is not None and self.params.bound_handling in ("clip", "penalty"):
            X = np.clip(X, self.bounds[0], self.bounds[1])
        return X

    def _backend_tell(self, values: np.ndarray) -> None:
        if self.bounds is not None and self.params.bound_handling == "penalty":
            values = values + self._boundary_penalty(values)
        self._backend.tell(self._asked, values.tolist())
        self._asked = None

    def _boundary_penalty(self, values: np.ndarray) -> np.ndarray:
        """``gamma * ||x - clip(x)||^2`` for the unclipped samples ``x``, with pycma's BoundPenalty scale
        ``gamma = 2 * IQR(f) / (sigma^2 * mean(diag C))``: outside the box the landscape keeps rising, as the
        unbounded function would, instead of a plateau (clip) or a folded copy (mirror)."""
        S = np.asarray(self._asked, dtype=np.float64)
        dist2 = np.sum((S - np.clip(S, self.bounds[0], self.bounds[1])) ** 2, axis=1)
        if not dist2.any():
            return np.zeros_like(values)
        q75, q25 = np.percentile(values, [75, 25])
        dfit = (q75 - q25) or (np.max(values) - np.min(values)) or 1.0
        es = self._backend
        gamma = 2.0 * dfit / (es.sigma**2 * float(np.mean(es.sm.variances)))
        return gamma * dist2

    def _batch_size(self, state: ReplayState) -> int:
        return self.popsize

    def _stop(self, state: ReplayState) -> dict[str, Any]:
        if not state.told:
            return {}
        reasons = {k: v for k, v in dict(self._backend.stop()).items() if k not in ("ftarget", "maxfevals")}
        return {f"cma_{k}": v for k, v in reasons.items()}


# ======================================================================= nevergrad
@dataclasses.dataclass(frozen=True)
class NevergradParams(Params):
    """``num_workers``: candidates per ask (nevergrad's parallelism, the batch size);
    ``ng_budget``: the budget nevergrad plans for (None: zoo's budget, else 1000*d; NGOpt picks its
    sub-optimizer from it)."""

    num_workers: int = 1
    ng_budget: int | None = None
    space: Any = None  # a zoo space spec (set by minimize(space=...)): nevergrad's own parametrization of it

    def check(self, dim: int) -> None:
        check_int(self.num_workers, "num_workers (the batch size)", 1)
        check_count(self.ng_budget, "ng_budget", none_ok=True)


class NevergradBridge(ReplayBridge):
    """Base of the ``ng:<Name>`` classes; ``optimizer_name`` is set by :func:`nevergrad_method`."""

    Params = NevergradParams
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
        return opt_cls(parametrization=param, budget=int(budget), num_workers=int(self.params.num_workers))

    def _backend_ask(self) -> np.ndarray:
        self._candidates = [self._backend.ask() for _ in range(self.params.num_workers)]
        if self._space is not None:
            return np.array([self._space.encode(_ng_value(c.value)) for c in self._candidates])
        return np.array([c.value for c in self._candidates], dtype=np.float64).reshape(
            len(self._candidates), -1
        )

    def _backend_tell(self, values: np.ndarray) -> None:
        for cand, v in zip(self._candidates, values.tolist()):
            self._backend.tell(cand, v)
        self._candidates = []

    def _batch_size(self, state: ReplayState) -> int:
        return self.params.num_workers


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
