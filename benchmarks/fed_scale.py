"""Scale: wall time of one round with the local engine (10, 100, 1,000 clients, d=100), and the per-round
overhead of the Ray engine at 4 and 16 clients (Ray round time minus local round time, same problem and seed).

    .venv/bin/python benchmarks/fed_scale.py
    .venv/bin/python benchmarks/fed_scale.py --no-ray

A round = broadcast, 10 local steps on every client, upload, aggregate (FedZO: q=20, 210 queries per client per
round; FZooS: 60 queries per client per round). Medians over the timed rounds (after one warm-up round).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402


def round_times(problem, algo, rounds, **kw) -> list[float]:
    with Simulator(problem, make_algorithm(algo), seed=0, **kw) as sim:
        sim.step()  # warm-up: Ray actors start, numba / scipy load
        out = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            sim.step()
            out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    print(f"local engine, d={args.dim}, 10 local steps; one round (median of {args.rounds}, after a warm-up)")
    for n in (10, 100, 1000):
        p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
        for algo in ("fedzo", "fzoos"):
            t = round_times(p, algo, args.rounds if algo == "fedzo" or n < 1000 else 1)
            print(
                f"  {n:>5} clients  {algo:<6} {np.median(t):8.3f} s per round   "
                f"{np.median(t) / n * 1e3:7.3f} ms per client",
                flush=True,
            )
    if args.no_ray:
        return 0
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(f"\nRay engine (local Ray, num_cpus=2, one actor per client), FedZO, d={args.dim}")
    for n in (4, 16):
        p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
        rounds = max(args.rounds, 5)
        local = np.median(round_times(p, "fedzo", rounds))
        remote = np.median(round_times(p, "fedzo", rounds, engine="ray", engine_options={"actors": n}))
        print(
            f"  {n:>3} clients  local {local * 1e3:8.1f} ms   ray {remote * 1e3:8.1f} ms   "
            f"overhead {1e3 * (remote - local):8.1f} ms per round",
            flush=True,
        )
    ray.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
