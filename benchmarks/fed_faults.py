"""Fault table per engine (local, Ray, Flower): what each misbehaving client is recorded as, the queries counted
for it, its own measured time and the round's wall time.

    .venv/bin/python benchmarks/fed_faults.py                     # all three engines (Ray and Flower start)
    .venv/bin/python benchmarks/fed_faults.py --engines local

Seven clients, d=6, FedZO (2 local steps, q=2: 3 queries a step), timeout 1 s of the client's own work:
0-1 good, 2 raises, 3 returns NaN, 4 hangs (sleeps 30 s: past the timeout), 5 returns the wrong number of
values, 6 drops out (unavailable this round). One round after round 0. ``benchmarks/fed_engines.py`` prints
these tables and the engines' per-round overhead in one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.federated import faulty  # noqa: E402
from zoo.federated import FederatedProblem, FedZO, Simulator  # noqa: E402

NAMES = ["good", "good", "raises", "returns NaN", "hangs past the timeout", "wrong shape", "drops out"]


def fault_table(engine: str) -> None:
    """Run one faulty round on ``engine`` and print its table (a Ray already running is used, not restarted)."""
    p = FederatedProblem(list(faulty.CLIENTS), dim=faulty.D)
    if engine != "local":
        import ray

        ray.cloudpickle.register_pickle_by_value(faulty)
    t0 = time.perf_counter()
    with Simulator(
        p,
        FedZO(local_steps=2, q=2),
        engine=engine,
        seed=0,
        timeout=1.0,
        check_dimensions=False,
        availability=[1, 1, 1, 1, 1, 1, 0],
        engine_options={"num_cpus": 2} if engine == "ray" else None,
    ) as sim:
        h = sim.run(1)
    total = time.perf_counter() - t0
    r = h.rounds[1]
    faults = dict(r["faults"])
    print(
        f"\n#### engine {engine}: round wall time {r['seconds']:.2f} s (whole run incl. start-up {total:.0f} s)\n"
    )
    print("| client | recorded as | queries counted | its own time |\n|---|---|---|---|")
    for i, name in enumerate(NAMES):
        print(
            f"| {i} {name} | {faults.get(i, 'ok (aggregated)')} | {r['client_queries'][i]} | "
            f"{r['client_seconds'][i]:.3f} s |",
            flush=True,
        )
    assert np.all(np.isfinite(h.x))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="local,ray,flower")
    args = ap.parse_args()
    for engine in args.engines.split(","):
        fault_table(engine)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
