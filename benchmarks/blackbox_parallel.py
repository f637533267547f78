"""Wall time of expensive evaluations: serial vs parallel vs Ray, and asynchronous vs synchronous GA.

Part 1. 200 evaluations of a sphere that sleeps 0.2 s (d=10), zoo ``ga`` and ``cma`` with their default
population sizes (ga 100: 199 evaluations fit, cma 10): ``workers=1``, ``workers=2`` (local processes), a local Ray cluster with 2 CPUs
(``executor=zoo.RayExecutor()``), side by side with nevergrad's own executor interface at 2 workers
(``optimizer.minimize(f, executor=ProcessPoolExecutor(2))``, its default ``batch_mode=True``; ``CMA`` and
``TwoPointsDE``, its closest evolutionary method). Wall time includes starting the local processes; Ray's
``ray.init`` and its workers' start (each imports zoo; Ray may retire an idle worker while the serial runs go
on, so they are made ready again before each Ray run) are timed apart (cluster start-up). Pass: speed-up >= 1.8 at 2 workers.

Part 2. Heavy-tailed evaluation times: each evaluation sleeps ``0.1 * (1 + Pareto(1.5))`` seconds (Lomax tail,
mean 0.3 s, capped at 2 s;
the draw is a hash of the point, so both modes face the same law), ``ga`` with popsize 10, 2 workers, 200
evaluations; synchronous batches wait for their slowest point, ``asynchronous=True`` tells each result as it
arrives. Median over repeats (seed = repeat); "workers busy" is the sum of evaluation times over 2 x wall time
(from the run log). Pass: asynchronous finishes in less wall time.

    .venv/bin/python benchmarks/blackbox_parallel.py [--evals 200] [--sleep 0.2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import statistics
import sys
import time

import numpy as np

import zoo


def sleepy(x, seconds=0.2):
    time.sleep(seconds)
    return float(np.sum(np.asarray(x) ** 2))


def heavy_tailed(x):
    """Sleep 0.1 * (1 + Pareto(1.5)) s (capped at 2 s), drawn from a hash of the point; return the sphere."""
    seed = int.from_bytes(hashlib.blake2b(np.asarray(x).tobytes(), digest_size=8).digest(), "little")
    t = min(0.1 * (1.0 + np.random.default_rng(seed).pareto(1.5)), 2.0)
    time.sleep(t)
    return float(np.sum(np.asarray(x) ** 2))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def part1(args) -> bool:
    import nevergrad as ng
    import ray

    d, n = 10, args.evals
    x0 = np.full(d, 0.5)
    rows = []
    t_init, _ = timed(lambda: ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False))
    print(f"ray.init(num_cpus=2): {t_init:.1f} s (cluster start, once)", flush=True)
    from zoo.core.evaluate import warm_up

    ray_ex = zoo.RayExecutor()
    t_workers, _ = timed(lambda: warm_up(ray_ex, 2))  # Ray's workers import zoo once
    print(f"Ray workers started (import zoo): {t_workers:.1f} s (once per cluster)", flush=True)
    for method in ("ga", "cma"):
        walls = {}
        for label, kw in (
            ("workers=1", {}),
            ("workers=2", {"workers": 2}),
            ("Ray, 2 CPUs", {"executor": ray_ex, "workers": 2}),
        ):
            if (
                "executor" in kw
            ):  # Ray may have retired an idle worker during the serial runs: restart it untimed
                t_w, _ = timed(lambda: warm_up(ray_ex, 2))
                print(f"  (Ray workers ready in {t_w:.1f} s, untimed)", flush=True)
            wall, res = timed(
                lambda kw=kw, method=method: zoo.minimize(
                    sleepy, x0, method, budget=n, seed=0, args=(args.sleep,), **kw
                )
            )
            walls[label] = wall
            rows.append((f"zoo {method}", label, res.nfev, wall, res.fun))
            print(
                f"  zoo {method:4s} {label:12s} nfev {res.nfev}  wall {wall:6.1f} s  f {res.fun:.3g}",
                flush=True,
            )
        for label in ("workers=2", "Ray, 2 CPUs"):
            speed = walls["workers=1"] / walls[label]
            rows.append((f"zoo {method}", f"speed-up {label}", "", speed, None))
    for name in ("CMA", "TwoPointsDE"):
        for workers in (1, 2):
            opt = ng.optimizers.registry[name](
                parametrization=ng.p.Array(init=x0), budget=n, num_workers=workers
            )
            opt.parametrization.random_state = np.random.RandomState(0)
            with cf.ProcessPoolExecutor(workers) as ex:
                wall, rec = timed(lambda opt=opt, ex=ex: opt.minimize(sleepy, executor=ex))
            f = sleepy(rec.value, 0.0)
            rows.append((f"nevergrad {name}", f"executor, {workers} worker(s)", opt.num_ask, wall, f))
            print(f"  ng {name:12s} workers={workers} wall {wall:6.1f} s  f {f:.3g}", flush=True)
    ray.shutdown()
    print("\n| optimizer | evaluation | evaluations | wall time (s) / speed-up | best f |")
    print("|---|---|---|---|---|")
    ok = True
    for who, how, nfev, wall, f in rows:
        if f is None:
            print(f"| {who} | {how} | | **{wall:.2f}x** | |")
            ok &= wall >= 1.8
        else:
            print(f"| {who} | {how} | {nfev} | {wall:.1f} | {f:.3g} |")
    ng_rows = {(w, h): wall for w, h, _, wall, f in rows if w.startswith("nevergrad")}
    for name in ("CMA", "TwoPointsDE"):
        s = (
            ng_rows[(f"nevergrad {name}", "executor, 1 worker(s)")]
            / ng_rows[(f"nevergrad {name}", "executor, 2 worker(s)")]
        )
        print(f"| nevergrad {name} | speed-up executor, 2 workers | | {s:.2f}x | |")
    print(f"speed-up >= 1.8 at 2 workers for zoo (local and Ray): {'PASS' if ok else 'FAIL'}")
    return ok


def part2(args) -> bool:
    import tempfile
    from pathlib import Path

    from zoo.core import runlog

    x0 = np.full(10, 0.5)
    rows: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    tmp = Path(tempfile.mkdtemp())
    for r in range(args.repeats):
        for mode in (False, True):
            log = tmp / f"run-{r}-{int(mode)}.jsonl"
            wall, res = timed(
                lambda mode=mode, r=r, log=log: zoo.minimize(
                    heavy_tailed,
                    x0,
                    "ga",
                    budget=args.evals,
                    seed=r,
                    workers=2,
                    asynchronous=mode,
                    options={"popsize": 10},
                    log=log,
                )  # fmt: skip
            )
            busy = sum(rec["seconds"] for rec in runlog.read(log)) / (2 * wall)  # worker utilization
            rows[mode].append((wall, busy, res.fun))
            print(f"  repeat {r} {'async' if mode else 'sync '} nfev {res.nfev} wall {wall:5.2f} s "
                  f"workers busy {busy:.0%} f {res.fun:.3g}", flush=True)  # fmt: skip
    ms = statistics.median(w for w, _, _ in rows[False])
    ma = statistics.median(w for w, _, _ in rows[True])
    print(
        "\n| ga, popsize 10, 2 workers, heavy-tailed times | median wall (s) | per repeat (s) | workers busy | median best f |"
    )
    print("|---|---|---|---|---|")
    for mode, name in ((False, "synchronous"), (True, "asynchronous")):
        rs = rows[mode]
        print(
            f"| {name} | {statistics.median(w for w, _, _ in rs):.2f} | {', '.join(f'{w:.2f}' for w, _, _ in rs)} | "
            f"{statistics.median(b for _, b, _ in rs):.0%} | {statistics.median(f for _, _, f in rs):.3g} |"
        )
    print(
        f"synchronous / asynchronous wall time: {ms / ma:.2f}x  ({'PASS' if ma < ms else 'FAIL'}: asynchronous is faster)"
    )
    return ma < ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evals", type=int, default=200)
    ap.add_argument("--sleep", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--part", choices=("1", "2", "both"), default="both")
    args = ap.parse_args()
    ok = True
    if args.part in ("1", "both"):
        ok &= part1(args)
    if args.part in ("2", "both"):
        ok &= part2(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
