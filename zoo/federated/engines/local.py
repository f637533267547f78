"""The local engine: every sampled client in this process, stacked so that clients of the same kind run as one
vectorized computation (one objective call per local step for all of them when the problem offers ``batched``).
Client states live in a dict keyed by client id.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.federated.clients import ClientBatch, client_rngs


def run_clients(problem: Any, algorithm: Any, message: dict[str, np.ndarray], ids: np.ndarray,
                states: list[dict[str, Any]], seed: int, rnd: int, timeout: float | None
                ) -> list[tuple[dict[str, np.ndarray] | None, dict[str, Any] | None, dict[str, Any]]]:
    """Run one round for the clients ``ids`` (states in the same order). Returns, per client,
    ``(upload or None, new state or None, report)``; a faulty client has no upload and keeps its state.
    Shared by every engine, so a client computes the same numbers wherever it runs."""
    batch = ClientBatch(problem, ids, timeout)
    rngs = client_rngs(seed, rnd, ids)
    uploads, new_states = algorithm.local_update(message, states, batch, rngs, rnd, problem.bounds)
    out = []
    for pos, report in enumerate(batch.report()):
        upload = uploads[pos]
        if report["fault"] is None and report["queries"] and report["nonfinite"] == report["queries"]:
            report["fault"] = "every value non-finite"  # its upload would carry no information
        if report["fault"] is None and not all(np.all(np.isfinite(v)) for v in upload.values()):
            report["fault"] = "non-finite upload"
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

    def round(self, message: dict[str, np.ndarray], ids: np.ndarray, rnd: int) -> list[tuple[Any, dict]]:
        states = [self.states.get(int(i)) or self.algorithm.init_client(self.problem.dim) for i in ids]
        results = run_clients(self.problem, self.algorithm, message, ids, states, self.seed, rnd, self.timeout)
        for i, (_, state, _) in zip(ids, results):
            if state is not None:
                self.states[int(i)] = state
        return [(upload, report) for upload, _, report in results]

    def close(self) -> None:
        pass
