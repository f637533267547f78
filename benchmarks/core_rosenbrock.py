"""Rosenbrock d=100, 2,000 queries, f/f0 with x0 ~ N(0, I) drawn with the run's seed (median of 5 seeds).

python benchmarks/core_rosenbrock.py [--seeds 5]
"""

from __future__ import annotations

import argparse

import numpy as np

import zoo

CONFIGS = {
    "rge (defaults: learned metric, q=2)": ("rge", {}),
    "zo-adam (rge without the metric, q=1)": ("zo-adam", {}),
    "rge q=2": ("rge", {"q": 2}),
    "rge q=4": ("rge", {"q": 4}),
    "rge q=2 central": ("rge", {"q": 2, "difference": "central"}),
    "zo-signsgd (q=10)": ("zo-signsgd", {}),
    "cge (Adam, lr=0.05)": ("cge", {"update": "adam", "lr": 0.05}),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=2000)
    args = ap.parse_args()
    f = zoo.functions.rosenbrock
    print(f"Rosenbrock d=100, budget {args.budget}, f/f0 per seed and median over {args.seeds} seeds")
    for label, (method, opts) in CONFIGS.items():
        ratios = []
        for seed in range(args.seeds):
            x0 = np.random.default_rng(seed).standard_normal(100)
            res = zoo.minimize(f, x0, method, budget=args.budget, seed=seed, vectorized=True, options=opts)
            assert res.nfev <= args.budget
            ratios.append(res.fun / f(x0)[0])
        print(f"  {label:<34} median {np.median(ratios):.4f}   " + " ".join(f"{r:.4f}" for r in ratios))


if __name__ == "__main__":
    main()
