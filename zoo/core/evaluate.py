"""Parallel evaluation: ``workers=N`` local processes, ``executor=`` any ``concurrent.futures.Executor``
(Dask's ``Client.get_executor()``, :class:`RayExecutor` over Ray tasks, a thread pool...), per-evaluation
``timeout=``, and faults.

A *fault* is an evaluation that raised, ran past ``timeout`` seconds or lost its worker (the process died).
It is recorded (``res.faults``: the point, the kind, the message), its value is ``+inf`` (ranks worst, the
NaN policy of zoo), and the run goes on. What a fault costs:

- ``raise``: the worker catches the exception and sends its text back; the worker lives on.
- ``timeout``: local workers (``workers=N``) are killed and replaced (a hung simulator would otherwise hold
  its process forever); the other evaluations in flight are submitted again. On a foreign executor zoo can
  only cancel the future and stop waiting: the task may run on there until it returns.
- ``died``: a dead local worker breaks the whole process pool, so every evaluation in flight is submitted
  again on a fresh pool; an evaluation that breaks the pool twice is the killer and becomes the fault.

The objective travels to the workers by value (cloudpickle, as Ray and Dask ship tasks), so lambdas and
closures work; each worker unpickles it once and caches it.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

_CACHE: dict[int, Any] = {}  # per worker process: key -> unpickled task


class BadValue(ValueError):
    """The objective or a constraint returned something of the wrong shape: a user error, never a fault."""


@dataclasses.dataclass
class Outcome:
    """One evaluation: ``value`` (+inf for a fault), constraint values ``g`` (or None), where and how long."""

    value: float
    g: np.ndarray | None
    worker: str
    seconds: float
    fault: str | None = None  # None, "raise", "timeout", "died"
    message: str = ""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _ready(seconds: float) -> str:
    """Warm-up task: holds its worker a moment and names it (host:pid:thread)."""
    import threading

    time.sleep(seconds)
    return f"{worker_name()}:{threading.get_ident()}"


def warm_up(executor: cf.Executor, n: int, patience: float | None = None) -> int:
    """Start ``n`` workers of ``executor`` before any evaluation's clock runs: rounds of ``n`` concurrent
    waiting tasks until ``n`` distinct workers answered (an executor starts its workers lazily; Ray's each
    import zoo first). ``patience`` seconds at most (default: the executor's ``warm_up_patience``, else 5 s,
    for an executor with fewer workers than asked). Returns how many distinct workers answered."""
    if patience is None:
        patience = float(getattr(executor, "warm_up_patience", 5.0))
    seen: set[str] = set()
    t0 = time.perf_counter()
    hold = 0.05
    while len(seen) < n and time.perf_counter() - t0 < patience:
        seen.update(f.result() for f in [executor.submit(_ready, hold) for _ in range(n)])
        hold = min(2 * hold, 1.0)
    return len(seen)


def _run_blob(key: int, blob: bytes, z: np.ndarray) -> tuple:
    """Worker side: unpickle the task once per process, evaluate one encoded point, never raise."""
    task = _CACHE.get(key)
    if task is None:
        import cloudpickle

        task = _CACHE[key] = cloudpickle.loads(blob)
    t0 = time.perf_counter()
    try:
        f, g = task(z)
        return f, g, worker_name(), time.perf_counter() - t0, None, ""
    except Exception as exc:  # a fault, not a crash of the run: its text goes back to the driver
        return np.inf, None, worker_name(), time.perf_counter() - t0, "raise", f"{type(exc).__name__}: {exc}"


class RayExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over Ray tasks: ``submit`` is ``ray.remote(fn).remote(...)`` and the
    future is Ray's own ``ObjectRef.future()``. Ray schedules the tasks on the cluster it is connected to:
    ``ray.init()`` (local), ``ray.init(address="auto")`` or ``ray.init("ray://head:10001")`` (an existing one).
    ``num_cpus`` per task is Ray's resource request (default 1, so a 2-CPU cluster runs 2 at a time)."""

    warm_up_patience = 120.0  # a new Ray worker imports zoo before its first task: seconds on a busy machine

    def __init__(self, num_cpus: float = 1, **ray_init: Any) -> None:
        import ray

        if not ray.is_initialized():
            ray.init(**ray_init)
        self._ray = ray
        self._num_cpus = num_cpus
        self._remote: dict[Any, Any] = {}

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> cf.Future:
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self._ray.remote(num_cpus=self._num_cpus)(fn)
        return remote.remote(*args, **kwargs).future()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._remote.clear()  # the cluster belongs to the caller: zoo never shuts Ray down


class Evaluator:
    """Evaluates encoded points one task per point on local processes or a given executor.

    ``task(z) -> (f, g)`` is the per-point objective (already decoding the space, adding ``args`` and computing
    the constraints). ``workers`` local processes when ``executor`` is None. ``submit`` / ``wait`` give the
    asynchronous interface; ``map`` evaluates a batch and returns its outcomes in order.
    """

    def __init__(
        self,
        task: Callable[[np.ndarray], tuple],
        *,
        workers: int = 1,
        executor: cf.Executor | None = None,
        timeout: float | None = None,
    ) -> None:

        if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"workers must be an int >= 1, got {workers!r}")
        if executor is not None and not isinstance(executor, cf.Executor):
            raise TypeError(
                f"executor must be a concurrent.futures.Executor (e.g. zoo.RayExecutor(), a Dask "
                f"Client.get_executor(), ProcessPoolExecutor), got {type(executor).__name__}"
            )
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.blob = _dumps(task)
        self.key = hash((id(self), time.time_ns()))
        self.workers = int(workers)
        self.timeout = None if timeout is None else float(timeout)
        self.own = executor is None
        self.executor = executor if executor is not None else self._new_pool()
        if (
            not self.own
        ):  # start the remote workers (Ray imports zoo in each) before any evaluation's clock runs
            warm_up(self.executor, self.capacity)
        self.running: dict[
            cf.Future, tuple[int, np.ndarray, float, int]
        ] = {}  # future -> (tag, z, t0, tries)

    @property
    def capacity(self) -> int:
        """How many evaluations to keep in flight: the local workers, or the executor's own count."""
        if not self.own:
            n = getattr(self.executor, "_max_workers", None)
            return int(n) if n else self.workers
        return self.workers

    @property
    def busy(self) -> int:
        return len(self.running)

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # The platform's default start method (fork on Linux up to Python 3.13: a worker starts in milliseconds
        # with zoo already imported; forkserver on 3.14+, whose server then imports zoo once; spawn on macOS
        # and Windows). The processes are started here, before any evaluation, so start-up never counts
        # against ``timeout``.
        ctx = multiprocessing.get_context()
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["zoo.core.evaluate"])
        pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        warm_up(pool, self.workers)
        return pool

    # ------------------------------------------------------------------ asynchronous interface
    def submit(self, tag: int, z: np.ndarray, tries: int = 0) -> None:
        z = np.array(z, dtype=np.float64)
        try:
            fut = self.executor.submit(_run_blob, self.key, self.blob, z)
        except BrokenProcessPool as exc:  # broken by an earlier death: it never ran, so it is no suspect
            fut, tries = cf.Future(), tries - 1
            fut.set_exception(exc)
        self.running[fut] = (tag, z, time.perf_counter(), tries)

    def wait(self) -> list[tuple[int, np.ndarray, Outcome]]:
        """Block until at least one evaluation ends (or times out); return ``(tag, z, outcome)`` of each."""
        if not self.running:
            return []
        wait_for = None
        if self.timeout is not None:
            now = time.perf_counter()
            wait_for = max(min(t0 + self.timeout for _, _, t0, _ in self.running.values()) - now, 0.0)
        done, _ = cf.wait(list(self.running), timeout=wait_for, return_when=cf.FIRST_COMPLETED)
        out: list[tuple[int, np.ndarray, Outcome]] = []
        broken: list[tuple[int, np.ndarray, float, int]] = []
        for fut in done:
            tag, z, t0, tries = self.running.pop(fut)
            try:
                f, g, worker, seconds, fault, message = fut.result()
                out.append((tag, z, Outcome(f, _as_g(g), worker, seconds, fault, message)))
            except (BrokenProcessPool, cf.CancelledError) as exc:
                broken.append((tag, z, t0, tries))
                last = exc
            except Exception as exc:  # a foreign executor's own failure (e.g. a Ray worker crash)
                kind = "died" if _is_worker_death(exc) else "raise"
                out.append((tag, z, _fault(kind, f"{type(exc).__name__}: {exc}", t0)))
        if broken:
            out += self._recover_broken(broken, last)
        if self.timeout is not None:
            out += self._expire()
        return out

    def _recover_broken(self, broken: list, exc: BaseException) -> list:
        """A local worker died: every evaluation in flight is lost. Resubmit them on a fresh pool once; one
        that breaks the pool a second time is the killer (a fault)."""
        rest = [(tag, z, t0, tries) for tag, z, t0, tries in (self._drain() + broken)]
        self._restart_pool()
        out = []
        for tag, z, t0, tries in rest:
            if tries >= 1:
                out.append((tag, z, _fault("died", f"the worker process died ({exc})", t0)))
            else:
                self.submit(tag, z, tries + 1)
        return out

    def _expire(self) -> list:
        now = time.perf_counter()
        late = [f for f, (_, _, t0, _) in self.running.items() if now - t0 >= self.timeout]
        if not late:
            return []
        out = []
        for fut in late:
            tag, z, t0, _ = self.running.pop(fut)
            fut.cancel()
            out.append((tag, z, _fault("timeout", f"the evaluation ran past timeout={self.timeout} s", t0)))
        if self.own:  # kill the hung processes; the other evaluations in flight start again
            rest = self._drain()
            self._restart_pool()
            for tag, z, _, tries in rest:
                self.submit(tag, z, tries)
        return out

    def _drain(self) -> list:
        rest = list(self.running.values())
        self.running.clear()
        return rest

    def _restart_pool(self) -> None:
        pool = self.executor
        for p in list(getattr(pool, "_processes", {}).values()):  # the only way to stop a hung task
            if p.is_alive():
                p.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new_pool()

    # ------------------------------------------------------------------ synchronous interface
    def map(self, Z: np.ndarray, on_done: Callable | None = None) -> list[Outcome]:
        """Evaluate every row of ``Z``, keeping at most ``capacity`` in flight; outcomes in row order."""
        results: list[Outcome | None] = [None] * len(Z)
        nxt = 0
        while nxt < len(Z) or self.running:
            while nxt < len(Z) and self.busy < self.capacity:
                self.submit(nxt, Z[nxt])
                nxt += 1
            for tag, _, outcome in self.wait():
                results[tag] = outcome
                if on_done is not None:
                    on_done(tag, outcome)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for fut in list(self.running):
            fut.cancel()
        self.running.clear()
        if self.own:
            self._restart_pool_off()

    def _restart_pool_off(self) -> None:
        pool = self.executor
        for p in list(getattr(pool, "_processes", {}).values()):
            if p.is_alive():
                p.kill()
        pool.shutdown(wait=True, cancel_futures=True)


def _dumps(task: Any) -> bytes:
    """cloudpickle the task; the module of the user's objective goes by value unless it is installed, so a
    worker (a Ray or Dask node) needs no copy of the user's script or test file."""
    import sys
    import sysconfig

    import cloudpickle

    fun = getattr(task, "fun", None)
    name = getattr(fun, "__module__", None) or ""
    mod = sys.modules.get(name)
    path = getattr(mod, "__file__", None) or ""
    installed = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"])
    by_value = (
        mod is not None
        and name != "__main__"
        and not name.startswith("zoo")
        and path
        and not any(path.startswith(p) for p in installed)
    )
    if by_value:
        cloudpickle.register_pickle_by_value(mod)
    try:
        return cloudpickle.dumps(task)
    finally:
        if by_value:
            cloudpickle.unregister_pickle_by_value(mod)


def _fault(kind: str, message: str, t0: float) -> Outcome:
    return Outcome(np.inf, None, "", time.perf_counter() - t0, kind, message)


def _as_g(g: Any) -> np.ndarray | None:
    return None if g is None else np.asarray(g, dtype=np.float64)


def _is_worker_death(exc: BaseException) -> bool:
    name = type(exc).__name__
    return any(
        s in name for s in ("WorkerCrashed", "ActorDied", "NodeDied", "KilledWorker", "ActorUnavailable")
    )
