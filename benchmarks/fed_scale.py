"""Scale: wall time of rounds 1 and 50 with the local engine (10, 100, 1,000 clients, d=100, FedZO and FZooS),
the per-round overhead of the Ray engine at 4 and 16 clients, and Flower's (Ray or Flower round time minus the
local round time, same problem and seed).

    .venv/bin/python benchmarks/fed_scale.py
    .venv/bin/python benchmarks/fed_scale.py --no-ray --no-flower --report-rounds 1,10,50

A round = broadcast, 10 local steps on every client, upload, aggregate (FedZO: q=20, 210 queries per client per
round; FZooS: 60). FZooS's cost per round does not grow: its GP works on a bounded window (60 points), so round
50 costs what round 10 costs, and less than round 1, whose windows are still filling (before issue 12 it grew
with the history: 27 / 44 / 64 s for rounds 0 / 1 / 2). ``--report-rounds 1,10,50`` prints wall and process CPU
time of those rounds and the FZooS / FedZO ratio at each (a round after the first: the median of it and the two
before it), and a row with the mean of the last ten rounds (FZooS refits its GP hyper-parameters every other
round: the mean counts those rounds, the median of three may not).
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


def round_times(problem, algo, rounds, cpu=False, **kw):
    """Wall time of each round 1..rounds (round index = rounds done before it + 1); with ``cpu=True`` a pair of
    lists (wall, process CPU time) per round."""
    with Simulator(problem, make_algorithm(algo), seed=0, evaluate=None, **kw) as sim:
        wall, proc = [], []
        for _ in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            sim.step()
            wall.append(time.perf_counter() - t0)
            proc.append(time.process_time() - c0)
    return (wall, proc) if cpu else wall


def keep_freed_memory() -> bool:
    """glibc only: keep freed memory in the heap (mmap threshold 256 MiB, no trimming), so that neither algorithm's
    temporaries page-fault on every use. Under the defaults they do until a large enough free has raised glibc's
    dynamic mmap threshold, which made a FedZO run 1.4x (1,000 clients) to 4x (100) dearer before an FZooS run in
    the process than after one (``fed_scale_order.py``). Returns whether the settings took."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 256 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def at_round(times: list[float], k: int) -> float:
    """The time of round ``k`` (1-based): round 1 itself; a later round the median of rounds k-2..k (a busy host's
    noise), so "round 50" is the median of rounds 48, 49, 50."""
    if k == 1:
        return times[0]
    return float(np.median(times[max(1, k - 3) : k]))


def mean_rounds(times: list[float], last: int, span: int = 10) -> float:
    """The mean time of rounds ``last - span + 1 .. last`` (1-based, from round 2 on): every round counted, the
    rounds that refit FZooS's hyper-parameters (every other one) as well as those that do not, which the median
    of :func:`at_round` would leave out."""
    return float(np.mean(times[max(1, last - span) : last]))


def parse_rounds(text: str) -> list[int]:
    """``"1,50"`` -> ``[1, 50]``: positive, increasing round numbers."""
    try:
        out = [int(r) for r in text.split(",")]
    except ValueError:
        raise SystemExit(f"--report-rounds: expected comma-separated round numbers, got {text!r}") from None
    if not out or min(out) < 1 or out != sorted(set(out)):
        raise SystemExit(f"--report-rounds: expected increasing round numbers >= 1, got {text!r}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=50, help="rounds run per algorithm and client count")
    ap.add_argument(
        "--report-rounds",
        default=None,
        help="rounds whose times are printed, e.g. 1,10,50 (default: 1,ROUNDS)",
    )
    ap.add_argument("--clients", default="10,100,1000")
    ap.add_argument(
        "--repeats", type=int, default=1, help="runs per client count; times are medians over them"
    )
    ap.add_argument(
        "--glibc-malloc-defaults",
        action="store_true",
        help="leave glibc's malloc thresholds as they are (FedZO's temporaries then page-fault early in a process)",
    )
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-flower", action="store_true")
    args = ap.parse_args()
    kept = False if args.glibc_malloc_defaults else keep_freed_memory()
    report = parse_rounds(args.report_rounds or f"1,{args.rounds}")
    if args.repeats < 1:
        raise SystemExit(f"--repeats: expected a positive number of runs, got {args.repeats}")
    if report[-1] > args.rounds:
        raise SystemExit(f"--report-rounds: round {report[-1]} is past --rounds {args.rounds}")
    warm = problems.quadratic(dim=args.dim, n_clients=2, seed=0)
    for a in ("fedzo", "fzoos"):  # one-time costs (noise table, numba, scipy) out of round 1
        round_times(warm, a, 2)
    print(
        f"local engine, d={args.dim}, 10 local steps, {args.rounds} rounds each; wall and process CPU time of "
        f"rounds {', '.join(map(str, report))} (a round after the first: the median of it and the 2 before it; "
        f"median over {args.repeats} run(s); freed memory kept by malloc: {'yes' if kept else 'no'})"
    )
    print(
        "| clients | round | FedZO wall | FedZO CPU | FZooS wall | FZooS CPU | FZooS / FedZO wall | "
        "FZooS / FedZO CPU | FZooS round / its round 1 (wall, CPU) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (int(c) for c in args.clients.split(",")):
        p = problems.quadratic(dim=args.dim, n_clients=n, seed=0)
        # repeats alternate the algorithms (a busy host's drift hits both) and each round's time is the median
        # over repeats: round 1 is one sample per run, so without repeats its ratio is one draw of the host's noise
        runs = [
            {a: round_times(p, a, args.rounds, cpu=True) for a in ("fedzo", "fzoos")}
            for _ in range(args.repeats)
        ]
        t = {
            a: [list(np.median([r[a][i] for r in runs], axis=0)) for i in (0, 1)] for a in ("fedzo", "fzoos")
        }
        z1 = [at_round(v, 1) for v in t["fzoos"]]
        rows = [(str(k), lambda v, k=k: at_round(v, k)) for k in report]
        if args.rounds >= 11:  # every round of the last ten, refit rounds included
            rows.append((f"mean {args.rounds - 9}-{args.rounds}", lambda v: mean_rounds(v, args.rounds)))
        for label, of in rows:
            (ow, oc), (zw, zc) = ([of(v) for v in t[a]] for a in ("fedzo", "fzoos"))
            print(
                f"| {n:,} | {label} | {ow:.3f} s | {oc:.3f} s | {zw:.3f} s | {zc:.3f} s | {zw / ow:.2f} | "
                f"{zc / oc:.2f} | {zw / z1[0]:.2f}, {zc / z1[1]:.2f} |",
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
