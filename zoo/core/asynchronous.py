"""Asynchronous (steady-state) ask/tell: results are used as they arrive, so no worker waits for a batch.

``minimize(..., workers=N, asynchronous=True)`` keeps N evaluations in flight; each time one ends its value is
told at once and one new point is asked. A method supports it by mixing in :class:`SteadyState` and writing
two hooks that take any number of rows in any order:

- ``_ask_async(state, rng, n) -> X`` (``n`` new points from what is known now),
- ``_tell_async(state, X, values) -> state``.

Methods that do: ``ga`` (steady-state truncation selection: the parents are the ``T`` best points told so far;
each new child mutates a random parent, so an early result shapes the next child at once) and
``random-search``. The public ``ask_async`` / ``tell_async`` keep the base class's counts, the best point and the
NaN policy; a pending synchronous batch and an asynchronous run do not mix.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np


class SteadyState(abc.ABC):
    """Mixin for :class:`~zoo.core.method.Method` subclasses that can use results one at a time."""

    supports_async = True

    @abc.abstractmethod
    def _ask_async(self, state: Any, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` new points ``(n, d)``."""

    @abc.abstractmethod
    def _tell_async(self, state: Any, X: np.ndarray, values: np.ndarray) -> Any:
        """The new state after the values of ``X`` (any rows asked before, in any order)."""

    def ask_async(self, n: int = 1) -> np.ndarray:
        if self._pending is not None:
            raise RuntimeError("ask_async() while a synchronous batch is pending: tell it first")
        X = np.asarray(self._ask_async(self.state, self.rng, int(n)), dtype=np.float64)
        if X.shape != (n, self.dim):
            raise RuntimeError(
                f"{type(self).__name__}._ask_async returned {X.shape}, expected ({n}, {self.dim})"
            )
        return X

    def tell_async(self, X: Any, values: Any) -> None:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        f = np.asarray(values, dtype=np.float64).reshape(-1)
        if X.shape[1] != self.dim or len(f) != len(X):
            raise ValueError(
                f"tell_async takes X of shape (n, {self.dim}) and n values; got {X.shape}, {f.shape}"
            )
        bad = ~np.isfinite(f)
        f = np.where(bad, np.inf, f)
        self.state = self._tell_async(self.state, X, f)
        self.nfev += len(X)
        self.nit += 1
        self.n_nonfinite += int(bad.sum())
        i = int(f.argmin())
        if f[i] < self._best_f:
            self._best_f, self._best_x = float(f[i]), X[i].copy()

    def async_budget_left(self) -> int | None:
        return None if self.budget is None else self.budget - self.n_queries


def run_async(opt: Any, problem: Any, *, callback: Any = None, max_time: float | None = None,
              progress: bool = False, checkpoint: Any = None, every: int = 100) -> dict[str, Any]:  # fmt: skip
    """The steady-state loop: keep the evaluator full, tell each result as it arrives. Returns the stop reasons.

    ``checkpoint``: the optimizer is saved every ``every`` results, when the run fails or is interrupted, and
    at the end; the evaluations in flight at that moment are not in it (a resumed run asks new points; the run
    log has them). An asynchronous run is not reproducible bit for bit: the order in which results arrive
    decides the next points."""
    import time

    from zoo.core import checkpoint as _checkpoint
    from zoo.core.oracle import ObjectiveError

    if not getattr(opt, "supports_async", False):
        raise ValueError(
            f"method {opt.name!r} has no asynchronous mode; asynchronous=True works with ga and random-search"
        )
    ev = problem.evaluator
    if ev is None:
        raise ValueError("asynchronous=True needs parallel evaluation: workers=N (N > 1) or executor=")
    bar = None
    if progress:
        from zoo.progress import progress_bar

        bar = progress_bar(opt.budget, opt.n_queries, unit="eval")
    t0 = time.perf_counter()
    tag = 0
    reasons: dict[str, Any] = {}
    try:
        while True:
            left = None if opt.budget is None else opt.budget - opt.n_queries - ev.busy
            stopping = {k: v for k, v in opt.stop().items() if k != "budget"}
            if max_time is not None and time.perf_counter() - t0 > max_time:
                stopping["max_time"] = max_time
            if not stopping:
                n_new = ev.capacity - ev.busy if left is None else min(ev.capacity - ev.busy, left)
                if n_new > 0:
                    for z in opt.ask_async(n_new):
                        ev.submit(tag, z)
                        tag += 1
            if stopping and not reasons:
                reasons = stopping
            if not ev.busy:
                if not reasons:
                    reasons = {"budget": opt.budget}
                break
            for _, z, outcome in ev.wait():
                problem.record(z, outcome)
                values = problem.told(z[None, :], [outcome])
                opt.tell_async(z[None, :], values)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(best=f"{opt.best[1]:.4g}", busy=f"{ev.busy}/{ev.capacity}", refresh=False)
                if checkpoint is not None and opt.nit % every == 0:
                    _checkpoint.save(checkpoint, opt.state_dict())
                if callback is not None and callback(opt) and not reasons:
                    reasons = {"callback": True}
    except BaseException as err:
        # an evaluation counted by the problem but never told (it raised) is a spent query of the optimizer's
        opt.count_failed(max(problem.nfev - opt.n_queries, 0))
        if isinstance(err, ObjectiveError):
            err.optimizer = opt
        if checkpoint is not None:
            _checkpoint.save(checkpoint, opt.state_dict())
        raise
    finally:
        if bar is not None:
            bar.close()
    if checkpoint is not None:
        _checkpoint.save(checkpoint, opt.state_dict())
    return reasons
