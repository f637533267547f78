"""IPOP and BIPOP restart wrappers around any registered method with a population-size option.

IPOP (Auger & Hansen, "A restart CMA evolution strategy with increasing population size", CEC 2005): when
the inner run stops on its own criteria, start a new one with the population multiplied by ``popsize_factor``
(2): ``lambda_k = lambda_0 * 2^k``.

BIPOP (Hansen, "Benchmarking a BI-population CMA-ES on the BBOB-2009 function testbed", GECCO 2009): after a
first run with the default ``lambda_def``, two regimes share the budget. The *large* regime is IPOP
(``lambda_large = lambda_def * 2^(n_large)``, initial step ``sigma_def``); the *small* regime draws
``U, V ~ U[0, 1]`` and runs ``lambda_s = floor(lambda_def * (lambda_last / lambda_def)^(U^2))`` (``lambda_last``:
the population of the latest large run, i.e. the paper's ``lambda_l / 2`` for the next one) with
``sigma_s = sigma_def * 10^(-2 V)`` and at most ``evals_large / 2`` evaluations (half of what the large regime
has used). Each restart goes to the regime that has used fewer evaluations so far, the first run counted in the
small regime's share: ``small`` while ``evals_small < max(1, evals_large)``. This is Hansen's reference code as
pycma's ``fmin(..., bipop=True)`` runs it (the schedule, the small runs' cap and the first run's accounting).

Every restart is a fresh inner optimizer: seed drawn from the outer rng, start point drawn uniformly in the
central 80% of the bounds when they are finite (Hansen 2009: [-4, 4]^d on BBOB's [-5, 5]^d; else the
original ``x0``), and the remaining budget handed on as its budget.
``zoo.make("cma-ipop", x0=x0)`` wraps ``"cma"``; ``zoo.make("cma-ipop", x0=x0, inner="cbo")`` wraps CBO.
Rankings: ``tell(X, ranking=...)`` / ``pairs=`` are handed to the inner run when it accepts them (``cma``).
``state_dict`` holds the wrapper's counters, the inner run's construction arguments and its own state_dict.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from zoo.core import registry
from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int, check_real, check_type
from zoo.population.nested import NestedMethod
from zoo.population.order_feedback import AcceptsRankings, forward

POPSIZE_OPTIONS = ("popsize", "n_particles", "population_size", "pop_size", "population")
SIGMA_OPTIONS = ("sigma0", "sigma")  # cma's sigma0; ga's sigma (a float, one width per coordinate, or None)


@dataclasses.dataclass(frozen=True)
class RestartParams(Params):
    """``inner``: the wrapped method; ``inner_options``: its options (e.g. ``{"sigma0": 2.0}``);
    ``popsize_factor``: IPOP's multiplier (2); ``max_restarts``: None = until the budget is spent (9 when
    there is no budget); ``popsize_option`` / ``sigma_option``: the inner's option names (None: detected);
    ``restart_from``: "auto" (uniform in the central 80% of finite bounds, else x0), "uniform", "x0" or "best";
    ``first_sigma0``: the step size of the first run only (None: the inner's default), e.g. the scale a local
    method ended at, so that the first run refines the point it is given; never wider than the default."""

    inner: str = "cma"
    inner_options: dict | None = None
    popsize_factor: float = 2.0
    max_restarts: int | None = None
    popsize_option: str | None = None
    sigma_option: str | None = None
    restart_from: str = "auto"
    first_sigma0: float | None = None

    def check(self, dim: int) -> None:
        check_type(self.inner, "inner", str, "a registered method name")
        check_type(
            self.inner_options, "inner_options", dict, "a dict of the inner method's options", none_ok=True
        )
        check_real(self.popsize_factor, "popsize_factor", 1, low_open=True)
        check_int(self.max_restarts, "max_restarts", 0, none_ok=True)
        check_choice(self.restart_from, "restart_from", ("auto", "uniform", "x0", "best"))
        check_real(self.first_sigma0, "first_sigma0", 0, low_open=True, none_ok=True)


@dataclasses.dataclass
class RestartState(State):
    restarts: int  # inner runs started after the first
    n_large: int  # BIPOP: large-regime restarts so far (IPOP: every restart)
    evals_large: int  # evaluations spent in the large regime (IPOP: the first run counts there)
    evals_small: int  # BIPOP: the first run counts here (Hansen's code; pycma's fmin)
    regime: str  # regime of the current inner run: "large" or "small" (BIPOP's first run: "first")
    inner_start_nfev: int  # outer nfev when the current inner run started
    inner_seed: int
    inner_popsize: int
    inner_sigma: float  # nan: the inner has no step-size option, or its default is one width per coordinate
    inner_x0: np.ndarray
    inner_budget: int  # 0: no budget
    exhausted: bool = False  # the inner stopped and no restart is allowed
    inner_widths: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # per-coordinate step


class RestartWrapper(AcceptsRankings, NestedMethod):
    """Restarts of an inner method with a growing population (IPOP) or two regimes (BIPOP)."""

    Params = RestartParams
    State = RestartState
    regime_rule: ClassVar[str] = "ipop"

    # ------------------------------------------------------------------ setup
    def _inner_class(self) -> type:
        cls = registry.get(self.params.inner)
        if issubclass(cls, RestartWrapper):
            raise ValueError(f"inner={self.params.inner!r} is itself a restart wrapper; wrap a base method")
        return cls

    def _option_name(
        self, cls: type, given: str | None, candidates: tuple[str, ...], what: str
    ) -> str | None:
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        if given is not None:
            if given not in fields:
                raise ValueError(
                    f"{what}_option={given!r} is not an option of {self.params.inner!r}: {sorted(fields)}"
                )
            return given
        found = [c for c in candidates if c in fields]
        return found[0] if found else None

    def _setup(self) -> None:
        cls = self._inner_class()
        self._pop_key = self._option_name(cls, self.params.popsize_option, POPSIZE_OPTIONS, "popsize")
        if self._pop_key is None:
            raise ValueError(
                f"method {self.params.inner!r} has no population-size option (looked for {POPSIZE_OPTIONS}); "
                "pass popsize_option= to name it"
            )
        self._sigma_key = self._option_name(cls, self.params.sigma_option, SIGMA_OPTIONS, "sigma")
        opts = dict(self.params.inner_options or {})
        # a probe instance gives the inner's default population and step size (and validates its options)
        probe = cls(self.x0.copy(), seed=0, bounds=self.bounds, **opts)
        popsize = getattr(probe.params, self._pop_key)
        self._popsize_default = int(popsize if popsize is not None else probe._batch_size(probe.state))
        sig = getattr(probe.params, self._sigma_key) if self._sigma_key else None
        if sig is None and self._sigma_key is not None:
            # the step the inner derives itself: cma's sigma0 from the bounds, ga's widths from the box / x0;
            # without it the BIPOP small regime could not shrink the step of such an inner
            sig = getattr(probe, "initial_sigma", None)
        # a scalar step, or one width per coordinate (ga's tuple sigma, or the widths it derives): the
        # restarts scale either by the same factor
        self._sigma_default: float | np.ndarray = float("nan")
        if sig is not None:
            arr = np.asarray(sig, dtype=np.float64)
            self._sigma_default = float(arr) if arr.ndim == 0 else arr.copy()

    def _scaled_sigma(self, factor: float, cap: float | None = None) -> tuple[float, np.ndarray]:
        """``(inner_sigma, inner_widths)`` of the default step times ``factor`` (``cap``: at most this)."""
        default = self._sigma_default
        if isinstance(default, np.ndarray):
            w = default * factor
            return float("nan"), (w if cap is None else np.minimum(w, cap))
        sigma = default * factor
        if cap is not None:
            sigma = min(sigma, cap) if math.isfinite(sigma) else cap  # never wider than the default
        return sigma, np.zeros(0)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> RestartState:
        budget = self.budget or 0
        first = self.params.first_sigma0
        if first is not None:
            sigma, widths = self._scaled_sigma(1.0, cap=float(first))  # never wider than the default
        else:
            sigma, widths = self._scaled_sigma(1.0)
        state = RestartState(
            restarts=0,
            n_large=0,
            evals_large=0,
            evals_small=0,
            regime="first" if self.regime_rule == "bipop" else "large",
            inner_start_nfev=0,
            inner_seed=int(rng.integers(2**63 - 1)),
            inner_popsize=self._popsize_default,
            inner_sigma=sigma,
            inner_x0=x0.copy(),
            inner_budget=budget,
            inner_widths=widths,
        )
        self._inner = self._build_inner(state)
        return state

    def _build_inner(self, state: RestartState) -> Method:
        opts = dict(self.params.inner_options or {})
        opts[self._pop_key] = int(state.inner_popsize)
        if self._sigma_key is not None and len(state.inner_widths):
            opts[self._sigma_key] = tuple(float(w) for w in state.inner_widths)
        elif self._sigma_key is not None and math.isfinite(state.inner_sigma):
            opts[self._sigma_key] = float(state.inner_sigma)
        return self._inner_class()(
            state.inner_x0.copy(),
            seed=int(state.inner_seed),
            bounds=self.bounds,
            budget=int(state.inner_budget) or None,
            **opts,
        )

    # ------------------------------------------------------------------ hooks
    def _tell(
        self, state: RestartState, X: np.ndarray, feedback: Any, rng: np.random.Generator
    ) -> RestartState:
        # values, or the ranking / pairs (an inner such as cma takes both)
        forward(self._inner, X, feedback, self)
        reasons = self._inner.stop()
        if not reasons:
            return state  # still running
        if set(reasons) == {"budget"} and not self._capped(state):
            return state  # the whole budget is spent: the outer stop says so
        return self._restart(state, len(X), rng)  # converged, stalled, or a small run's cap reached

    def _capped(self, state: RestartState) -> bool:
        """Whether the current inner run's budget is a cap below what the outer budget leaves it (a BIPOP
        small run): its "budget" stop is then a restart, not the end."""
        if not state.inner_budget:
            return False
        if self.budget is None:
            return True
        return state.inner_budget < self.budget - state.inner_start_nfev

    def _restart(self, state: RestartState, last_batch: int, rng: np.random.Generator) -> RestartState:
        spent = self.nfev + last_batch - state.inner_start_nfev  # outer nfev is updated after _tell
        evals_large = state.evals_large + (spent if state.regime == "large" else 0)
        evals_small = state.evals_small + (spent if state.regime in ("small", "first") else 0)
        limit = self.params.max_restarts
        if limit is None and self.budget is None:
            limit = 9
        if limit is not None and state.restarts >= limit:
            return dataclasses.replace(
                state, exhausted=True, evals_large=evals_large, evals_small=evals_small
            )
        n_large = state.n_large
        lam_def = self._popsize_default
        cap = None
        if self.regime_rule == "bipop" and evals_small < max(1, evals_large):
            # the first run counts in the small share, so the first restart is large (evals_large = 0)
            regime = "small"
            lam_last = lam_def * self.params.popsize_factor**n_large  # the latest large run's population
            u, v = rng.random(2)
            popsize = int(math.floor(lam_def * (lam_last / lam_def) ** (u**2)))
            factor = 10.0 ** (-2.0 * v)
            # a small run is a local search: at most half of the large regime's evaluations, so that one
            # run with a large lambda_s and a step too wide to converge cannot hold back the next large run
            cap = max(evals_large // 2, max(popsize, 2))  # at least one batch
        else:
            regime = "large"
            n_large += 1
            popsize = int(round(lam_def * self.params.popsize_factor**n_large))
            factor = 1.0
        sigma, widths = self._scaled_sigma(factor)
        popsize = max(popsize, lam_def if regime == "large" else 2)
        used = self.nfev + last_batch
        budget = 0 if self.budget is None else self.budget - used
        if self.budget is not None and budget < 1:
            return dataclasses.replace(
                state, exhausted=True, evals_large=evals_large, evals_small=evals_small
            )
        if cap is not None:
            budget = cap if self.budget is None else min(budget, cap)
        new = RestartState(
            restarts=state.restarts + 1,
            n_large=n_large,
            evals_large=evals_large,
            evals_small=evals_small,
            regime=regime,
            inner_start_nfev=used,
            inner_seed=int(rng.integers(2**63 - 1)),
            inner_popsize=popsize,
            inner_sigma=sigma,
            inner_x0=self._restart_point(rng),
            inner_budget=budget,
            inner_widths=widths,
        )
        self._inner = self._build_inner(new)
        return new

    def _restart_point(self, rng: np.random.Generator) -> np.ndarray:
        mode = self.params.restart_from
        finite = self.bounds is not None and bool(
            np.all(np.isfinite(self.bounds[0]) & np.isfinite(self.bounds[1]))
        )
        if mode == "uniform" or (mode == "auto" and finite):
            if not finite:
                raise ValueError("restart_from='uniform' needs finite bounds")
            # the central 80% of the box, as Hansen (2009) restarts in [-4, 4]^d for BBOB's [-5, 5]^d:
            # a start near an edge wastes the first iterations on the boundary handling
            mid, half = 0.5 * (self.bounds[0] + self.bounds[1]), 0.5 * (self.bounds[1] - self.bounds[0])
            return rng.uniform(mid - 0.8 * half, mid + 0.8 * half)
        if mode == "best" and math.isfinite(self._best_f):
            return self._best_x.copy()
        return self.x0.copy()

    def _stop(self, state: RestartState) -> dict[str, Any]:
        if state.exhausted:
            return {"restarts": state.restarts}
        return {}

    # ------------------------------------------------------------------ state
    def _state_from_dict(self, d: dict[str, Any]) -> RestartState:
        state = super()._state_from_dict(d)
        state.inner_x0 = np.asarray(state.inner_x0, dtype=np.float64)
        state.inner_widths = np.asarray(state.inner_widths, dtype=np.float64).reshape(-1)
        return state


@register("cma-ipop", "ipop")
class IPOP(RestartWrapper):
    """IPOP restarts (Auger & Hansen 2005): population x2 at each restart; default inner method "cma"."""

    regime_rule = "ipop"


@register("cma-bipop", "bipop")
class BIPOP(RestartWrapper):
    """BIPOP restarts (Hansen 2009): large (IPOP) and small-population regimes; default inner "cma"."""

    regime_rule = "bipop"
