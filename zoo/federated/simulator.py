"""The federated simulator: rounds of broadcast, local ZO steps, upload, aggregate, with honest accounting.

Per round and per client the simulator records the queries the client made (every one: local steps, active
learning, control-variate refreshes), the bytes it received (the broadcast) and sent (its upload), and its fault
if any: dropped out (simulated with probability ``dropout``), raised, returned the wrong shape, answered later
than ``timeout`` seconds, or uploaded non-finite numbers. A faulty client is left out of the aggregate and the
round goes on. ``F(x) = sum_i w_i f_i(x)`` is evaluated once per round for the report only: no algorithm sees it
and it is not counted as a client query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from zoo.federated.problems import FederatedProblem

BYTES_PER_FLOAT = 8


def message_bytes(message: dict[str, np.ndarray]) -> int:
    return int(sum(np.asarray(v).nbytes for v in message.values()))


@dataclasses.dataclass
class History:
    """Per round (round 0 = the start point): F(x), queries, bytes, faults. Arrays via the properties."""

    rounds: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    algorithm: str = ""
    problem: str = ""
    f_min: float | None = None

    def _col(self, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.rounds])

    @property
    def F(self) -> np.ndarray:
        return self._col("F")

    @property
    def queries(self) -> np.ndarray:
        """Cumulative client queries (all clients) after each round."""
        return np.cumsum(self._col("queries"))

    @property
    def bytes_up(self) -> np.ndarray:
        return self._col("bytes_up")

    @property
    def bytes_down(self) -> np.ndarray:
        return self._col("bytes_down")

    @property
    def faults(self) -> list[list[tuple[int, str]]]:
        return [r["faults"] for r in self.rounds]

    @property
    def x(self) -> np.ndarray:
        return self.rounds[-1]["x"]

    def gap(self) -> np.ndarray:
        """``F - F*`` when the problem knows its minimum, else ``F``."""
        return self.F - (self.f_min or 0.0)


class Simulator:
    """``Simulator(problem, algorithm, engine="local", seed=0).run(rounds=50) -> History``.

    ``clients_per_round``: an int, or a fraction of the clients, sampled without replacement each round (all by
    default). ``engine_options`` go to the engine (e.g. ``{"actors": 4}`` for Ray).
    """

    def __init__(self, problem: FederatedProblem, algorithm: Any, engine: str = "local", seed: int = 0,
                 clients_per_round: int | float | None = None, dropout: float = 0.0,
                 timeout: float | None = None, engine_options: dict[str, Any] | None = None,
                 check_dimensions: bool = True) -> None:
        if not isinstance(problem, FederatedProblem):
            raise TypeError(f"problem must be a FederatedProblem, got {type(problem).__name__}")
        if isinstance(algorithm, str):
            from zoo.federated import make_algorithm

            algorithm = make_algorithm(algorithm)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        if check_dimensions:
            problem.check_dimensions()
        self.problem, self.algorithm, self.seed = problem, algorithm, int(seed)
        n = problem.n_clients
        if clients_per_round is None:
            m = n
        elif isinstance(clients_per_round, float) and 0 < clients_per_round <= 1:
            m = max(1, int(round(clients_per_round * n)))
        elif isinstance(clients_per_round, (int, np.integer)) and 1 <= clients_per_round <= n:
            m = int(clients_per_round)
        else:
            raise ValueError(f"clients_per_round must be an int in [1, {n}] or a fraction in (0, 1], "
                             f"got {clients_per_round!r}")
        self.clients_per_round, self.dropout, self.timeout = m, float(dropout), timeout
        self.engine = _make_engine(engine, problem, algorithm, self.seed, timeout, engine_options or {})
        self.server = algorithm.init_server(problem.x0.copy(), self.seed)
        self.history = History(algorithm=algorithm.name, problem=problem.name, f_min=problem.f_min)
        self.round_index = 0
        # the dimension check queries each client once at x0: counted, as every client query is
        self._record(np.full(n, int(check_dimensions), dtype=np.int64), 0, 0, [], [], 0.0)

    def _record(self, queries, up, down, faults, sampled, seconds) -> None:
        x = self.server["x"].copy()
        try:  # the report's own evaluation: a broken client makes F unknown (NaN), never stops the run
            F = self.problem.global_value(x)
        except Exception:  # noqa: BLE001
            F = float("nan")
        rec = {"round": self.round_index, "F": F, "x": x,
               "queries": int(np.sum(queries)), "client_queries": queries, "bytes_up": int(up),
               "bytes_down": int(down), "faults": faults, "sampled": list(sampled), "seconds": seconds}
        if self.problem.success is not None:
            rec["success"] = bool(self.problem.success(x))
        self.history.rounds.append(rec)

    def step(self) -> dict[str, Any]:
        """One round; returns its record."""
        t0 = time.perf_counter()
        rnd = self.round_index
        n, m = self.problem.n_clients, self.clients_per_round
        rng = np.random.Generator(np.random.PCG64([self.seed, rnd, 0xC11E]))
        ids = np.arange(n) if m == n else np.sort(rng.choice(n, m, replace=False))
        dropped = rng.random(len(ids)) < self.dropout if self.dropout > 0 else np.zeros(len(ids), dtype=bool)
        message = self.algorithm.broadcast(self.server, rnd)
        down = message_bytes(message) * len(ids)
        faults = [(int(i), "dropped out") for i in ids[dropped]]
        active = ids[~dropped]
        queries = np.zeros(n, dtype=np.int64)
        nonfinite = 0
        uploads, weights, up = [], [], 0
        if len(active):
            for i, (upload, report) in zip(active, self.engine.round(message, active, rnd)):
                queries[i] = report["queries"]
                nonfinite += report["nonfinite"]
                if upload is None:
                    faults.append((int(i), report["fault"]))
                    continue
                uploads.append(upload)
                weights.append(self.problem.weights[i])
                up += message_bytes(upload)
        if uploads and float(np.sum(weights)) > 0:
            self.server = self.algorithm.aggregate(self.server, uploads, np.asarray(weights), rnd, n)
        self.round_index += 1
        self._record(queries, up, down, faults, ids, time.perf_counter() - t0)
        self.history.rounds[-1]["nonfinite"] = nonfinite
        return self.history.rounds[-1]

    def run(self, rounds: int = 50, progress: bool = False) -> History:
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise ValueError(f"rounds must be a positive int, got {rounds!r}")
        bar = None
        if progress:
            from zoo.progress import progress_bar

            bar = progress_bar(int(rounds), unit="rounds", desc=f"{self.algorithm.name} [{self.engine.name}]")

        def loop() -> None:
            for _ in range(int(rounds)):
                rec = self.step()
                if bar is not None:
                    bar.set_postfix(F=f"{rec['F']:.4g}", queries=int(self.history.queries[-1]))
                    bar.update(1)

        try:
            drive = getattr(self.engine, "drive", None)  # Flower owns its loop: the rounds run inside it
            if drive is None:
                loop()
            else:
                drive(loop)
        finally:
            if bar is not None:
                bar.close()
        return self.history

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread where threadpoolctl is installed: the surrogates solve many small systems, which
    threads only slow down (10x measured on a busy 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ModuleNotFoundError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _make_engine(name: str, problem, algorithm, seed, timeout, options):
    if name == "local":
        from zoo.federated.engines.local import LocalEngine

        return LocalEngine(problem, algorithm, seed, timeout, **options)
    if name == "ray":
        from zoo.federated.engines.ray_engine import RayEngine

        return RayEngine(problem, algorithm, seed, timeout, **options)
    if name == "flower":
        from zoo.federated.engines.flower_engine import FlowerEngine

        return FlowerEngine(problem, algorithm, seed, timeout, **options)
    raise ValueError(f"unknown engine {name!r}; choose 'local', 'ray' or 'flower'")
