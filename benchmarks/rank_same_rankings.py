"""Same rankings, side by side (issue 16): rank-sgd, CMA-ES from rankings and ``auto`` (feedback="ranking").

Problems: ill-conditioned ellipsoid d=100 (condition 1e6, x0 ~ N(0, I) per seed), Levy d=30 (x0 ~ N(0, I)),
Rosenbrock d=30 from 0. Feedback from a ``RankOracle``: the full ranking of each batch, its top-1, or a noisy
full ranking (adjacent points of the true order swapped with probability 0.2). 3,000 queries, seeds 0..4.
Figure: f / f0 of the point each method ends with (``opt.best[0]``: with rankings only, the last batch
winner), median over the seeds; every method sees the same oracle answers type and budget.
``auto`` passes when its median is within 10% of the better of the two others (``<= 1.1 x``) on each row.

    .venv/bin/python benchmarks/rank_same_rankings.py            # the Must-show run
    .venv/bin/python benchmarks/rank_same_rankings.py --seeds 2 --budget 1000
    .venv/bin/python benchmarks/rank_same_rankings.py --seed-offset 1000   # other method seeds, same x0

``--seed-offset K`` seeds every method with ``seed + K`` (the start points and the oracle keep ``seed``): the
spread of a method against itself, which bounds how finely the 10% criterion can be judged.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import zoo
from zoo.core.rank_oracle import RankOracle
from zoo.functions.classic import ellipsoid_np, levy_np, rosenbrock_np

PROBLEMS = {
    "ellipsoid d=100": (ellipsoid_np, 100, "normal"),
    "levy d=30": (levy_np, 30, "normal"),
    "rosenbrock d=30 from 0": (rosenbrock_np, 30, "zero"),
}
FEEDBACK = {
    "full": {"kind": "full"},
    "top-1": {"kind": "topk", "k": 1},
    "noisy": {"kind": "full", "flip_prob": 0.2},
}
METHODS = {
    "rank-sgd": ("rank-sgd", {}),
    "cma (rankings)": ("cma", {}),
    "auto (ranking)": ("auto", {"feedback": "ranking"}),
}


def run(
    method: str, opts: dict, f, x0: np.ndarray, budget: int, seed: int, oracle_kw: dict, offset: int = 0
) -> tuple[float, str]:
    opt = zoo.make(method, x0=x0, seed=seed + offset, budget=budget, **opts)
    oracle = RankOracle(f, dim=len(x0), seed=seed, budget=budget, **oracle_kw)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, **oracle(X).as_kwargs())
    assert oracle.nfev <= budget
    return float(f(opt.best[0][None])[0]), getattr(opt, "ran", method)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--problems", default="", help="comma-separated problem names (default: all three)")
    ap.add_argument(
        "--feedback", default="", help="comma-separated feedback kinds (default: full,top-1,noisy)"
    )
    ap.add_argument("--seed-offset", type=int, default=0, help="seed the methods with seed + this")
    args = ap.parse_args(argv)
    problems = {k: v for k, v in PROBLEMS.items() if not args.problems or k in args.problems.split(",")}
    feedback = {k: v for k, v in FEEDBACK.items() if not args.feedback or k in args.feedback.split(",")}
    if not problems or not feedback:
        ap.error(f"--problems takes names from {list(PROBLEMS)}, --feedback from {list(FEEDBACK)}")
    print(f"# same rankings, {args.budget} queries, seeds 0..{args.seeds - 1}: median f/f0 (per seed)")
    print("| problem | feedback | " + " | ".join(METHODS) + " | auto / better | auto ran |")
    print("|---|---|" + "---|" * (len(METHODS) + 2))
    failures = rows = 0
    for pname, (f, d, start) in problems.items():
        for fname, okw in feedback.items():
            rows += 1
            ratios = {m: [] for m in METHODS}
            ran = ""
            t0 = time.perf_counter()
            for seed in range(args.seeds):
                x0 = np.zeros(d) if start == "zero" else np.random.default_rng(seed).standard_normal(d)
                f0 = float(f(x0[None])[0])
                for label, (method, opts) in METHODS.items():
                    v, what = run(method, opts, f, x0, args.budget, seed, okw, args.seed_offset)
                    ratios[label].append(v / f0)
                    if label.startswith("auto"):
                        ran = what.split(" -> ")[-1].split(" (")[0]  # the method that ran last
            med = {m: float(np.median(r)) for m, r in ratios.items()}
            better = min(med["rank-sgd"], med["cma (rankings)"])
            rel = med["auto (ranking)"] / better if better > 0 else float("inf")
            failures += rel > 1.1
            cells = " | ".join(f"{med[m]:.3g} ({', '.join(f'{r:.2g}' for r in ratios[m])})" for m in METHODS)
            print(f"| {pname} | {fname} | {cells} | {rel:.2f} | {ran} |", flush=True)
            print(f"  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    print(f"\nauto within 10% of the better of rank-sgd and CMA-ES on {rows - failures} of {rows} rows")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
