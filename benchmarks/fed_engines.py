"""The distributed engines in one run: the fault table of each engine (local, Ray, Flower) and the per-round
overhead of Ray and of Flower against the local engine (FedZO, d=100, 4 and 16 clients).

    nice -n 10 .venv/bin/python benchmarks/fed_engines.py

One local Ray with 2 CPUs is started here first and used by every Ray and Flower run (Flower's Ray backend
uses a Ray that is already running, and shuts it down when its simulation ends, so it is started again before
each Flower run). Ray's node start-up wait is a fixed 30 s inside ``ray.init``; on a loaded machine the start
is retried (``--ray-tries``) after a pause, so a slow start is not a failure.
Overhead: median of rounds 2-6 of the engine's round time minus the local engine's (same problem, same seed);
start-up (actors, Flower's runtime) is excluded, and reported separately as the whole run's time.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fed_faults import fault_table  # noqa: E402
from fed_scale import round_times  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402


def start_ray(tries: int, pause: float = 10.0) -> None:
    import ray

    if ray.is_initialized():
        return
    for k in range(1, tries + 1):
        t0 = time.perf_counter()
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            print(f"  (local Ray started in {time.perf_counter() - t0:.0f} s, attempt {k})", flush=True)
            return
        except Exception as exc:  # noqa: BLE001 - the raylet's fixed 30 s wait under load: try again
            print(
                f"  (Ray start attempt {k} failed after {time.perf_counter() - t0:.0f} s: {exc})", flush=True
            )
            ray.shutdown()
            time.sleep(pause)
    raise RuntimeError(f"Ray did not start in {tries} attempts")


def overhead(engine: str, clients: int, dim: int, rounds: int, tries: int) -> None:
    p = problems.quadratic(dim=dim, n_clients=clients, seed=0)
    local = np.median(round_times(p, "fedzo", rounds)[1:])
    start_ray(tries)
    t0 = time.perf_counter()
    if engine == "ray":
        remote = np.median(
            round_times(p, "fedzo", rounds, engine="ray", engine_options={"actors": clients})[1:]
        )
    else:
        h = Simulator(p, make_algorithm("fedzo"), engine="flower", seed=0, evaluate=None).run(rounds)
        remote = np.median([r["seconds"] for r in h.rounds[2:]])
    total = time.perf_counter() - t0
    print(
        f"| {engine} | {clients} | {local * 1e3:.1f} ms | {remote * 1e3:.1f} ms | {1e3 * (remote - local):.1f} ms "
        f"| {total:.0f} s |",
        flush=True,
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="local,ray,flower")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--ray-tries", type=int, default=4)
    args = ap.parse_args()
    engines = args.engines.split(",")
    t_all = time.perf_counter()
    for engine in engines:
        if engine != "local":
            start_ray(args.ray_tries)
        fault_table(engine)
    remote = [e for e in engines if e != "local"]
    if remote:
        print(
            f"\n#### per-round overhead vs the local engine: FedZO, d={args.dim}, 10 local steps, median of rounds "
            f"2-{args.rounds}\n"
        )
        print(
            "| engine | clients | local round | engine round | overhead per round | whole run incl. start-up |"
        )
        print("|---|---|---|---|---|---|")
        for engine in remote:
            for n in (4, 16):
                overhead(engine, n, args.dim, args.rounds, args.ray_tries)
    import ray

    ray.shutdown()
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
