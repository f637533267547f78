"""The client side of a round: evaluating a group of clients, counting every query, isolating faults.

A :class:`ClientBatch` stands for the ``C`` clients one worker runs together (all sampled clients in the local
engine, one shard in the Ray engine, one client in Flower). ``batch(X)`` with ``X`` of shape ``(C, n, d)``
returns the values ``(C, n)``; it counts ``n`` queries for every live client, keeps the clients in lock-step, and
turns a client that raises, returns the wrong shape, or runs past its time limit into a recorded fault: that
client's rows become NaN and it stays dead for the rest of the round (its upload is discarded). Non-finite
values are passed on (the estimators drop them) and counted in ``nonfinite``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class ClientBatch:
    def __init__(self, problem: Any, ids: np.ndarray, timeout: float | None = None) -> None:
        self.problem = problem
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.dim = problem.dim
        self.queries = np.zeros(self.size, dtype=np.int64)
        self.nonfinite = np.zeros(self.size, dtype=np.int64)
        self.alive = np.ones(self.size, dtype=bool)
        self.faults: dict[int, str] = {}  # position in the batch -> reason
        self.timeout = timeout
        self.seconds = np.zeros(self.size)

    def fail(self, pos: int, reason: str) -> None:
        if self.alive[pos]:
            self.alive[pos] = False
            self.faults[pos] = reason

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        C, n, d = X.shape
        if C != self.size or d != self.dim:
            raise ValueError(f"expected points of shape ({self.size}, n, {self.dim}), got {X.shape}")
        out = np.full((C, n), np.nan)
        live = np.flatnonzero(self.alive)
        if len(live) == 0:
            return out
        self.queries[live] += n
        batched = getattr(self.problem, "batched", None)
        if batched is not None and self.timeout is None:
            try:
                vals = np.asarray(batched(self.ids[live], X[live]), dtype=np.float64)
                if vals.shape == (len(live), n):
                    out[live] = vals
                    self._count_nonfinite(live, vals)
                    return out
            except Exception:  # noqa: BLE001 - fall back to one call per client to find the culprit
                pass
        for pos in live:
            t0 = time.perf_counter()
            try:
                v = np.asarray(self.problem.objectives[self.ids[pos]](X[pos]), dtype=np.float64).reshape(-1)
            except Exception as exc:  # noqa: BLE001 - a client's failure is a recorded fault, not a crash
                self.fail(pos, f"raised {type(exc).__name__}: {exc}")
                continue
            self.seconds[pos] += time.perf_counter() - t0
            if v.shape != (n,):
                self.fail(pos, f"returned {v.size} values for {n} points")
                continue
            if self.timeout is not None and self.seconds[pos] > self.timeout:
                self.fail(pos, f"late: {self.seconds[pos]:.3g} s > timeout {self.timeout:.3g} s")
                continue
            out[pos] = v
            self._count_nonfinite(np.array([pos]), v[None])
        return out

    def _count_nonfinite(self, rows: np.ndarray, vals: np.ndarray) -> None:
        bad = (~np.isfinite(vals)).sum(axis=1)
        if bad.any():
            self.nonfinite[rows] += bad

    def report(self) -> list[dict[str, Any]]:
        """One record per client: id, queries, non-finite values, fault (or None)."""
        return [
            {
                "id": int(self.ids[p]),
                "queries": int(self.queries[p]),
                "nonfinite": int(self.nonfinite[p]),
                "fault": self.faults.get(p),
            }
            for p in range(self.size)
        ]


def client_rngs(seed: int, rnd: int, ids: np.ndarray) -> list[np.random.Generator]:
    """The generator of client ``i`` in round ``rnd``: a function of (seed, round, client) only, so a client
    draws the same numbers whichever engine or worker runs it."""
    return [np.random.Generator(np.random.PCG64([seed, rnd, int(i), 0x5EED])) for i in ids]
