"""What ``minimize`` evaluates: the user's objective with ``args``, a ``space``, ``constraints``, parallel
workers, timeouts, faults and a run log, seen by the method as values of encoded float batches.

:class:`PointTask` is the per-point function shipped to workers (decode the space, call ``fun(x, *args)``,
evaluate the constraints). :class:`Problem` is the driver's side: it picks the encoding a method optimizes
(:mod:`zoo.core.space`), evaluates batches in process (the plain path, :class:`~zoo.core.oracle.ValueOracle`) or
through :class:`~zoo.core.evaluate.Evaluator`, records faults, writes the log and turns ``(f, g)`` into the
augmented Lagrangian values of :mod:`zoo.core.constraints`.

Faults (``on_error``): ``"record"`` (the default with ``workers > 1``, ``executor`` or ``timeout``) records a
failed evaluation in ``res.faults`` with value ``+inf`` and goes on; ``"raise"`` (the default otherwise) raises
:class:`~zoo.core.oracle.ObjectiveError` with the point, as a plain in-process run always did.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core import constraints as _con
from zoo.core.evaluate import BadValue, Evaluator, Outcome, worker_name
from zoo.core.oracle import BudgetExhausted, ObjectiveError, ValueOracle
from zoo.core.runlog import RunLog
from zoo.core.space import Space, as_space


@dataclasses.dataclass
class PointTask:
    """``z -> (f, g)``: decode one encoded point, evaluate the objective and the constraints."""

    fun: Callable
    args: tuple = ()
    space: Space | None = None
    encoding: str = "unit"
    constraints: list | None = None

    def point(self, z: np.ndarray) -> Any:
        return (
            self.space.decode(z, self.encoding) if self.space is not None else np.array(z, dtype=np.float64)
        )

    def __call__(self, z: np.ndarray) -> tuple[float, np.ndarray | None]:
        x = self.point(z)
        v = np.asarray(self.fun(x, *self.args), dtype=np.float64)
        if v.size != 1:
            raise BadValue(f"the objective must return a scalar for one point, got shape {v.shape}")
        g = _con.eval_point(self.constraints, x) if self.constraints else None
        return float(v.reshape(())), g


class _WithArgs:
    """``fun(x, *args)`` as a plain picklable callable (the in-process path)."""

    def __init__(
        self, fun: Callable, args: tuple, space: Space | None, encoding: str, vectorized: bool
    ) -> None:
        self.fun, self.args, self.space, self.encoding, self.vectorized = (
            fun,
            args,
            space,
            encoding,
            vectorized,
        )

    def __call__(self, x: np.ndarray) -> Any:
        if self.space is not None:
            x = (
                [self.space.decode(z, self.encoding) for z in x]
                if self.vectorized
                else self.space.decode(x, self.encoding)
            )
        return self.fun(x, *self.args)


class Problem:
    def __init__(
        self,
        fun: Callable,
        *,
        args: Any = (),
        space: Any = None,
        constraints: Any = None,
        vectorized: bool = False,
        workers: int = 1,
        executor: Any = None,
        timeout: float | None = None,
        log: Any = None,
        on_error: str | None = None,
    ) -> None:
        if not callable(fun):
            raise TypeError(f"the objective must be callable, got {type(fun).__name__}")
        self.fun = fun
        self.args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
        self.space = as_space(space)
        self.constraints = _con.as_constraints(constraints)
        self.vectorized = bool(vectorized)
        parallel = workers != 1 or executor is not None or timeout is not None
        if parallel and self.vectorized:
            raise ValueError(
                "vectorized=True evaluates batches in this process; drop it to use workers/executor"
            )
        if on_error is None:
            on_error = "record" if parallel else "raise"
        if on_error not in ("record", "raise"):
            raise ValueError(f"on_error must be 'record' or 'raise', got {on_error!r}")
        self.on_error = on_error
        self.workers, self.executor, self.timeout = workers, executor, timeout
        self.parallel = parallel
        self.log = RunLog(log) if log is not None else None
        self.encoding = "unit"
        self.nfev = 0
        self.n_nonfinite = 0
        self.faults: list[dict[str, Any]] = []
        self.budget: int | None = None
        self.al: _con.AugmentedLagrangian | None = None
        self._evaluator: Evaluator | None = None
        self._oracle: ValueOracle | None = None

    # ------------------------------------------------------------------ set-up per method
    def setup(self, cls: type, x0: Any, bounds: Any, options: dict[str, Any]) -> tuple[Any, Any, dict]:
        """The encoded ``x0`` and box and the method options that map the space onto ``cls``."""
        if self.space is None:
            return x0, bounds, options
        if bounds is not None:
            raise TypeError(
                "give bounds inside the space (Real(lower, upper), ...), not as bounds=, with space="
            )
        from zoo.population import bridges

        if issubclass(cls, bridges.CMA):
            self.encoding = "index"
            disc = self.space.discrete()
            lo, hi = self.space.bounds("index")
            cma_opts = dict(options.get("cma_options") or {})
            if disc:
                cma_opts.setdefault("integer_variables", [i for i, _, _ in disc])
            cma_opts.setdefault("CMA_stds", np.maximum(hi - lo, 1.0).tolist())
            options = {**options, "cma_options": cma_opts}
            options.setdefault("sigma0", 0.25)  # in units of each coordinate's range (CMA_stds)
        elif issubclass(cls, bridges.NevergradBridge):
            options = {**options, "space": self.space.spec()}
        elif "genes" in {f.name for f in dataclasses.fields(cls.Params)}:
            options = {**options, "genes": tuple(tuple(t) for t in self.space.discrete())}
        z0 = self.space.encode(x0, self.encoding) if x0 is not None else self.space.center(self.encoding)
        return z0, self.space.bounds(self.encoding), options

    def start(self, dim: int, budget: int | None, nfev: int) -> None:
        self.dim, self.budget, self.nfev = dim, budget, nfev
        if self.constraints is not None:
            self.al = _con.AugmentedLagrangian(dim)
        plain = not self.parallel and self.log is None and self.constraints is None
        if plain:
            wrapped = (
                self.fun
                if not (self.args or self.space)
                else _WithArgs(self.fun, self.args, self.space, self.encoding, self.vectorized)
            )
            self._oracle = ValueOracle(wrapped, dim=dim, vectorized=self.vectorized, budget=budget)
            self._oracle.nfev = nfev
        elif self.vectorized:
            self._oracle = None
        else:
            task = PointTask(self.fun, self.args, self.space, self.encoding, self.constraints)
            self._task = task
            if self.parallel:
                self._evaluator = Evaluator(
                    task, workers=self.workers, executor=self.executor, timeout=self.timeout
                )

    def budget_left(self, budget: int | None) -> None:
        """A new budget (``minimize`` releases the part kept for a stochastic objective's checks)."""
        self.budget = budget
        if self._oracle is not None:
            self._oracle.budget = budget

    @property
    def capacity(self) -> int:
        return self._evaluator.capacity if self._evaluator is not None else 1

    @property
    def evaluator(self) -> Evaluator | None:
        return self._evaluator

    # ------------------------------------------------------------------ evaluation
    def __call__(
        self, X: np.ndarray, done: list | None = None, on_done: Callable | None = None
    ) -> np.ndarray:
        """The values told to the method for the batch ``X`` (encoded). ``done``: values of its first rows
        answered by an earlier, interrupted call (the driver's ``pending_values``); new answers are appended."""
        done = [] if done is None else done
        if self._oracle is not None:
            before = self._oracle.nfev
            try:
                return self._oracle(X, done)
            finally:
                self.nfev += self._oracle.nfev - before
                self.n_nonfinite = self._oracle.n_nonfinite
        rest = X[len(done) :]
        n = len(rest)
        if self.budget is not None and self.nfev + n > self.budget:
            raise BudgetExhausted(
                f"a batch of {n} queries would exceed the budget ({self.nfev} of {self.budget} used)"
            )
        if self.vectorized:
            values = self._vectorized(rest)
        elif self._evaluator is not None:
            outcomes = self._evaluator.map(rest, on_done=lambda i, o: self.record(rest[i], o, on_done))
            values = self.told(rest, outcomes)
        elif self.al is None:  # serial: each answer is kept at once, so an error loses none of the batch
            for i in range(n):
                done.append(self.record(rest[i], self._serial(rest[i]), on_done).value)
            return np.array(done, dtype=np.float64)
        else:
            outcomes = [self.record(rest[i], self._serial(rest[i]), on_done) for i in range(n)]
            values = self.told(rest, outcomes)
        done.extend(values.tolist())
        return np.array(done, dtype=np.float64)

    def _serial(self, z: np.ndarray) -> Outcome:
        import time

        t0 = time.perf_counter()
        try:
            f, g = self._task(z)
            return Outcome(f, g, worker_name(), time.perf_counter() - t0)
        except BadValue:
            self.nfev += 1  # the objective was called: its query is spent
            raise
        except Exception as exc:
            return Outcome(
                np.inf,
                None,
                worker_name(),
                time.perf_counter() - t0,
                "raise",
                f"{type(exc).__name__}: {exc}",
            )

    def record(self, z: np.ndarray, o: Outcome, on_done: Callable | None = None) -> Outcome:
        """Count one evaluation, log it, and record or raise its fault."""
        self.nfev += 1
        if o.fault is None and not math.isfinite(o.value):
            self.n_nonfinite += 1
        x = self._task.point(z)
        if self.log is not None:
            self.log.write(self.nfev - 1, x, o.value, o.seconds, o.worker, o.fault, o.message, o.g)
        if o.fault is not None:
            if o.message.startswith("BadValue"):
                raise ValueError(o.message.split(": ", 1)[1])
            if self.on_error == "raise":
                err = ObjectiveError(f"the objective raised {o.message} (at the point in .x)", np.array(z))
                raise err
            self.faults.append({"x": x, "kind": o.fault, "message": o.message, "worker": o.worker})
        if on_done is not None:
            on_done(o)
        return o

    def told(self, Z: np.ndarray, outcomes: list[Outcome]) -> np.ndarray:
        f = np.array([o.value for o in outcomes], dtype=np.float64)
        if self.al is None:
            return f
        m = next((len(o.g) for o in outcomes if o.g is not None), 0)
        G = np.array([o.g if o.g is not None else np.full(m, np.inf) for o in outcomes], dtype=np.float64)
        if G.ndim != 2 or any(o.g is not None and len(o.g) != m for o in outcomes):
            raise ValueError("every point must return the same number of constraint values")
        return self.al.values(Z, f, G)

    def _vectorized(self, X: np.ndarray) -> np.ndarray:
        pts = [self.space.decode(z, self.encoding) for z in X] if self.space is not None else np.array(X)
        try:
            out = np.asarray(self.fun(pts, *self.args), dtype=np.float64)
        except Exception as exc:
            self.nfev += len(X)  # the batch was given to the objective: its queries are spent
            raise ObjectiveError(
                f"the objective raised {type(exc).__name__}: {exc} (on the batch in .x)", X
            ) from exc
        if out.shape != (len(X),):
            self.nfev += len(X)
            raise ValueError(f"a vectorized objective must return shape ({len(X)},), got {out.shape}")
        G = _con.eval_batch(self.constraints, pts, len(X)) if self.constraints else None
        self.nfev += len(X)
        self.n_nonfinite += int(np.count_nonzero(~np.isfinite(out)))
        if self.log is not None:
            for i in range(len(X)):
                x = self.space.decode(X[i], self.encoding) if self.space is not None else X[i]
                self.log.write(
                    self.nfev - len(X) + i,
                    x,
                    out[i],
                    0.0,
                    worker_name(),
                    None,
                    "",
                    None if G is None else G[i],
                )
        return out if self.al is None else self.al.values(X, out, G)

    # ------------------------------------------------------------------ result
    def finish(self, res: dict, opt: Any) -> None:
        """Decode ``res.x``, add faults and constraint reports."""
        res["n_faults"] = len(self.faults)
        res["faults"] = self.faults
        if self.al is not None:
            if self.al.best_x is not None:
                res["x"], res["fun"] = self.al.best_x, self.al.best_f
            g = self.al.best_g if self.al.best_g is not None else np.array([])
            res["constr"], res["maxcv"] = g, float(self.al.best_cv)
            res["feasible"] = bool(self.al.best_cv == 0)
            if not res["feasible"]:
                res["success"], res["status"] = False, 5
                res["message"] = "no feasible point was found; " + res["message"]
        if self.space is not None:
            res["x_encoded"] = np.asarray(res["x"])
            res["x"] = self.space.decode(res["x"], self.encoding)

    def close(self) -> None:
        if self._evaluator is not None:
            self._evaluator.close()
        if self.log is not None:
            self.log.close()
