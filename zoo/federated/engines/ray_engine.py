"""The Ray engine: clients run in Ray actors (a local Ray, or an existing cluster via ``address=``).

Clients are spread round-robin over ``actors`` actors (default: one per client, at most ``max_actors``); an actor
holds the states of its clients and runs them stacked with the same code as the local engine
(:func:`zoo.federated.engines.local.run_clients`), and every client draws its numbers from its own generator, so
the results equal the local engine's.

Timeouts: each actor enforces ``timeout`` on its own clients' work (their objective calls, measured inside the
actor), so a late or hung client comes back as a recorded fault *with the queries it made*, and actor start-up
never counts (the engine waits for every actor to be ready before round 0). As a last resort, a shard that has
not answered after ``len(shard) * timeout + grace`` seconds is recorded as lost for its clients; if it answers
later, :meth:`collect_late` hands its query counts to the simulator, which adds them to that round.

A Ray started by this engine is shut down by :meth:`close`; a Ray that was already running is left running.
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

    def __init__(self, problem: Any, algorithm: Any, seed: int, timeout: float | None) -> None:
        self.problem, self.algorithm, self.seed, self.timeout = problem, algorithm, seed, timeout
        self.states: dict[int, dict[str, Any]] = {}

    def ready(self) -> bool:
        return True

    def round(
        self, message: dict[str, np.ndarray], ids: np.ndarray, rnd: int, allowance=None, steps=None
    ) -> list[tuple[Any, dict]]:
        from zoo.federated.engines.local import run_clients

        states = [self.states.get(int(i)) or self.algorithm.init_client(self.problem.dim) for i in ids]
        results = run_clients(
            self.problem, self.algorithm, message, ids, states, self.seed, rnd, self.timeout, allowance, steps
        )
        for i, (_, state, _) in zip(ids, results):
            if state is not None:
                self.states[int(i)] = state
        return [(upload, report) for upload, _, report in results]

    def get_states(self) -> dict[int, dict[str, Any]]:
        return self.states

    def set_states(self, states: dict[int, dict[str, Any]]) -> None:
        self.states = dict(states)


class RayEngine:
    name = "ray"

    def __init__(
        self,
        problem: Any,
        algorithm: Any,
        seed: int,
        timeout: float | None = None,
        actors: int | None = None,
        max_actors: int = 16,
        address: str | None = None,
        num_cpus: int = 2,
        grace: float = 30.0,
    ) -> None:
        ray = _ray()
        self.started_ray = False
        if not ray.is_initialized():
            if address is None:
                ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
            self.started_ray = True
        n = problem.n_clients
        n_actors = min(n, max_actors) if actors is None else int(actors)
        if not 1 <= n_actors <= n:
            self.close()
            raise ValueError(f"actors must be in [1, {n}], got {actors}")
        remote = ray.remote(num_cpus=0)(_Shard)  # clients mostly wait on numpy: do not reserve whole CPUs
        problem_ref = ray.put(problem)
        self.actors = [remote.remote(problem_ref, algorithm, seed, timeout) for _ in range(n_actors)]
        ray.get([a.ready.remote() for a in self.actors])  # start-up is not a client's time
        self.timeout, self.grace = timeout, float(grace)
        self.problem = problem
        self.pending: list[tuple[int, np.ndarray, Any]] = []  # (round, client ids, ref) of lost shards

    def round(
        self,
        message: dict[str, np.ndarray],
        ids: np.ndarray,
        rnd: int,
        allowance: np.ndarray | None = None,
        steps: np.ndarray | None = None,
    ) -> list[tuple[Any, dict]]:
        ray = _ray()
        A = len(self.actors)
        pos = {a: np.flatnonzero(ids % A == a) for a in range(A)}
        message_ref = ray.put(message)
        calls = {
            a: self.actors[a].round.remote(
                message_ref,
                ids[p],
                rnd,
                None if allowance is None else allowance[p],
                None if steps is None else steps[p],
            )
            for a, p in pos.items()
            if len(p)
        }
        wait = None if self.timeout is None else self.timeout * max(len(p) for p in pos.values()) + self.grace
        ready, _ = ray.wait(list(calls.values()), num_returns=len(calls), timeout=wait)
        ready = set(ready)
        by_id: dict[int, tuple[Any, dict]] = {}
        for a, ref in calls.items():
            shard = ids[pos[a]]
            if ref in ready:
                try:
                    for i, res in zip(shard, ray.get(ref)):
                        by_id[int(i)] = res
                    continue
                except ray.exceptions.RayTaskError as exc:
                    cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                    if type(cause).__name__ == "AlgorithmDiverged":
                        raise cause from None  # the algorithm's error, not the worker's
                    reason = f"worker failed: {type(cause).__name__}: {cause}"
                except Exception as exc:  # noqa: BLE001 - a crashed worker is a recorded fault
                    reason = f"worker failed: {type(exc).__name__}: {exc}"
            else:
                reason = (
                    f"lost: no answer from its worker within {wait:.3g} s (queries added when it answers)"
                )
                self.pending.append((rnd, shard, ref))
            for i in shard:
                by_id[int(i)] = (None, {"id": int(i), "queries": 0, "nonfinite": 0, "fault": reason})
        return [by_id[int(i)] for i in ids]

    def collect_late(self) -> list[tuple[int, int, int]]:
        """``(round, client, queries)`` of lost shards that have answered since."""
        ray = _ray()
        out, still = [], []
        for rnd, shard, ref in self.pending:
            done, _ = ray.wait([ref], timeout=0)
            if not done:
                still.append((rnd, shard, ref))
                continue
            try:
                out += [(rnd, int(i), int(rep["queries"])) for i, (_, rep) in zip(shard, ray.get(ref))]
            except Exception:  # noqa: BLE001,S112 - a shard that crashed late reports nothing more
                continue
        self.pending = still
        return out

    def client_states(self) -> dict[int, dict[str, Any]]:
        ray = _ray()
        states: dict[int, dict[str, Any]] = {}
        for part in ray.get([a.get_states.remote() for a in self.actors]):
            states.update(part)
        return states

    def load_client_states(self, states: dict[int, dict[str, Any]]) -> None:
        ray = _ray()
        A = len(self.actors)
        ray.get(
            [
                a.set_states.remote({i: s for i, s in states.items() if i % A == k})
                for k, a in enumerate(self.actors)
            ]
        )

    def close(self) -> None:
        ray = _ray()
        for actor in getattr(self, "actors", []):
            ray.kill(actor)
        self.actors = []
        if self.started_ray and ray.is_initialized():
            ray.shutdown()
        self.started_ray = False
