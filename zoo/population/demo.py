"""Demo section: population methods (CBO, Deep GA, random search) on Rastrigin d=20 from x0 ~ U[-3, 3]^20."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import zoo
from zoo.plotting import convergence_plot, have_matplotlib

GA_OPTIONS = {"popsize": 200, "sigma": 0.5, "sigma_init": 2.0}


def demo(out: Path, quick: bool) -> None:
    d, budget = 20, (20_000 if quick else 100_000)
    f = zoo.functions.rastrigin
    x0 = np.random.default_rng(0).uniform(-3.0, 3.0, d)
    f0 = float(f(x0)[0])
    print(f"   Rastrigin d={d}, x0 ~ U[-3, 3]^{d}, f(x0) = {f0:.4g}, budget {budget} queries (optimum 0)")
    generations = budget // GA_OPTIONS["popsize"]
    ga_options = {**GA_OPTIONS, "sigma_decay": round(0.01 ** (1 / generations), 4)}  # sigma / 100 by the end
    runs = {}
    if "cbo" in zoo.methods():
        runs["cbo (defaults)"] = zoo.minimize(f, x0, "cbo", budget=budget, seed=0, vectorized=True)
    else:
        print("   cbo: not registered in this build, skipped")
    runs[f"ga (P=200, sigma 0.5, decay {ga_options['sigma_decay']})"] = zoo.minimize(
        f, x0, "ga", budget=budget, seed=0, vectorized=True, options=ga_options
    )
    runs["random search (U[-5.12, 5.12])"] = zoo.minimize(
        f, x0, "random-search", budget=budget, seed=0, vectorized=True, bounds=(-5.12, 5.12)
    )
    for label, r in runs.items():
        print(f"   {label:<38} f = {r.fun:9.4g}   queries {r.nfev}")

    # the seed-chain genome: the GA's elite travels as a few dozen integers and rebuilds bit for bit
    opt = zoo.make("ga", x0=x0, seed=0, **ga_options)
    for _ in range(30):
        X = opt.ask()
        opt.tell(X, f(X))
    genome = opt.genome(0)
    exact = np.array_equal(opt.rebuild(genome), opt.parents[0])
    mutations = sum(g >= 0 for g in genome[1:])
    print(
        f"   ga elite after 30 generations: genome of {len(genome)} integers ({mutations} mutations), "
        f"rebuilt bit for bit: {exact}"
    )
    if have_matplotlib():
        path = convergence_plot(runs, out / "population_rastrigin.png", title=f"Rastrigin d={d}")
        print(f"   plot: {path}")
