"""Constrained problems g(x) <= 0: zoo's augmented Lagrangian around cma and ga vs pycma's
ConstrainedFitnessAL vs scipy's COBYQA, 10 seeds, the same budget and starting points.

Problems (f* = best known):

- ``sphere-linear``: min ||x||^2, d=10, s.t. 1 - sum(x) <= 0, x in [-5, 5]^10; f* = 0.1.
- ``pressure-vessel`` (continuous form; Kannan & Kramer 1994): 4 variables, 4 constraints,
  x1, x2 in [0, 99], x3, x4 in [10, 200]; f* = 5885.3328 (Coello & Mezura-Montes 2002 list 5885.33).
- ``g06`` (CEC 2006, Liang et al. 2006): 2 variables, 2 nonlinear constraints, a thin feasible crescent;
  f* = -6961.81387558015.
- ``g07`` (CEC 2006): 10 variables, 8 constraints (3 linear, 5 nonlinear); f* = 24.3062090681.

Each seed draws one x0 uniform in the box, shared by every method. A run is feasible when its returned point
has max_i g_i <= 1e-6 (the same check for every method); the objective figure is the median of f over the
feasible runs. zoo: ``minimize(f, x0, "cma" | "ga", bounds=..., constraints=g, budget=B, seed=s)`` (defaults).
pycma: ``cma.ConstrainedFitnessAL(f, g)`` in pycma's own ask/tell loop with ``bounds``, ``maxfevals=B``,
sigma0 = 0.2 x mean box width (zoo's cma default). COBYQA: ``scipy.optimize.minimize(method="COBYQA",
bounds=..., constraints=NonlinearConstraint(g, -inf, 0), options={"maxfev": B})``.

    .venv/bin/python benchmarks/blackbox_constrained.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

import numpy as np

import zoo

TOL = 1e-6


def sphere(x):
    return float(np.dot(x, x))


def sphere_g(x):
    return np.array([1.0 - np.sum(x)])


def vessel(x):
    x1, x2, x3, x4 = x
    return float(0.6224 * x1 * x3 * x4 + 1.7781 * x2 * x3**2 + 3.1661 * x1**2 * x4 + 19.84 * x1**2 * x3)


def vessel_g(x):
    x1, x2, x3, x4 = x
    return np.array(
        [
            -x1 + 0.0193 * x3,
            -x2 + 0.00954 * x3,
            (-np.pi * x3**2 * x4 - 4.0 / 3.0 * np.pi * x3**3 + 1296000.0) / 1296000.0,  # scaled to O(1)
            x4 - 240.0,
        ]
    )


def g06(x):
    return float((x[0] - 10.0) ** 3 + (x[1] - 20.0) ** 3)


def g06_g(x):
    return np.array([-((x[0] - 5) ** 2) - (x[1] - 5) ** 2 + 100.0, (x[0] - 6) ** 2 + (x[1] - 5) ** 2 - 82.81])


def g07(x):
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = x
    return float(
        x1**2 + x2**2 + x1 * x2 - 14 * x1 - 16 * x2 + (x3 - 10) ** 2 + 4 * (x4 - 5) ** 2 + (x5 - 3) ** 2
        + 2 * (x6 - 1) ** 2 + 5 * x7**2 + 7 * (x8 - 11) ** 2 + 2 * (x9 - 10) ** 2 + (x10 - 7) ** 2 + 45
    )  # fmt: skip


def g07_g(x):
    x1, x2, x3, x4, x5, x6, x7, x8, x9, x10 = x
    return np.array(
        [
            -105 + 4 * x1 + 5 * x2 - 3 * x7 + 9 * x8,
            10 * x1 - 8 * x2 - 17 * x7 + 2 * x8,
            -8 * x1 + 2 * x2 + 5 * x9 - 2 * x10 - 12,
            3 * (x1 - 2) ** 2 + 4 * (x2 - 3) ** 2 + 2 * x3**2 - 7 * x4 - 120,
            5 * x1**2 + 8 * x2 + (x3 - 6) ** 2 - 2 * x4 - 40,
            x1**2 + 2 * (x2 - 2) ** 2 - 2 * x1 * x2 + 14 * x5 - 6 * x6,
            0.5 * (x1 - 8) ** 2 + 2 * (x2 - 4) ** 2 + 3 * x5**2 - x6 - 30,
            -3 * x1 + 6 * x2 + 12 * (x9 - 8) ** 2 - 7 * x10,
        ]
    )


PROBLEMS = {
    "sphere-linear": (sphere, sphere_g, np.full(10, -5.0), np.full(10, 5.0), 0.1, 2000),
    "pressure-vessel": (
        vessel,
        vessel_g,
        np.array([0, 0, 10, 10.0]),
        np.array([99, 99, 200, 200.0]),
        5885.3328,
        4000,
    ),
    "g06": (g06, g06_g, np.array([13.0, 0.0]), np.array([100.0, 100.0]), -6961.81387558015, 3000),
    "g07": (g07, g07_g, np.full(10, -10.0), np.full(10, 10.0), 24.3062090681, 10000),
}


def run_zoo(method, f, g, lo, hi, x0, budget, seed):
    res = zoo.minimize(
        f, x0, method, bounds={"lower": lo, "upper": hi}, constraints=g, budget=budget, seed=seed
    )
    return np.asarray(res.x), res.nfev


def run_pycma(f, g, lo, hi, x0, budget, seed):
    import cma

    cfun = cma.ConstrainedFitnessAL(f, lambda x: list(g(x)), logging=0)
    opts = {
        "bounds": [lo.tolist(), hi.tolist()],
        "seed": seed + 1,
        "verbose": -9,
        "maxfevals": budget,
        "verb_log": 0,
    }
    es = cma.CMAEvolutionStrategy(x0, 0.2 * float(np.mean(hi - lo)), opts)
    while not es.stop() and cfun.count_calls + es.popsize <= budget:
        X = es.ask()
        es.tell(X, [cfun(x) for x in X])
        cfun.update(es)
    x = cfun.best_feas.x if cfun.best_feas.x is not None else es.result.xfavorite
    return np.asarray(x), cfun.count_calls


def run_cobyqa(f, g, lo, hi, x0, budget, seed):
    from scipy.optimize import Bounds, NonlinearConstraint, minimize

    count = [0]

    def fc(x):
        count[0] += 1
        return f(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(fc, x0, method="COBYQA", bounds=Bounds(lo, hi), constraints=NonlinearConstraint(g, -np.inf, 0.0),
                       options={"maxfev": budget})  # fmt: skip
    return np.asarray(res.x), count[0]


RUNNERS = {
    "zoo cma + AL": lambda *a: run_zoo("cma", *a),
    "zoo ga + AL": lambda *a: run_zoo("ga", *a),
    "pycma ConstrainedFitnessAL": run_pycma,
    "scipy COBYQA": run_cobyqa,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    args = ap.parse_args()
    table = []
    for pname in args.problems.split(","):
        f, g, lo, hi, fstar, budget = PROBLEMS[pname]
        per = {k: [] for k in RUNNERS}
        t0 = time.perf_counter()
        for seed in range(args.seeds):
            x0 = np.random.default_rng(1000 + seed).uniform(lo, hi)
            for name, run in RUNNERS.items():
                x, nfev = run(f, g, lo, hi, x0, budget, seed)
                assert nfev <= budget + 1, (name, nfev)
                x = np.clip(x, lo, hi)
                per[name].append((f(x), float(np.max(g(x))) <= TOL, nfev))
        print(f"{pname}: {time.perf_counter() - t0:.0f} s", flush=True)
        for name, rs in per.items():
            feas = [r[0] for r in rs if r[1]]
            med = statistics.median(feas) if feas else float("nan")
            table.append((pname, fstar, budget, name, len(feas), len(rs), med, rs))
    print("\n| problem (f*) | budget | method | feasible runs | median f (feasible runs) | median f - f* |")
    print("|---|---|---|---|---|---|")
    for pname, fstar, budget, name, nf, n, med, _ in table:
        print(f"| {pname} ({fstar:.6g}) | {budget} | {name} | {nf}/{n} | {med:.6g} | {med - fstar:.3g} |")
    print("\nper seed f (x = infeasible):")
    for pname, _, _, name, _, _, _, rs in table:
        print(f"  {pname:16s} {name:27s} " + " ".join(f"{r[0]:.5g}" + ("" if r[1] else "x") for r in rs))
    zoo_ok = all(nf >= n // 2 for p, _, _, name, nf, n, _, _ in table if name == "zoo cma + AL")
    print(f"zoo cma + AL feasible in at least half the runs on every problem: {'PASS' if zoo_ok else 'FAIL'}")
    return 0 if zoo_ok else 1


if __name__ == "__main__":
    sys.exit(main())
