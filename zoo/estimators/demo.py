"""Demo section: gradient estimators on Rosenbrock d=100 from x0 ~ N(0, I), 2,000 queries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import zoo
from zoo.plotting import convergence_plot, have_matplotlib


def demo(out: Path, quick: bool) -> None:
    d, budget = (30, 600) if quick else (100, 2000)
    f = zoo.functions.rosenbrock
    x0 = np.random.default_rng(0).standard_normal(d)
    f0 = float(f(x0)[0])
    print(f"   Rosenbrock d={d}, x0 ~ N(0, I), f(x0) = {f0:.4g}, budget {budget} queries")
    runs = {
        "rge (learned metric)": zoo.minimize(
            f, x0, "rge", budget=budget, seed=0, vectorized=True, options={"q": 2}
        ),
        "zo-signsgd (q=10)": zoo.minimize(f, x0, "zo-signsgd", budget=budget, seed=0, vectorized=True),
        "cge (central, Adam)": zoo.minimize(
            f,
            x0,
            "cge",
            budget=budget,
            seed=0,
            vectorized=True,
            options={"difference": "central", "update": "adam", "lr": 0.05},
        ),
    }
    for label, r in runs.items():
        print(f"   {label:<22} f/f0 = {r.fun / f0:.4f}   queries {r.nfev}")
    if have_matplotlib():
        path = convergence_plot(runs, out / "estimators_rosenbrock.png", title=f"Rosenbrock d={d}", f0=f0)
        print(f"   plot: {path}")
