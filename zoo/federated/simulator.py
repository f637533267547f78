"""The federated simulator: rounds of broadcast, local ZO steps, upload, aggregate, with honest accounting.

Per round and per client the simulator records the queries the client made (every one: local steps, active
learning, control-variate refreshes, and those of a client that then failed or answered late), the bytes it
received (the broadcast) and sent (its upload), its simulated time (:class:`~zoo.federated.schedule.Clock`) and
its fault if any: dropped out (probability ``dropout``), raised, returned the wrong shape, ran past ``timeout``
seconds of its own work, returned only non-finite values, or missed the simulated ``deadline`` (a straggler). A
faulty client is left out of the aggregate and the round goes on. An algorithm whose own step turns non-finite
raises :class:`~zoo.federated.engines.local.AlgorithmDiverged` instead.

The report's ``F(x)`` is evaluated by a separate evaluator, never seen by the algorithm nor counted as a client
query: ``evaluate="auto"`` uses the problem's own ``evaluator`` when it has one (the built-ins do), else each
client objective once, leaving out (and recording in ``F_missing``) a client that fails, so one bad client never
turns the report into NaN; ``evaluate=None`` turns it off; a callable ``x -> float`` replaces it (an exception
from it is recorded as ``F_error``, the run goes on).

``budget`` caps the client queries of the whole run: each round the remaining budget is split among the clients
that run, a client stops querying at its share, and the run stops when the budget is spent. ``history_path``
writes the history as JSON lines as each round ends; ``resume=True`` continues the run saved there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from zoo.federated import aggregation, schedule
from zoo.federated.clients import ClientBatch
from zoo.federated.engines.local import AlgorithmDiverged
from zoo.federated.history import History, HistoryFile
from zoo.federated.problem import FederatedProblem

BYTES_PER_FLOAT = 8


def message_bytes(message: dict[str, np.ndarray]) -> int:
    return int(sum(np.asarray(v).nbytes for v in message.values()))


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class Simulator:
    """``Simulator(problem, algorithm, engine="local", seed=0).run(rounds=50) -> History``.

    Sampling: ``clients_per_round`` (an int, or a fraction of the clients; all by default), drawn among the
    clients available this round (``availability``: a probability per client) with probabilities proportional to
    ``sampling`` (weights per client). ``local_steps``: per-client local steps (overrides the algorithm's).
    ``clock``: a :class:`~zoo.federated.schedule.Clock` (simulated compute time, bandwidth, deadline).
    ``aggregator``: "mean" (the algorithm's own), "median" or "trimmed-mean" (``trim``); ``adversaries``: client
    ids whose uploads are corrupted by ``attack`` ("sign-flip" or "noise", strength ``attack_scale``).
    ``engine_options`` go to the engine (e.g. ``{"actors": 4}`` for Ray).
    """

    def __init__(
        self,
        problem: FederatedProblem,
        algorithm: Any,
        engine: str = "local",
        seed: int = 0,
        clients_per_round: int | float | None = None,
        dropout: float = 0.0,
        timeout: float | None = None,
        engine_options: dict[str, Any] | None = None,
        check_dimensions: bool = True,
        evaluate: str | Callable[[np.ndarray], float] | None = "auto",
        budget: int | None = None,
        history_path: str | None = None,
        resume: bool = False,
        availability: Any = None,
        sampling: Any = None,
        local_steps: Any = None,
        clock: schedule.Clock | None = None,
        aggregator: str = "mean",
        trim: float = 0.1,
        adversaries: Any = (),
        attack: str = "sign-flip",
        attack_scale: float = 4.0,
    ) -> None:
        if not isinstance(problem, FederatedProblem):
            raise TypeError(f"problem must be a FederatedProblem, got {type(problem).__name__}")
        if isinstance(algorithm, str):
            from zoo.federated.algorithms import make_algorithm

            algorithm = make_algorithm(algorithm)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        if not (evaluate in ("auto", None) or callable(evaluate)):
            raise ValueError(f"evaluate must be 'auto', None or a callable x -> float, got {evaluate!r}")
        if resume and history_path is None:
            raise ValueError("resume=True needs the history_path of the run to resume")
        n = problem.n_clients
        self.problem, self.algorithm, self.seed = problem, algorithm, int(seed)
        if clients_per_round is None:
            m = n
        elif isinstance(clients_per_round, float) and 0 < clients_per_round <= 1:
            m = max(1, int(round(clients_per_round * n)))
        elif isinstance(clients_per_round, (int, np.integer)) and 1 <= clients_per_round <= n:
            m = int(clients_per_round)
        else:
            raise ValueError(
                f"clients_per_round must be an int in [1, {n}] or a fraction in (0, 1], "
                f"got {clients_per_round!r}"
            )
        self.clients_per_round, self.dropout, self.timeout = m, float(dropout), timeout
        self.budget = None if budget is None else _positive_int(budget, "budget")
        self.availability = None if availability is None else _probabilities(availability, n)
        self.sampling = (
            None if sampling is None else schedule._per_client(sampling, n, "sampling", positive=False)
        )
        self.steps = schedule.local_steps(local_steps, n)
        self.clock = None if clock is None else clock.bind(n)
        aggregation.check(aggregator, trim, attack)
        self.aggregator, self.trim, self.attack = aggregator, float(trim), attack
        self.attack_scale = float(attack_scale)
        self.adversaries = np.unique(np.asarray(list(adversaries), dtype=np.int64))
        if len(self.adversaries) and (self.adversaries.min() < 0 or self.adversaries.max() >= n):
            raise ValueError(f"adversaries must be client ids in [0, {n}), got {self.adversaries.tolist()}")
        self.evaluate = evaluate
        self._eval_hung: set[int] = set()
        self.history = History(algorithm=algorithm.name, problem=problem.name, f_min=problem.f_min)
        header = {
            "algorithm": algorithm.name,
            "problem": problem.name,
            "seed": self.seed,
            "clients": n,
            "dim": problem.dim,
        }
        self.file = None if history_path is None else HistoryFile(history_path, header)
        self.engine = _make_engine(engine, problem, algorithm, self.seed, timeout, engine_options or {})
        self.round_index = 0
        if resume:
            records, server, states = self.file.load()
            self.history.rounds, self.server = records, server
            self.round_index = records[-1]["round"]
            if states or algorithm.init_client(problem.dim):
                if not hasattr(self.engine, "load_client_states"):
                    raise ValueError(
                        f"cannot resume {algorithm.name} on the {engine} engine: its client states "
                        "live on the nodes; resume with the local or ray engine"
                    )
                self.engine.load_client_states(states)
            return
        self.server = algorithm.init_server(problem.x0.copy(), self.seed)
        queries, faults = np.zeros(n, dtype=np.int64), []
        if check_dimensions:  # each client once at x0, counted as every client query is
            queries[:], faults = 1, self._check_dimensions()
        self._record(queries, 0, 0, faults, [], 0.0, 0.0)
        if self.file is not None:
            self.file.start()
            self._save(self.history.rounds[-1])

    def _save(self, rec: dict[str, Any]) -> None:
        states = self.engine.client_states() if hasattr(self.engine, "client_states") else None
        self.file.append(rec, self.server, states)

    # ------------------------------------------------------------------ the round
    def _check_dimensions(self) -> list[tuple[int, str]]:
        """A client that fails on x0's dimension is a clear error here rather than mid-run; a client that does
        not answer within the timeout is recorded (round 0) and the run goes on."""
        if self.timeout is None:
            self.problem.check_dimensions()
            return []
        batch = ClientBatch(self.problem, np.arange(self.problem.n_clients), self.timeout)
        batch(np.broadcast_to(self.problem.x0, (self.problem.n_clients, 1, self.problem.dim)))
        batch.close()
        faults = []
        for pos, why in sorted(batch.faults.items()):
            if not why.startswith("late"):
                raise ValueError(f"client {pos} failed on x0 of dimension {self.problem.dim}: {why}")
            faults.append((pos, why))
        return faults

    def _report_value(self, x: np.ndarray) -> tuple[float | None, dict[str, Any]]:
        if self.evaluate is None:
            return None, {}
        if callable(self.evaluate) or self.problem.evaluator is not None:
            fn = self.evaluate if callable(self.evaluate) else self.problem.evaluator
            try:
                return float(fn(x.copy())), {}
            except Exception as exc:  # noqa: BLE001 - the report's failure never stops the run
                return float("nan"), {"F_error": f"{type(exc).__name__}: {exc}"}
        n = self.problem.n_clients
        batch = ClientBatch(self.problem, np.arange(n), self.timeout)
        for i in self._eval_hung:
            batch.fail(i, "did not answer the report before")
        vals = batch(np.broadcast_to(x, (n, 1, self.problem.dim)))[:, 0]
        batch.close()
        self._eval_hung |= {p for p, why in batch.faults.items() if why.startswith("late")}
        ok = np.isfinite(vals)
        if not ok.any():
            return float("nan"), {"F_missing": list(range(n))}
        w = self.problem.weights[ok]
        F = float(w @ vals[ok] / w.sum())
        return F, ({"F_missing": np.flatnonzero(~ok).tolist()} if not ok.all() else {})

    def _record(self, queries, up, down, faults, sampled, seconds, clock) -> None:
        x = np.asarray(self.server["x"], dtype=np.float64).copy()
        F, extra = self._report_value(x)
        rec = {
            "round": self.round_index,
            "F": F,
            "x": x,
            "queries": int(np.sum(queries)),
            "client_queries": queries,
            "bytes_up": int(up),
            "bytes_down": int(down),
            "faults": faults,
            "sampled": [int(i) for i in sampled],
            "seconds": seconds,
            "clock": float(clock),
            **extra,
        }
        if self.problem.success is not None:
            rec["success"] = bool(self.problem.success(x))
        self.history.rounds.append(rec)

    def budget_left(self) -> int | None:
        if self.budget is None:
            return None
        return self.budget - int(sum(r["queries"] for r in self.history.rounds))

    def step(self) -> dict[str, Any]:
        """One round; returns its record."""
        t0 = time.perf_counter()
        rnd = self.round_index
        n, m = self.problem.n_clients, self.clients_per_round
        rng = np.random.Generator(np.random.PCG64([self.seed, rnd, 0xC11E]))
        available = np.ones(n, dtype=bool) if self.availability is None else rng.random(n) < self.availability
        ids = schedule.sample(rng, m, available, self.sampling)
        dropped = rng.random(len(ids)) < self.dropout if self.dropout > 0 else np.zeros(len(ids), dtype=bool)
        message = self.algorithm.broadcast(self.server, rnd)
        down_each = message_bytes(message)
        faults = (
            [(int(i), "unavailable") for i in np.flatnonzero(~available)]
            if self.availability is not None
            else []
        )
        faults += [(int(i), "dropped out") for i in ids[dropped]]
        active = ids[~dropped]
        queries, seconds = np.zeros(n, dtype=np.int64), np.zeros(n)
        nonfinite, answers = 0, []
        left = self.budget_left()
        allowance = None if left is None or not len(active) else np.full(len(active), left // len(active))
        steps = None if self.steps is None else self.steps[active]
        if len(active):
            for i, (upload, report) in zip(active, self.engine.round(message, active, rnd, allowance, steps)):
                queries[i] = report["queries"]
                seconds[i] = report.get("seconds", 0.0)
                nonfinite += report["nonfinite"]
                if upload is None:
                    faults.append((int(i), report["fault"]))
                answers.append((int(i), upload))
        clock = 0.0
        if self.clock is not None and len(active):
            up_each = np.array(
                [message_bytes(u) if u is not None else 0 for _, u in answers], dtype=np.float64
            )
            t = self.clock.times(active, queries[active], np.full(len(active), float(down_each)), up_each)
            clock = float(t.max())
            if self.clock.deadline is not None and clock > self.clock.deadline:
                clock = float(self.clock.deadline)
                for k, (i, u) in enumerate(answers):
                    if u is not None and t[k] > self.clock.deadline:
                        faults.append((i, f"straggler: {t[k]:.3g} s > deadline {self.clock.deadline:.3g} s"))
                        answers[k] = (i, None)
        uploads, weights, up = [], [], 0
        for i, upload in answers:
            if upload is None:
                continue
            if i in self.adversaries:
                arng = np.random.Generator(np.random.PCG64([self.seed, rnd, i, 0xBAD]))
                upload = aggregation.corrupt(upload, message, self.attack, self.attack_scale, arng)
            uploads.append(upload)
            weights.append(self.problem.weights[i])
            up += message_bytes(upload)
        if uploads and float(np.sum(weights)) > 0:
            uploads = aggregation.robust_uploads(uploads, self.aggregator, self.trim)
            self.server = self.algorithm.aggregate(self.server, uploads, np.asarray(weights), rnd, n)
            bad = [
                k for k, v in self.server.items() if isinstance(v, np.ndarray) and not np.all(np.isfinite(v))
            ]
            if bad:
                raise AlgorithmDiverged(
                    f"{self.algorithm.name}: the server's {', '.join(bad)} became non-finite "
                    f"in round {rnd} (the algorithm diverged; try a smaller lr)"
                )
        self.round_index += 1
        self._record(queries, up, down_each * len(ids), faults, ids, time.perf_counter() - t0, clock)
        rec = self.history.rounds[-1]
        rec["nonfinite"] = nonfinite
        if self.timeout is not None:  # measured per client only under a timeout (the calls run one by one)
            rec["client_seconds"] = seconds
        self._collect_late()
        if self.file is not None:
            self._save(rec)
        return rec

    def _collect_late(self) -> None:
        """Queries of clients whose answer arrived after their round was closed (Ray's lost shards)."""
        collect = getattr(self.engine, "collect_late", None)
        if collect is None:
            return
        for rnd, i, q in collect():
            rec = self.history.rounds[rnd]
            rec["client_queries"][i] += q
            rec["queries"] += q

    def run(self, rounds: int = 50, progress: bool = False) -> History:
        """Run ``rounds`` more rounds (fewer if the budget runs out: then ``History.stopped == "budget"``)."""
        rounds = _positive_int(rounds, "rounds")
        bar = None
        if progress:
            from zoo.progress import progress_bar

            bar = progress_bar(int(rounds), unit="rounds", desc=f"{self.algorithm.name} [{self.engine.name}]")

        def loop() -> None:
            for _ in range(rounds):
                left = self.budget_left()
                if left is not None and left < max(1, self.clients_per_round):
                    self.history.stopped = "budget"
                    break
                rec = self.step()
                if bar is not None:
                    F = rec["F"]
                    bar.set_postfix(
                        F="off" if F is None else f"{F:.4g}", queries=int(self.history.queries[-1])
                    )
                    bar.update(1)
                if left is not None and rec["queries"] == 0:
                    self.history.stopped = "budget"
                    break

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


def _probabilities(value: Any, n: int) -> np.ndarray:
    p = schedule._per_client(value, n, "availability", positive=False)
    if np.any(p > 1):
        raise ValueError(f"availability must be probabilities in [0, 1], got {p.tolist()[:8]}")
    return p


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
