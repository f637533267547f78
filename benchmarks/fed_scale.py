"""Scale: wall time of rounds 1 and 50 with the local engine (10, 100, 1,000 clients, d=100, FedZO and FZooS),
the per-round overhead of the Ray engine at 4 and 16 clients, and Flower's (Ray or Flower round time minus the
local round time, same problem and seed).

    .venv/bin/python benchmarks/fed_scale.py
    .venv/bin/python benchmarks/fed_scale.py --no-ray --no-flower

A round = broadcast, 10 local steps on every client, upload, aggregate (FedZO: q=20, 210 queries per client per
round; FZooS: 60). FZooS's cost per round is flat: its GP works on a bounded window (60 points), so round 50
costs what round 1 costs (before issue 12 it grew with the history: 27 / 44 / 64 s for rounds 0 / 1 / 2).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402
from zoo.federated.simulator import single_threaded_blas  # noqa: E402


def round_times(problem, algo, rounds, **kw) -> list[float]:
    """Wall time of each round 1..rounds (round index = rounds done before it + 1)."""
    with Simulator(problem, make_algorithm(algo), seed=0, evaluate=None, **kw) as sim:
        out = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            sim.step()
            out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--clients", default="10,100,1000")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-flower", action="store_true")
    args = ap.parse_args()
    warm = problems.quadratic(dim=args.dim, n_clients=2, seed=0)
    for a in ("fedzo", "fzoos"):  # one-time costs (noise table, numba, scipy) out of round 1
        round_times(warm, a, 2)
    print(f"local engine, d={args.dim}, 10 local steps; wall time of round 1 and round {args.rounds}")
    last = f"round {args.rounds}"
    print(
        f"| clients | FedZO round 1 | FedZO {last} | FZooS round 1 | FZooS {last} | FZooS / FedZO ({last}) |"
    )
    print("|---|---|---|---|---|---|")
    for n in (int(c) for c in args.clients.split(",")):
        p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
        t = {a: round_times(p, a, args.rounds) for a in ("fedzo", "fzoos")}
        # round 1 is the first after the start; "round 50": the median of the last 3 rounds (noise of a busy host)
        r1 = {a: v[0] for a, v in t.items()}
        r50 = {a: float(np.median(v[-3:])) for a, v in t.items()}
        print(
            f"| {n:,} | {r1['fedzo']:.3f} s | {r50['fedzo']:.3f} s | {r1['fzoos']:.3f} s | {r50['fzoos']:.3f} s | "
            f"{r50['fzoos'] / r50['fedzo']:.2f} |",
            flush=True,
        )
    rounds = 6
    if not args.no_ray:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        print(
            f"\nRay engine (local Ray, num_cpus=2, one actor per client), FedZO, d={args.dim}; median of rounds "
            f"2-{rounds}"
        )
        for n in (4, 16):
            p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
            local = np.median(round_times(p, "fedzo", rounds)[1:])
            remote = np.median(
                round_times(p, "fedzo", rounds, engine="ray", engine_options={"actors": n})[1:]
            )
            print(
                f"  {n:>3} clients  local {local * 1e3:8.1f} ms   ray {remote * 1e3:8.1f} ms   "
                f"overhead {1e3 * (remote - local):8.1f} ms per round",
                flush=True,
            )
        ray.shutdown()
    if not args.no_flower:
        print(
            f"\nFlower engine (simulation runtime), FedZO, d={args.dim}; median of rounds 2-{rounds} (from the "
            "history's per-round seconds; start-up excluded)"
        )
        for n in (4, 16):
            p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
            local = np.median(round_times(p, "fedzo", rounds)[1:])
            t0 = time.perf_counter()
            h = Simulator(p, make_algorithm("fedzo"), engine="flower", seed=0, evaluate=None).run(rounds)
            total = time.perf_counter() - t0
            flower = np.median([r["seconds"] for r in h.rounds[2:]])
            print(
                f"  {n:>3} clients  local {local * 1e3:8.1f} ms   flower {flower * 1e3:8.1f} ms   overhead "
                f"{1e3 * (flower - local):8.1f} ms per round   (whole run with start-up {total:.0f} s)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    with single_threaded_blas():
        raise SystemExit(main())
