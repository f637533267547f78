"""The Ray engine: clients run in Ray actors (a local Ray, or an existing cluster via ``address=``).

Clients are spread round-robin over ``actors`` actors (default: one per client, at most ``max_actors``); an actor
holds the states of its clients and runs them stacked with the same code as the local engine
(:func:`zoo.federated.engines.local.run_clients`), and every client draws its numbers from its own generator, so
the results equal the local engine's. ``timeout``: a shard that has not answered after ``timeout`` seconds is
recorded as late for all its clients and left out of the aggregate (its clients' states still advance when it
finishes, as a real client's would).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _ray():
    try:
        import ray
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ModuleNotFoundError("the ray engine needs ray: pip install 'zoo-dfo[federated]'") from exc
    return ray


class _Shard:
    """One Ray actor: the states of its clients, and the round function of the local engine."""

    def __init__(self, problem: Any, algorithm: Any, seed: int) -> None:
        self.problem, self.algorithm, self.seed = problem, algorithm, seed
        self.states: dict[int, dict[str, Any]] = {}

    def round(self, message: dict[str, np.ndarray], ids: np.ndarray, rnd: int) -> list[tuple[Any, dict]]:
        from zoo.federated.engines.local import run_clients

        states = [self.states.get(int(i)) or self.algorithm.init_client(self.problem.dim) for i in ids]
        results = run_clients(self.problem, self.algorithm, message, ids, states, self.seed, rnd, None)
        for i, (_, state, _) in zip(ids, results):
            if state is not None:
                self.states[int(i)] = state
        return [(upload, report) for upload, _, report in results]


class RayEngine:
    name = "ray"

    def __init__(self, problem: Any, algorithm: Any, seed: int, timeout: float | None = None,
                 actors: int | None = None, max_actors: int = 16, address: str | None = None,
                 num_cpus: int = 2) -> None:
        ray = _ray()
        if not ray.is_initialized():
            if address is None:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        n = problem.n_clients
        n_actors = min(n, max_actors) if actors is None else int(actors)
        if not 1 <= n_actors <= n:
            raise ValueError(f"actors must be in [1, {n}], got {actors}")
        remote = ray.remote(num_cpus=0)(_Shard)  # clients mostly wait on numpy: do not reserve whole CPUs
        problem_ref = ray.put(problem)
        self.actors = [remote.remote(problem_ref, algorithm, seed) for _ in range(n_actors)]
        self.timeout = timeout
        self.problem = problem

    def round(self, message: dict[str, np.ndarray], ids: np.ndarray, rnd: int) -> list[tuple[Any, dict]]:
        ray = _ray()
        A = len(self.actors)
        shards = [ids[ids % A == a] for a in range(A)]
        message_ref = ray.put(message)
        calls = {a: self.actors[a].round.remote(message_ref, shards[a], rnd) for a in range(A) if len(shards[a])}
        ready, _ = ray.wait(list(calls.values()), num_returns=len(calls), timeout=self.timeout)
        ready = set(ready)
        by_id: dict[int, tuple[Any, dict]] = {}
        for a, ref in calls.items():
            if ref in ready:
                try:
                    for i, res in zip(shards[a], ray.get(ref)):
                        by_id[int(i)] = res
                    continue
                except Exception as exc:  # noqa: BLE001 - a crashed worker is a recorded fault
                    reason = f"worker failed: {type(exc).__name__}: {exc}"
            else:
                reason = f"late: no answer within timeout {self.timeout} s"
            for i in shards[a]:
                by_id[int(i)] = (None, {"id": int(i), "queries": 0, "nonfinite": 0, "fault": reason})
        return [by_id[int(i)] for i in ids]

    def close(self) -> None:
        ray = _ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
