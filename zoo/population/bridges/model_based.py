"""``"bobyqa"`` and ``"cobyqa"``: model-based derivative-free trust-region methods behind ask/tell.

``"bobyqa"``: Powell's BOBYQA ("The BOBYQA algorithm for bound constrained optimization without derivatives",
Cambridge NA report 2009/06) as compiled in NLopt (Johnson, ``nlopt``): quadratic models interpolating
``2d + 1`` points, updated by least Frobenius norm change, in a trust region kept inside the box.
``"cobyqa"``: COBYQA (Ragonneau & Zhang 2022, the ``cobyqa`` package; also scipy's ``method="COBYQA"``), the
same family in pure Python: 60-100x the per-evaluation overhead of NLopt's BOBYQA in d = 10 on our machine
(about 10 ms against 0.1 ms), no better on BBOB at ``1e2 d`` (docs/choosing-a-method.md).

Such methods converge in few evaluations on smooth problems where CMA-ES is still learning its covariance,
which is why ``auto`` runs ``bobyqa`` first (docs/methods/auto.md). Both libraries call the objective
themselves, so the solver runs in a worker thread that hands each point to ``ask`` and waits for ``tell``
(one point per batch; the two threads never run at once). Both are deterministic, so resuming replays the
recorded values (:mod:`zoo.population.bridges.replay`). Every query lies in the box. The trust region starts
at ``initial_radius`` (None: 0.1 x the mean width of finite bounds, else ``0.1 max(1, |x0|_inf)``) and the run
stops on its own when the radius reaches ``final_ratio`` of that (``stop()`` says ``bobyqa_converged``).
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from typing import Any

import numpy as np

from zoo.core.method import Params
from zoo.core.registry import register
from zoo.core.validate import check_count, check_real
from zoo.population.bridges.replay import ReplayBridge, ReplayState


@dataclasses.dataclass(frozen=True)
class TrustRegionParams(Params):
    """``initial_radius``: the first trust-region radius (None: from the bounds or x0, see the module);
    ``final_ratio``: the run stops when the radius is below ``final_ratio * initial_radius`` (1e-6);
    ``max_evals``: cap on the solver's evaluations (None: the budget, else 500 d)."""

    initial_radius: float | None = None
    final_ratio: float = 1e-6
    max_evals: int | None = None

    def check(self, dim: int) -> None:
        check_real(self.initial_radius, "initial_radius", 0, low_open=True, none_ok=True)
        check_real(self.final_ratio, "final_ratio", 0, 1, low_open=True, high_open=True)
        check_count(self.max_evals, "max_evals", none_ok=True)


class _Finished(Exception):
    """Raised inside the worker's objective to end a solver that is no longer wanted."""


class _Solver:
    """A solver that calls ``fun(x)`` itself, run in a daemon thread and fed one point at a time through two
    queues: ``ask`` returns the point the solver waits on, ``tell`` hands its value back. The two threads
    never run at the same time, so the solver sees an ordinary sequential objective."""

    def __init__(self, solve: Any) -> None:
        self._points: queue.Queue = queue.Queue(maxsize=1)
        self._values: queue.Queue = queue.Queue(maxsize=1)
        self.done = False
        self.message = ""
        self._next: np.ndarray | None = None
        self._thread = threading.Thread(target=self._run, args=(solve,), daemon=True)
        self._thread.start()
        self._wait()

    def fun(self, x: np.ndarray) -> float:
        self._points.put(np.array(x, dtype=np.float64))
        v = self._values.get()
        if v is None:
            raise _Finished
        return v

    def _run(self, solve: Any) -> None:
        try:
            self.message = solve(self.fun)
        except _Finished:
            self.message = "closed"
        except Exception as exc:  # reported through stop(), never lost in the thread
            if type(exc).__name__ == "ForcedStop" or isinstance(exc.__cause__, _Finished):
                self.message = "closed"
            else:
                self.message = f"{type(exc).__name__}: {exc}"
        self.done = True
        self._points.put(None)

    def _wait(self) -> None:
        item = self._points.get()
        self._next = item
        if item is None:
            self._thread.join()

    def ask(self) -> np.ndarray:
        if self._next is None:
            raise RuntimeError(f"the solver has finished ({self.message}); check stop() before ask()")
        return self._next

    def tell(self, value: float) -> None:
        self._values.put(value)
        self._wait()

    def close(self) -> None:
        if not self.done and self._next is not None:
            self._values.put(None)
            self._wait()


def _cobyqa_solve(x0: np.ndarray, bounds: Any, radius: float, final: float, maxfev: int) -> Any:
    def solve(fun: Any) -> str:
        # the cobyqa package itself: scipy's copy holds a process-wide lock for the whole solve, so a second
        # live optimizer (a resumed copy, a portfolio phase) would wait for ever
        from cobyqa import minimize
        from scipy.optimize import Bounds

        res = minimize(
            fun,
            x0,
            bounds=None if bounds is None else Bounds(bounds[0], bounds[1]),
            options={"maxfev": maxfev, "radius_init": radius, "radius_final": final},
        )
        return str(res.message)

    return solve


def _bobyqa_solve(x0: np.ndarray, bounds: Any, radius: float, final: float, maxfev: int) -> Any:
    def solve(fun: Any) -> str:
        import nlopt

        def f(x: np.ndarray, grad: np.ndarray) -> float:
            try:
                return fun(x)
            except _Finished as exc:
                raise nlopt.ForcedStop from exc

        d = len(x0)
        o = nlopt.opt(nlopt.LN_BOBYQA, d)
        if bounds is not None:
            o.set_lower_bounds(bounds[0])
            o.set_upper_bounds(bounds[1])
        o.set_min_objective(f)
        o.set_maxeval(int(maxfev))
        o.set_initial_step(radius)
        o.set_xtol_abs(np.full(d, final))
        o.set_xtol_rel(0.0)
        o.optimize(x0.copy())
        return {4: "xtol reached", 5: "maxeval reached"}.get(
            o.last_optimize_result(), str(o.last_optimize_result())
        )

    return solve


class TrustRegionBridge(ReplayBridge):
    """A model-based trust-region solver that drives the objective itself, through ask/tell (one point)."""

    Params = TrustRegionParams
    library: Any = staticmethod(_bobyqa_solve)

    @property
    def deterministic(self) -> bool:
        return True

    @property
    def initial_radius(self) -> float:
        if self.params.initial_radius is not None:
            return float(self.params.initial_radius)
        if self.bounds is not None:
            with np.errstate(over="ignore"):
                width = self.bounds[1] - self.bounds[0]
            w = width[width > 0]
            if w.size and np.all(np.isfinite(w)) and float(np.mean(w)) <= 1e100:
                return float(0.1 * np.mean(w))
        return 0.1 * max(1.0, float(np.max(np.abs(self.x0))))

    def _new_backend(self, library_seed: int) -> Any:
        old = getattr(self, "_backend", None)
        if old is not None:
            old.close()
        maxfev = self.params.max_evals or self.budget or 500 * self.dim
        radius = self.initial_radius
        final = radius * self.params.final_ratio
        bounds = None if self.bounds is None else (self.bounds[0].copy(), self.bounds[1].copy())
        return _Solver(self.library(self.x0.copy(), bounds, radius, final, int(maxfev)))

    def _backend_ask(self) -> np.ndarray:
        return self._backend.ask()[None, :]

    def _backend_tell(self, values: np.ndarray) -> None:
        self._backend.tell(float(values[0]))

    def _batch_size(self, state: ReplayState) -> int:
        return 1

    def _stop(self, state: ReplayState) -> dict[str, Any]:
        if self._backend.done:
            return {f"{self.name}_converged": self._backend.message}
        return {}

    def close(self) -> None:
        """End the worker thread now (it also ends with the run, or with the process)."""
        self._backend.close()


@register("bobyqa")
class BOBYQA(TrustRegionBridge):
    """Powell's BOBYQA (2009) through NLopt: bound-constrained quadratic models, ``2d + 1`` points."""

    library = staticmethod(_bobyqa_solve)


@register("cobyqa")
class COBYQA(TrustRegionBridge):
    """COBYQA (Ragonneau & Zhang 2022): quadratic models in a trust region, bounds always kept."""

    library = staticmethod(_cobyqa_solve)
