"""The value oracle: how a method's batch turns into objective values.

:class:`ValueOracle` wraps the user's objective once, so every method sees batches. It counts every answer,
enforces the budget exactly (a batch that would overrun it is refused before anything is evaluated), checks
what the objective returns (real numbers of the right shape; see :func:`zoo.core.validate.as_values`), and
attaches the offending point to an exception raised by the objective (:class:`ObjectiveError`).

Counting: ``nfev`` counts every query the objective was given, answered or not. A call that raised (or
returned something unusable) spent its queries: one for a per-point objective, the rows it was given for a
vectorized one. They are counted here and ``minimize`` records them on the optimizer
(:meth:`~zoo.core.method.Method.count_failed`, ``res.n_failed``), so the budget stays a hard limit on calls
across a resume, which asks the failed point(s) again. For a per-point objective the answers before the
failing point are kept (in ``done``, which ``minimize`` stores on the optimizer as ``pending_values``), so a
resumed run never asks them again. A ``KeyboardInterrupt`` (the user stopping the run, not the objective
failing) is not counted: the interrupted point is asked again, and the interrupt checkpoint resumes bit for
bit as if nothing had happened.

NaN policy (the same everywhere in zoo): a NaN or +-inf value is recorded (counted in ``n_nonfinite``) and
ranks worst; :meth:`zoo.core.method.Method.tell` replaces it by ``+inf`` before the algorithm sees it.
Rank feedback lives in :mod:`zoo.core.feedback`, the rank oracle in :mod:`zoo.core.rank_oracle`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core._deprecated import moved
from zoo.core.validate import as_real


class ObjectiveError(RuntimeError):
    """The objective raised (or returned something unusable). ``x`` is the point (per-point objective) or
    the batch (vectorized) it was given; the original exception is ``__cause__``. Nothing was told to the
    optimizer, so the run can resume: ``minimize(fun, None, err.optimizer)``."""

    def __init__(self, message: str, x: np.ndarray, batch: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.x = x
        self.batch = x if batch is None else batch
        self.optimizer: Any = None  # set by minimize() so the caller can resume the run


class ObjectiveOutputError(ObjectiveError, TypeError, ValueError):
    """The objective returned something that is not a real number (None, complex, a dict, a string) or not
    the shape asked for. Also a ``TypeError`` / ``ValueError``, as a bad value is."""


class BudgetExhausted(RuntimeError):
    """A batch would take the number of queries past the budget; nothing was evaluated."""


class ValueOracle:
    """Batched, counted access to ``fun``.

    ``fun(X)`` with ``X`` of shape ``(n, d)`` returning ``(n,)`` when ``vectorized``; otherwise ``fun(x)``
    with ``x`` of shape ``(d,)`` returning a scalar, called once per row.
    """

    def __init__(
        self,
        fun: Callable[..., Any],
        *,
        dim: int,
        vectorized: bool = False,
        budget: int | None = None,
    ) -> None:
        if not callable(fun):
            raise TypeError(f"the objective must be callable, got {type(fun).__name__}")
        self.fun = fun
        self.dim = int(dim)
        self.vectorized = bool(vectorized)
        self.budget = budget
        self.nfev = 0
        self.n_nonfinite = 0

    def __call__(self, X: Any, done: list[float] | None = None) -> np.ndarray:
        """The values of the batch ``X``. ``done``: values of its first rows already answered (by an earlier,
        interrupted call); the call appends each new answer to it as it comes, so that an exception or an
        interrupt loses no answer."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"the oracle takes a batch of shape (n, {self.dim}), got {X.shape}")
        done = [] if done is None else done
        n, k = len(X), len(done)
        if k > n:
            raise ValueError(f"{k} answered values given for a batch of {n} points")
        if self.budget is not None and self.nfev + n - k > self.budget:
            raise BudgetExhausted(
                f"a batch of {n - k} queries would exceed the budget ({self.nfev} of {self.budget} used)"
            )
        before = len(done)
        try:
            if self.vectorized:
                self._eval_batch(X, done)
            else:
                self._eval_points(X, done)
        finally:
            self.nfev += len(done) - before
        values = np.array(done, dtype=np.float64)
        self.n_nonfinite += int(np.count_nonzero(~np.isfinite(values[before:])))
        return values

    def _eval_batch(self, X: np.ndarray, done: list[float]) -> None:
        rest = X[len(done) :]
        try:
            out = self.fun(rest)
        except ObjectiveError:
            self.nfev += len(rest)  # the batch was given to the objective: its queries are spent
            raise  # already names what failed (e.g. the sample of a stochastic objective)
        except Exception as exc:
            self.nfev += len(rest)
            raise ObjectiveError(
                f"the objective raised {type(exc).__name__}: {exc} (on a batch of {len(rest)} points; see .x)",
                rest,
            ) from exc
        try:
            values = as_real(out, "a vectorized objective's values")
        except TypeError as exc:
            self.nfev += len(rest)
            raise ObjectiveOutputError(f"{exc} (for X of shape {rest.shape})", rest) from exc
        if values.shape != (len(rest),):
            if values.size == len(rest) and values.ndim == 2 and 1 in values.shape:
                values = values.reshape(len(rest))
            else:
                self.nfev += len(rest)
                raise ObjectiveOutputError(
                    f"a vectorized objective must return shape ({len(rest)},) for X of shape {rest.shape}, "
                    f"got {values.shape}; pass vectorized=False for an objective of one point",
                    rest,
                )
        done.extend(values.tolist())

    def _eval_points(self, X: np.ndarray, done: list[float]) -> None:
        for i in range(len(done), len(X)):
            x = X[i].copy()
            try:
                v = self.fun(x)
            except Exception as exc:
                self.nfev += 1  # a call that raised spent its query
                raise ObjectiveError(
                    f"the objective raised {type(exc).__name__}: {exc} (at the point in .x)", x, X
                ) from exc
            try:
                arr = v if isinstance(v, float) else as_real(v, "the objective's value")
            except TypeError as exc:
                self.nfev += 1
                raise ObjectiveOutputError(f"{exc} (at the point in .x)", x, X) from exc
            if not isinstance(arr, float):
                if arr.size != 1:
                    self.nfev += 1
                    raise ObjectiveOutputError(
                        f"the objective must return a scalar for x of shape ({self.dim},), got shape {arr.shape}; "
                        "pass vectorized=True for an objective that takes a batch",
                        x,
                        X,
                    )
                arr = float(arr.reshape(()))
            done.append(arr)


# names that moved to zoo.core.feedback / zoo.core.rank_oracle (one release, then removed)
__getattr__ = moved(
    __name__,
    {
        "Comparisons": "zoo.core.feedback:Comparisons",
        "comparisons_from_values": "zoo.core.feedback:comparisons_from_values",
        "normalize_comparisons": "zoo.core.feedback:normalize_comparisons",
        "RankOracle": "zoo.core.rank_oracle:RankOracle",
    },
)
