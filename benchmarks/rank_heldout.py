"""Held-out problems for ``auto``'s ranking rule (issue 16): rank-sgd, CMA-ES, BIPOP-CMA-ES (and ``auto``) from
the same rankings on problems, dimensions and budgets that ``benchmarks/rank_same_rankings.py`` does not use.

Problems (x0 ~ N(0, I) per seed, except where said): sphere, an ellipsoid of condition 1e6 in a random
rotation (fixed, seed 12345), Rastrigin, Styblinski-Tang (optimum -39.17 d at x = -2.90), Ackley; each at d=20
and d=50. Feedback from a ``RankOracle``: full ranking, top-1, noisy full ranking (adjacent swaps with
probability 0.2), and pairs (n // 2 disjoint random pairs per batch). Budgets 1,000 / 3,000 / 10,000.
Figure: (f - f*) / (f(x0) - f*) at the point each method ends with (``opt.best[0]``), median over the seeds.
The last columns: the best method's name and, when ``auto`` runs, auto / best (<= 1.10 is "within 10%").

    .venv/bin/python benchmarks/rank_heldout.py --seeds 3                      # the whole grid
    .venv/bin/python benchmarks/rank_heldout.py --seeds 3 --budgets 3000 --problems "sphere d=20"
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchmarks.rank_same_rankings import run
from zoo.functions.classic import ackley_np, rastrigin_np, sphere_np, styblinski_tang_np

_ST_F = -39.16616570377142  # per coordinate


def _rotated_ellipsoid(d: int):
    q, _ = np.linalg.qr(np.random.default_rng(12345).standard_normal((d, d)))
    w = 10.0 ** (6.0 * np.arange(d) / (d - 1))

    def f(X):
        Y = np.atleast_2d(X) @ q
        return (Y * Y) @ w

    return f


def problems() -> dict:
    out = {}
    for d in (20, 50):
        out[f"sphere d={d}"] = (sphere_np, d, 0.0)
        out[f"rot-ellipsoid d={d}"] = (_rotated_ellipsoid(d), d, 0.0)
        out[f"rastrigin d={d}"] = (rastrigin_np, d, 0.0)
        out[f"styblinski-tang d={d}"] = (styblinski_tang_np, d, _ST_F * d)
        out[f"ackley d={d}"] = (ackley_np, d, 0.0)
    return out


FEEDBACK = {
    "full": {"kind": "full"},
    "top-1": {"kind": "topk", "k": 1},
    "noisy": {"kind": "full", "flip_prob": 0.2},
    "pairs": {"kind": "pairs"},
}
METHODS = {
    "rank-sgd": ("rank-sgd", {}),
    "cma": ("cma", {}),
    "cma-bipop": ("cma-bipop", {}),
    "auto": ("auto", {"feedback": "ranking"}),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="1000,3000,10000")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--problems", default="", help="comma-separated problem names (default: all)")
    ap.add_argument("--feedback", default="", help="comma-separated kinds (default: full,top-1,noisy,pairs)")
    ap.add_argument("--methods", default="rank-sgd,cma,cma-bipop,auto")
    args = ap.parse_args(argv)
    probs = {k: v for k, v in problems().items() if not args.problems or k in args.problems.split(",")}
    feedback = {k: v for k, v in FEEDBACK.items() if not args.feedback or k in args.feedback.split(",")}
    methods = {k: METHODS[k] for k in args.methods.split(",")}
    budgets = [int(b) for b in args.budgets.split(",")]
    if not probs or not feedback:
        ap.error(f"--problems takes names from {list(problems())}, --feedback from {list(FEEDBACK)}")
    print(f"# held-out rankings, seeds 0..{args.seeds - 1}: median (f - f*) / (f0 - f*) (per seed)")
    cols = " | ".join(methods)
    print(f"| problem | feedback | budget | {cols} | best | auto / best | auto ran |")
    print("|---|---|---|" + "---|" * (len(methods) + 3))
    misses = rows = 0
    for pname, (f, d, fstar) in probs.items():
        for fname, okw in feedback.items():
            for budget in budgets:
                t0 = time.perf_counter()
                ratios: dict = {m: [] for m in methods}
                ran = ""
                for seed in range(args.seeds):
                    x0 = np.random.default_rng(seed).standard_normal(d)
                    f0 = float(f(x0[None])[0]) - fstar
                    for label, (method, opts) in methods.items():
                        v, what = run(method, opts, f, x0, budget, seed, okw)
                        ratios[label].append((v - fstar) / f0)
                        if label == "auto":
                            ran = what.split(" -> ")[-1].split(" (")[0]  # the method that ran last
                med = {m: float(np.median(r)) for m, r in ratios.items()}
                others = {m: v for m, v in med.items() if m != "auto"}
                best = min(others, key=others.get)
                rel = ""
                if "auto" in med:
                    r = med["auto"] / others[best] if others[best] > 0 else float("inf")
                    rows += 1
                    misses += r > 1.1
                    rel = f"{r:.2f}"
                cells = " | ".join(
                    f"{med[m]:.3g} ({', '.join(f'{x:.2g}' for x in ratios[m])})" for m in methods
                )
                print(f"| {pname} | {fname} | {budget} | {cells} | {best} | {rel} | {ran} |", flush=True)
                print(f"  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    if rows:
        print(f"\nauto within 10% of the best of the others on {rows - misses} of {rows} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
