"""FZooS on the 140 tuning runs (tuning seeds only), against FedZO's final F on the same problem and seed.

    .venv/bin/python benchmarks/fed_fzoos_tune.py                          # the defaults, all 140 runs
    .venv/bin/python benchmarks/fed_fzoos_tune.py --fzoos smooth=0         # an option (here: the paper's delta)
    .venv/bin/python benchmarks/fed_fzoos_tune.py --fzoos smooth=1 --cases "levy-h0.5:110;levy-h0.5:116"

The runs (session 5's tuning set, issue 12): the suite's 7 problems and the 9 held-out problems on seeds
100-104, and Levy h=0.5, Ackley h=1.5, Levy d=100, Rastrigin on seeds 105-119. The suite's seeds 0-4 are never
run here. Each FZooS run gets FedZO's client queries as its budget (as in ``fed_suite.py``); a run reaches the
target when its F falls to FedZO's final F. Prints the runs reached (per group), every miss with its gap, and
the median ratio of FZooS's queries to FedZO's per problem. ``--workers`` processes (2 by default), FedZO rerun
each time (no cache that could go stale).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from multiprocessing import Pool  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fed_suite as fs  # noqa: E402

ALL = {**fs.PROBLEMS, **fs.HELDOUT}
EXTRA = ("levy-h0.5", "ackley-h1.5", "levy-d100", "rastrigin-h0.5")
CASES = (
    [(p, s) for p in fs.PROBLEMS for s in range(100, 105)]
    + [(p, s) for p in fs.HELDOUT for s in range(100, 105)]
    + [(p, s) for p in EXTRA for s in range(105, 120)]
)


def _fedzo(case):
    p, s = case
    make, rounds = ALL[p]
    r = fs.run_one(make(s), "fedzo", s, rounds)
    return float(r["F"][-1]), int(r["queries"][-1]), fs.reach(r, r["F"][-1])[1]


def _fzoos(arg):
    (p, s), options, (target, budget, base_q) = arg
    make, rounds = ALL[p]
    r = fs.run_one(make(s), "fzoos", s, rounds, budget, **options)
    _, q = fs.reach(r, target)
    final = None if r.get("diverged") else float(r["F"][-1])
    return final, (None if q is None else q / base_q), bool(r["diverged"])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fzoos", default="", help="FZooS options, e.g. smooth=1.0,smooth_half=8")
    ap.add_argument("--cases", default="", help="problem:seed;... (default: all 140 tuning runs)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    options = {}
    for item in filter(None, args.fzoos.split(",")):
        k, v = item.split("=")
        options[k] = fs._value(v)
    cases = CASES
    if args.cases:
        wanted = [tuple(c.split(":")) for c in args.cases.split(";")]
        cases = [(p, int(s)) for p, s in wanted]
        unknown = [c for c in cases if c not in CASES]
        if unknown:
            raise SystemExit(f"not tuning runs: {unknown} (seeds 100-104, or 105-119 of {', '.join(EXTRA)})")
    t0 = time.perf_counter()
    with Pool(args.workers) as pool:
        base = pool.map(_fedzo, cases)
        res = pool.map(_fzoos, [(c, options, b) for c, b in zip(cases, base)])
    groups = {
        "suite s100-104": [k for k, c in enumerate(cases) if c[0] in fs.PROBLEMS and c[1] < 105],
        "held-out s100-104": [k for k, c in enumerate(cases) if c[0] in fs.HELDOUT and c[1] < 105],
        "4 problems s105-119": [k for k, c in enumerate(cases) if c[1] >= 105],
    }
    reached = sum(q is not None for _, q, _ in res)
    parts = ", ".join(
        f"{g} {sum(res[k][1] is not None for k in ks)}/{len(ks)}" for g, ks in groups.items() if ks
    )
    print(
        f"FZooS {args.fzoos or 'defaults'}: reached FedZO's final F on {reached} of {len(res)} ({parts}); "
        f"diverged {sum(d for *_, d in res)} ({time.perf_counter() - t0:.0f} s)"
    )
    for (p, s), (target, *_), (final, q, diverged) in zip(cases, base, res):
        if q is None:
            gap = "DIVERGED" if diverged else f"{final:.5g} vs {target:.5g} ({final / target - 1:+.2%})"
            print(f"  missed {p} seed {s}: {gap}")
    ratios: dict[str, list[float]] = {}
    for (p, _), (_, q, _) in zip(cases, res):
        if q is not None:
            ratios.setdefault(p, []).append(q)
    print(
        "  median queries to FedZO's final F / FedZO's: "
        + ", ".join(f"{p} {np.median(v):.2f}" for p, v in ratios.items())
    )
    return 0 if reached == len(res) else 1


if __name__ == "__main__":
    with fs.single_threaded_blas():
        raise SystemExit(main())
