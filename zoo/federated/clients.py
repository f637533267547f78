"""The client side of a round: evaluating a group of clients, counting every query, isolating faults.

A :class:`ClientBatch` stands for the ``C`` clients one worker runs together (all sampled clients in the local
engine, one shard in the Ray engine, one client in Flower). ``batch(X)`` with ``X`` of shape ``(C, n, d)``
returns the values ``(C, n)``; it counts ``n`` queries for every live client *before* asking it (a client that
then raises, hangs or answers late has still been asked: its queries are counted), keeps the clients in
lock-step, and turns a client that raises, returns the wrong shape, or runs past its time limit into a recorded
fault: that client's rows become NaN and it stays dead for the rest of the round (its upload is discarded).
Non-finite values are passed on (the estimators drop them) and counted in ``nonfinite``.

Timeouts measure the client's own work: the wall time of its objective calls, summed over the round, not the
engine's start-up or the other clients' time. With a ``timeout`` each call runs in the client's own worker
thread and the batch waits at most the client's remaining time, so a client that never returns is recorded as
late and the round goes on (the stuck thread is abandoned: Python cannot kill a thread; it is a daemon, so it
never keeps the process alive).

``allowance`` (optional, per client): the most queries a client may make this round (the run's query budget,
split by the simulator). A client whose next call would pass it is *finished*, not faulty: it is not asked
again, its rows are NaN (the algorithms skip those steps) and it uploads what it has.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import numpy as np


class _Worker:
    """One daemon thread running a client's calls in order, so that the caller can stop waiting for it."""

    def __init__(self) -> None:
        self.jobs: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            fn, arg, box, done = job
            t0 = time.perf_counter()
            try:
                box["value"] = fn(arg)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, recorded as the client's fault
                box["error"] = exc
            box["seconds"] = time.perf_counter() - t0
            done.set()

    def call(self, fn, arg, wait: float) -> dict[str, Any]:
        box: dict[str, Any] = {}
        done = threading.Event()
        self.jobs.put((fn, arg, box, done))
        if not done.wait(max(wait, 0.0)):
            box["hung"] = True
        return box

    def close(self) -> None:
        self.jobs.put(None)


class ClientBatch:
    def __init__(
        self,
        problem: Any,
        ids: np.ndarray,
        timeout: float | None = None,
        allowance: np.ndarray | None = None,
    ) -> None:
        self.problem = problem
        self.ids = np.asarray(ids, dtype=np.int64)
        self.size = len(self.ids)
        self.dim = problem.dim
        self.queries = np.zeros(self.size, dtype=np.int64)
        self.nonfinite = np.zeros(self.size, dtype=np.int64)
        self.alive = np.ones(self.size, dtype=bool)
        self.finished = np.zeros(self.size, dtype=bool)  # out of its query allowance: not a fault
        self.faults: dict[int, str] = {}  # position in the batch -> reason
        self.timeout = timeout
        self.seconds = np.zeros(self.size)
        self.allowance = None if allowance is None else np.asarray(allowance, dtype=np.int64)
        self._workers: dict[int, _Worker] = {}

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
        if self.allowance is not None:
            self.finished |= self.alive & (self.queries + n > self.allowance)
        live = np.flatnonzero(self.alive & ~self.finished)
        if len(live) == 0:
            return out
        self.queries[live] += n  # counted when asked: a client that then fails has still been queried
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
            v = self._call_one(pos, X[pos])
            if v is None:
                continue
            if v.shape != (n,):
                self.fail(pos, f"returned {v.size} values for {n} points")
                continue
            out[pos] = v
            self._count_nonfinite(np.array([pos]), v[None])
        return out

    def _call_one(self, pos: int, X: np.ndarray) -> np.ndarray | None:
        f = self.problem.objectives[self.ids[pos]]
        if self.timeout is None:
            try:
                return np.asarray(f(X), dtype=np.float64).reshape(-1)
            except Exception as exc:  # noqa: BLE001 - a client's failure is a recorded fault, not a crash
                self.fail(pos, f"raised {type(exc).__name__}: {exc}")
                return None
        worker = self._workers.get(pos)
        if worker is None:
            worker = self._workers[pos] = _Worker()
        left = self.timeout - self.seconds[pos]
        box = worker.call(f, X, left)
        if box.get("hung"):
            self.seconds[pos] = self.timeout
            self._workers.pop(pos)  # its thread is stuck in the client's code: abandoned, never reused
            self.fail(pos, f"late: still running at the timeout {self.timeout:.3g} s")
            return None
        self.seconds[pos] += box["seconds"]
        if "error" in box:
            exc = box["error"]
            self.fail(pos, f"raised {type(exc).__name__}: {exc}")
            return None
        if self.seconds[pos] > self.timeout:
            self.fail(pos, f"late: {self.seconds[pos]:.3g} s > timeout {self.timeout:.3g} s")
            return None
        try:
            return np.asarray(box["value"], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            self.fail(pos, f"returned something that is not numbers: {exc}")
            return None

    def close(self) -> None:
        """Stop the worker threads of the clients that are not stuck."""
        for worker in self._workers.values():
            worker.close()
        self._workers.clear()

    def _count_nonfinite(self, rows: np.ndarray, vals: np.ndarray) -> None:
        bad = (~np.isfinite(vals)).sum(axis=1)
        if bad.any():
            self.nonfinite[rows] += bad

    def report(self) -> list[dict[str, Any]]:
        """One record per client: id, queries, non-finite values, seconds of its own work, fault (or None)."""
        return [
            {
                "id": int(self.ids[p]),
                "queries": int(self.queries[p]),
                "nonfinite": int(self.nonfinite[p]),
                "seconds": float(self.seconds[p]),
                "fault": self.faults.get(p),
            }
            for p in range(self.size)
        ]


def client_rngs(seed: int, rnd: int, ids: np.ndarray) -> list[np.random.Generator]:
    """The generator of client ``i`` in round ``rnd``: a function of (seed, round, client) only, so a client
    draws the same numbers whichever engine or worker runs it."""
    return [np.random.Generator(np.random.PCG64([seed, rnd, int(i), 0x5EED])) for i in ids]
