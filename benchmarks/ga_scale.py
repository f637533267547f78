"""The GA's mutation width on the user's scale: the old absolute default ``sigma=0.1`` vs ``sigma=None``
(per-coordinate widths from the box and x0, :func:`zoo.population.genome.mutation_widths`).

Part 1, the same problem at several scales ``s``: ``f_s(x) = F(x / s - c)`` with F = sphere, Rastrigin,
Rosenbrock (d = 10; c = 1.3 for sphere and Rastrigin, 0 for Rosenbrock, so no optimum sits at the box centre),
in the box ``[-5 s, 5 s]^10`` for s = 1e-3, 1, 1e3, and without bounds for s = 1 and 1e3 ("free"). x0 = s u,
u ~ U[-4, 4]^10 drawn per seed (the same u at every scale). min f = 0 everywhere, so the figure is the final
f itself (f - f*); a scale-free GA gives the same figures in every row of a problem. Budget 10^4 (100
generations of the default popsize 100), ``vectorized=True``, seeds 0-4.

Part 2, issue 13's constrained set (``benchmarks/blackbox_constrained.py``: sphere-linear, pressure vessel,
g06, g07) through zoo's augmented-Lagrangian wrapper with ``method="ga"``, its budgets and x0s, 10 seeds:
feasible runs (max g <= 1e-6) and the median f of the feasible ones, old default vs new.

Part 3, a tiny budget: the space ``[Real(0, 10), Integer(0, 5), Categorical(["a", "b"])]`` of
``tests/blackbox/test_space.py``, f = (p0 - 1)^2 + |p1 - 4| + (p2 == "a"), budget 300, seeds 0-29, at the
default popsize 100 (3 generations) and at popsize 20: how often the discrete part is exact, median f.

``--sweep`` adds the box fractions 0.01 / 0.02 / 0.05 / 0.1 / 0.2 (as explicit per-coordinate widths) over
both parts, the evidence for the default fraction 0.05.

    nice -n 10 .venv/bin/python benchmarks/ga_scale.py [--sweep]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import zoo
from zoo.population import genome

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import blackbox_constrained as bc  # noqa: E402

D, BUDGET, SEEDS = 10, 10_000, 5
BASES = {
    "sphere": (zoo.functions.sphere, 1.3),
    "rastrigin": (zoo.functions.rastrigin, 1.3),
    "rosenbrock": (zoo.functions.rosenbrock, 0.0),
}
SCALES = [("box", 1e-3), ("box", 1.0), ("box", 1e3), ("free", 1.0), ("free", 1e3)]


def scaled(base, c, s):
    return lambda X: base(np.asarray(X) / s - c)


def widths_for(frac, lo, hi, x0):
    """An explicit per-coordinate sigma: frac of the box side (None, the default rule, without a box)."""
    if lo is None:
        return None
    return tuple(frac * (hi - lo))


def part1(configs):
    rows = {}
    for pname, (base, c) in BASES.items():
        for kind, s in SCALES:
            lo = hi = None
            bounds = None
            if kind == "box":
                lo, hi = np.full(D, -5.0 * s), np.full(D, 5.0 * s)
                bounds = (lo, hi)
            for cname, sigma_of in configs.items():
                vals = []
                for seed in range(SEEDS):
                    x0 = s * np.random.default_rng(100 + seed).uniform(-4, 4, D)
                    sigma = sigma_of(lo, hi, x0)
                    opts = {} if sigma == "default" else {"sigma": sigma}  # a sweep's None: unbounded
                    res = zoo.minimize(scaled(base, c, s), x0, "ga", budget=BUDGET, seed=seed, bounds=bounds,
                                       vectorized=True, options=opts)  # fmt: skip
                    vals.append(float(res.fun))
                rows[(pname, f"{kind} s={s:g}", cname)] = vals
        print(f"  part 1 {pname} done", flush=True)
    return rows


def part2(configs, seeds=10):
    rows = {}
    for pname, (f, g, lo, hi, fstar, budget) in bc.PROBLEMS.items():
        for cname, sigma_of in configs.items():
            out = []
            for seed in range(seeds):
                x0 = np.random.default_rng(1000 + seed).uniform(lo, hi)
                sigma = sigma_of(lo, hi, x0)
                opts = {} if sigma == "default" else {"sigma": sigma}
                res = zoo.minimize(f, x0, "ga", bounds={"lower": lo, "upper": hi}, constraints=g, budget=budget,
                                   seed=seed, options=opts)  # fmt: skip
                x = np.clip(np.asarray(res.x), lo, hi)
                out.append((f(x), float(np.max(g(x))) <= bc.TOL))
            rows[(pname, fstar, cname)] = out
        print(f"  part 2 {pname} done", flush=True)
    return rows


def part3():
    from zoo.space import Categorical, Integer, Real, Space

    sp = Space([Real(0, 10), Integer(0, 5), Categorical(["a", "b"])])
    rows = {}
    for popsize in (100, 20):
        for cname, opts in (("old (sigma=0.1)", {"sigma": 0.1}), ("new (sigma=None)", {})):
            out = []
            for seed in range(30):
                res = zoo.minimize(lambda p: (p[0] - 1) ** 2 + abs(p[1] - 4) + (p[2] == "a"), method="ga",
                                   space=sp, budget=300, seed=seed, options={**opts, "popsize": popsize})  # fmt: skip
                out.append((res.x[1:] == [4, "b"], float(res.fun)))
            rows[(popsize, cname)] = out
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sweep", action="store_true", help="also explicit box fractions 0.01-0.2")
    args = ap.parse_args()
    configs = {"old (sigma=0.1)": lambda lo, hi, x0: 0.1, "new (sigma=None)": lambda lo, hi, x0: "default"}
    if args.sweep:
        for frac in (0.01, 0.02, 0.05, 0.1, 0.2):
            configs[f"box fraction {frac:g}"] = lambda lo, hi, x0, fr=frac: widths_for(fr, lo, hi, x0)
    print(f"default box fraction {genome.BOX_FRACTION}, x0 fraction {genome.X0_FRACTION}", flush=True)
    t0 = time.perf_counter()
    r1 = part1(configs)
    r2 = part2(configs)
    r3 = part3()
    print(f"({time.perf_counter() - t0:.0f} s)\n")
    print("Part 1: median final f (min f = 0) over seeds 0-4, d = 10, budget 1e4\n")
    names = list(configs)
    print("| problem | scale | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for pname in BASES:
        for kind, s in SCALES:
            key = f"{kind} s={s:g}"
            cells = [f"{statistics.median(r1[(pname, key, n)]):.3g}" for n in names]
            print(f"| {pname} | {key} | " + " | ".join(cells) + " |")
    print("\nper seed (seeds 0-4):")
    for (pname, key, n), vals in r1.items():
        print(f"  {pname:10s} {key:12s} {n:18s} " + " ".join(f"{v:.3g}" for v in vals))
    print("\nPart 2: constrained set through the augmented-Lagrangian wrapper, ga, 10 seeds\n")
    print("| problem (f*) | " + " | ".join(f"{n}: feasible, median f - f*" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    wins = 0
    for pname, (_, _, _, _, fstar, _) in bc.PROBLEMS.items():
        cells = []
        for n in names:
            rs = r2[(pname, fstar, n)]
            feas = [r[0] for r in rs if r[1]]
            med = statistics.median(feas) - fstar if feas else float("nan")
            cells.append(f"{len(feas)}/{len(rs)}, {med:.3g}")
        old = sum(r[1] for r in r2[(pname, fstar, names[0])])
        new = sum(r[1] for r in r2[(pname, fstar, names[1])])
        wins += new >= old
        print(f"| {pname} ({fstar:.6g}) | " + " | ".join(cells) + " |")
    print("\nper seed f (x = infeasible):")
    for (pname, _, n), rs in r2.items():
        print(f"  {pname:16s} {n:18s} " + " ".join(f"{r[0]:.5g}" + ("" if r[1] else "x") for r in rs))
    print("\nPart 3: tiny budget (300) on a mixed space, seeds 0-29\n")
    print("| popsize | default | discrete part exact | median f |")
    print("|---|---|---|---|")
    for (popsize, cname), out in r3.items():
        print(
            f"| {popsize} | {cname} | {sum(o[0] for o in out)}/30 | {statistics.median(o[1] for o in out):.3g} |"
        )
    # the check that can fail: the new default is scale-free (its box rows agree within a factor 10 wherever
    # the old one's spread is larger) and never has fewer feasible runs than the old one
    spread_ok = True
    for pname in BASES:
        meds = [statistics.median(r1[(pname, f"box s={s:g}", names[1])]) for s in (1e-3, 1.0, 1e3)]
        spread_ok &= max(meds) <= 10 * min(meds) + 1e-12
    print(f"new default the same at every box scale (within 10x): {'PASS' if spread_ok else 'FAIL'}")
    print(f"new default feasible at least as often as the old on every constrained problem: "
          f"{'PASS' if wins == len(bc.PROBLEMS) else 'FAIL'}")  # fmt: skip
    return 0 if spread_ok and wins == len(bc.PROBLEMS) else 1


if __name__ == "__main__":
    sys.exit(main())
