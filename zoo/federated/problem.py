"""The federated problem type: client objectives with weights, ``F(x) = sum_i w_i f_i(x)``, and the report
evaluators (:class:`GroupValue`, :class:`WeightedSum`). The built-in problems are :mod:`zoo.federated.problems`
and :mod:`zoo.federated.attack`; both build on this module, which imports neither (no import cycle)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Objective = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass
class FederatedProblem:
    """Client objectives ``f_i`` with weights ``w_i`` (normalized to sum 1), a start point and optional box.

    ``batched`` (optional): ``batched(ids, X)`` evaluates clients ``ids`` at once, ``X`` of shape
    ``(C, n, d)`` -> ``(C, n)``; the local engine uses it to vectorize clients of the same kind. It must give
    the same numbers as calling the objectives one by one.
    """

    objectives: Sequence[Objective]
    weights: Any = None
    x0: Any = None
    dim: int | None = None
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    name: str = "problem"
    f_min: float | None = None
    batched: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    success: Callable[[np.ndarray], bool] | None = None  # e.g. "the attack fools most classifiers"
    evaluator: Callable[[np.ndarray], float] | None = None  # the report's F(x), separate from the clients

    def __post_init__(self) -> None:
        self.objectives = list(self.objectives)
        n = len(self.objectives)
        if n == 0:
            raise ValueError("a federated problem needs at least one client objective; got an empty list")
        for i, f in enumerate(self.objectives):
            if not callable(f):
                raise TypeError(f"client objective {i} must be callable f(X) -> (n,), got {type(f).__name__}")
        w = np.ones(n) if self.weights is None else np.asarray(self.weights, dtype=np.float64).reshape(-1)
        if w.shape != (n,):
            raise ValueError(f"weights must have one entry per client ({n}), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights must be finite and non-negative, got {w.tolist()}")
        total = float(w.sum())
        if not total > 0:
            raise ValueError(f"weights must sum to a positive number, got sum {total}")
        self.weights = w / total
        if self.x0 is None:
            if self.dim is None:
                raise ValueError("give x0 or dim")
            self.x0 = np.zeros(int(self.dim))
        self.x0 = np.asarray(self.x0, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(self.x0)):
            raise ValueError(
                f"x0 must be finite; got non-finite entries at {np.flatnonzero(~np.isfinite(self.x0))[:8].tolist()}"
            )
        if self.dim is not None and int(self.dim) != self.x0.size:
            raise ValueError(f"dim={self.dim} disagrees with x0 of size {self.x0.size}")
        self.dim = int(self.x0.size)
        if self.bounds is not None:
            if len(self.bounds) != 2:
                raise ValueError(f"bounds must be a pair (lower, upper), got {len(self.bounds)} items")
            try:
                lo, hi = (
                    np.broadcast_to(np.asarray(b, dtype=np.float64), (self.dim,)).copy() for b in self.bounds
                )
            except ValueError as exc:
                raise ValueError(f"bounds must be numbers or arrays of length {self.dim}: {exc}") from exc
            if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
                raise ValueError("bounds must not contain NaN")
            if np.any(lo > hi):
                k = np.flatnonzero(lo > hi)
                raise ValueError(
                    f"bounds: lower > upper at coordinates {k[:8].tolist()} (e.g. {lo[k[0]]} > {hi[k[0]]})"
                )
            if np.any(self.x0 < lo) or np.any(self.x0 > hi):
                raise ValueError("x0 lies outside the bounds")
            self.bounds = (lo, hi)

    @property
    def n_clients(self) -> int:
        return len(self.objectives)

    def check_dimensions(self) -> None:
        """Query every client once at x0 (uncounted, at build time) so that a client expecting another
        dimension fails here with a clear message rather than mid-run."""
        X = self.x0[None, :]
        for i, f in enumerate(self.objectives):
            try:
                v = np.asarray(f(X), dtype=np.float64)
            except Exception as exc:  # noqa: BLE001 - re-raised with the client named
                raise ValueError(
                    f"client {i} failed on x0 of dimension {self.dim}: {type(exc).__name__}: {exc}"
                ) from exc
            if v.size != 1:
                raise ValueError(f"client {i} returned {v.size} values for 1 point of dimension {self.dim}")

    def global_value(self, x: np.ndarray) -> float:
        """``F(x) = sum_i w_i f_i(x)``: for the report only (never counted as a client query)."""
        X = np.asarray(x, dtype=np.float64).reshape(1, -1)
        if self.batched is not None:
            vals = self.batched(np.arange(self.n_clients), np.broadcast_to(X, (self.n_clients, 1, self.dim)))
            return float(self.weights @ vals[:, 0])
        return float(
            sum(w * float(np.asarray(f(X)).reshape(-1)[0]) for w, f in zip(self.weights, self.objectives))
        )


@dataclasses.dataclass
class GroupValue:
    """``F(x) = sum_i w_i f_i(x)`` computed from a vectorized client group: the built-ins' report evaluator,
    separate from the client objectives (which the simulator may wrap, time out or corrupt)."""

    group: Any
    weights: np.ndarray

    def __call__(self, x: np.ndarray) -> float:
        n = len(self.weights)
        X = np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(1, -1), (n, 1, np.size(x)))
        return float(self.weights @ self.group(np.arange(n), X)[:, 0])


@dataclasses.dataclass
class WeightedSum:
    """``F(x) = sum_i w_i f_i(x)`` over plain objectives (a report evaluator)."""

    objectives: list[Objective]
    weights: np.ndarray

    def __call__(self, x: np.ndarray) -> float:
        X = np.asarray(x, dtype=np.float64).reshape(1, -1)
        return float(
            sum(w * float(np.asarray(f(X)).reshape(-1)[0]) for w, f in zip(self.weights, self.objectives))
        )
