"""The local engine: every sampled client in this process, stacked so that clients of the same kind run as one
vectorized computation (one objective call per local step for all of them when the problem offers ``batched``).
Client states live in a dict keyed by client id.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from zoo.federated.clients import ClientBatch, client_rngs


class AlgorithmDiverged(FloatingPointError):
    """The algorithm's own step became non-finite on a client whose values were fine: a bug or a step size far
    too large for the problem, never a client fault."""


def run_clients(
    problem: Any,
    algorithm: Any,
    message: dict[str, np.ndarray],
    ids: np.ndarray,
    states: list[dict[str, Any]],
    seed: int,
    rnd: int,
    timeout: float | None,
    allowance: np.ndarray | None = None,
    steps: np.ndarray | None = None,
) -> list[tuple[dict[str, np.ndarray] | None, dict[str, Any] | None, dict[str, Any]]]:
    """Run one round for the clients ``ids`` (states in the same order). Returns, per client,
    ``(upload or None, new state or None, report)``; a faulty client has no upload and keeps its state.
    Shared by every engine, so a client computes the same numbers wherever it runs. ``steps`` (per client):
    clients with different numbers of local steps run as one stack per step count (each client's numbers depend
    only on its own generator, so the grouping changes nothing else).

    Raises :class:`AlgorithmDiverged` when a client that answered only with finite values (or whose non-finite
    values the estimators dropped) uploads non-finite numbers: that is the algorithm's step, not the client."""
    ids = np.asarray(ids, dtype=np.int64)
    if steps is not None and len(np.unique(steps)) > 1:  # per-client local steps: one stack per step count
        out: list = [None] * len(ids)
        for k in np.unique(steps):
            pos = np.flatnonzero(steps == k)
            part = run_clients(
                problem,
                algorithm,
                message,
                ids[pos],
                [states[p] for p in pos],
                seed,
                rnd,
                timeout,
                None if allowance is None else allowance[pos],
                steps[pos],
            )
            for p, res in zip(pos, part):
                out[p] = res
        return out
    if steps is not None and int(steps[0]) != algorithm.params.local_steps:
        algorithm = copy.copy(algorithm)
        algorithm.params = dataclasses.replace(algorithm.params, local_steps=int(steps[0]))
    batch = ClientBatch(problem, ids, timeout, allowance)
    rngs = client_rngs(seed, rnd, ids)
    try:
        uploads, new_states = algorithm.local_update(message, states, batch, rngs, rnd, problem.bounds)
    finally:
        batch.close()
    out = []
    for pos, report in enumerate(batch.report()):
        upload = uploads[pos]
        if report["fault"] is None and report["queries"] and report["nonfinite"] == report["queries"]:
            report["fault"] = "every value non-finite"  # its upload would carry no information
        if report["fault"] is None and not all(np.all(np.isfinite(v)) for v in upload.values()):
            bad = sorted(k for k, v in upload.items() if not np.all(np.isfinite(v)))
            raise AlgorithmDiverged(
                f"{algorithm.name}: the local step of client {report['id']} in round {rnd} gave a non-finite "
                f"upload ({', '.join(bad)}) although the client answered {report['queries']} queries "
                f"({report['nonfinite']} non-finite, dropped); the algorithm diverged (try a smaller lr)"
            )
        if report["fault"] is None:
            out.append((upload, new_states[pos], report))
        else:
            out.append((None, None, report))
    return out


class LocalEngine:
    name = "local"

    def __init__(self, problem: Any, algorithm: Any, seed: int, timeout: float | None = None, **options: Any):
        if options:
            raise TypeError(f"unknown option(s) {sorted(options)} for the local engine")
        self.problem, self.algorithm, self.seed, self.timeout = problem, algorithm, seed, timeout
        self.states: dict[int, dict[str, Any]] = {}

    def round(
        self,
        message: dict[str, np.ndarray],
        ids: np.ndarray,
        rnd: int,
        allowance: np.ndarray | None = None,
        steps: np.ndarray | None = None,
    ) -> list[tuple[Any, dict]]:
        states = [self.states.get(int(i)) or self.algorithm.init_client(self.problem.dim) for i in ids]
        results = run_clients(
            self.problem, self.algorithm, message, ids, states, self.seed, rnd, self.timeout, allowance, steps
        )
        for i, (_, state, _) in zip(ids, results):
            if state is not None:
                self.states[int(i)] = state
        return [(upload, report) for upload, _, report in results]

    def client_states(self) -> dict[int, dict[str, Any]]:
        return self.states

    def load_client_states(self, states: dict[int, dict[str, Any]]) -> None:
        self.states = dict(states)

    def close(self) -> None:
        pass
