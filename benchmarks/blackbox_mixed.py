"""A mixed problem (3 real, 2 integer, 2 categorical variables, known optimum 0) through one zoo.space.

zoo ``ga`` (native integer / categorical genes; its default popsize 100 leaves two generations in 200
evaluations, so a popsize-20 row is shown beside it), ``cma`` (pycma's integer handling on the level index) and
``random-search`` through the same :class:`zoo.space.Space`, side by side with Optuna's default sampler (TPE)
and nevergrad's ``NGOpt`` on the same variables (``ng.p.Scalar`` / ``Log`` / integer-cast ``Scalar`` /
``Choice``, built by :func:`zoo.core.space.nevergrad_parametrization`) and the same budget. 10 seeds; the
figure is the median regret ``f(best) - 0`` and the fraction of seeds that found the exact optimum of the
discrete part (both integers and both categories right).

The problem (every term >= 0, all zero only at the optimum)::

    reals  a in [-5, 5] (opt 1.3), b in [-5, 5] (opt -2.1), c in [1e-3, 10] log (opt 0.05)
           (a - 1.3)^2 + (b + 2.1)^2 + 0.5 (a - 1.3)(b + 2.1) + (log10 c - log10 0.05)^2
    ints   n in 0..20 (opt 7), m in -10..10 (opt -3):  ((n - 7) / 4)^2 + ((m + 3) / 4)^2
    cats   k1 in A B C D (opt C, costs 1, .5, 0, 2), k2 in x y z (opt y; cost 0.6, plus 0.4 when also k1 != C)

    .venv/bin/python benchmarks/blackbox_mixed.py [--budget 200] [--seeds 10]
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import sys
import time

import numpy as np

import zoo
from zoo.space import Categorical, Integer, Real

SPACE = {
    "a": Real(-5.0, 5.0),
    "b": Real(-5.0, 5.0),
    "c": Real(1e-3, 10.0, log=True),
    "n": Integer(0, 20),
    "m": Integer(-10, 10),
    "k1": Categorical(["A", "B", "C", "D"]),
    "k2": Categorical(["x", "y", "z"]),
}
K1 = {"A": 1.0, "B": 0.5, "C": 0.0, "D": 2.0}


def mixed(p: dict) -> float:
    da, db = p["a"] - 1.3, p["b"] + 2.1
    f = da**2 + db**2 + 0.5 * da * db + (math.log10(p["c"]) - math.log10(0.05)) ** 2
    f += ((p["n"] - 7) / 4) ** 2 + ((p["m"] + 3) / 4) ** 2
    f += K1[p["k1"]] + (0.6 + 0.4 * (p["k1"] != "C")) * (p["k2"] != "y")
    return float(f)


def exact_discrete(p: dict) -> bool:
    return p["n"] == 7 and p["m"] == -3 and p["k1"] == "C" and p["k2"] == "y"


def run_zoo(method: str, budget: int, seed: int, **options) -> tuple[float, dict]:
    res = zoo.minimize(mixed, method=method, space=SPACE, budget=budget, seed=seed, options=options)
    return res.fun, res.x


def run_optuna(budget: int, seed: int) -> tuple[float, dict]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        p = {
            "a": trial.suggest_float("a", -5.0, 5.0),
            "b": trial.suggest_float("b", -5.0, 5.0),
            "c": trial.suggest_float("c", 1e-3, 10.0, log=True),
            "n": trial.suggest_int("n", 0, 20),
            "m": trial.suggest_int("m", -10, 10),
            "k1": trial.suggest_categorical("k1", ["A", "B", "C", "D"]),
            "k2": trial.suggest_categorical("k2", ["x", "y", "z"]),
        }
        return mixed(p)

    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))  # the default sampler, seeded
    study.optimize(objective, n_trials=budget)
    return study.best_value, study.best_params


def run_nevergrad(budget: int, seed: int) -> tuple[float, dict]:
    import nevergrad as ng

    from zoo.core.space import Space, nevergrad_parametrization

    param = nevergrad_parametrization(Space(SPACE))
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.NGOpt(parametrization=param, budget=budget)
    rec = opt.minimize(mixed)
    return mixed(rec.value), rec.value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    logging.getLogger("nevergrad").setLevel(logging.ERROR)
    runners = {
        "zoo ga": lambda s: run_zoo("ga", args.budget, s),
        "zoo ga, popsize 20": lambda s: run_zoo("ga", args.budget, s, popsize=20),
        "zoo cma": lambda s: run_zoo("cma", args.budget, s),
        "zoo random-search": lambda s: run_zoo("random-search", args.budget, s),
        "Optuna TPE (default)": lambda s: run_optuna(args.budget, s),
        "nevergrad NGOpt": lambda s: run_nevergrad(args.budget, s),
    }
    results: dict[str, list[tuple[float, bool, float]]] = {k: [] for k in runners}
    for seed in range(args.seeds):
        for name, run in runners.items():
            t0 = time.perf_counter()
            f, x = run(seed)
            results[name].append((f, exact_discrete(x), time.perf_counter() - t0))
        print(f"seed {seed}: " + "  ".join(f"{k} {v[-1][0]:.3g}" for k, v in results.items()), flush=True)
    print(f"\nbudget {args.budget} evaluations, {args.seeds} seeds; regret = f(best) - 0")
    print("| method | median regret | best / worst seed | discrete part exact | median run time (s) |")
    print("|---|---|---|---|---|")
    for name, rs in results.items():
        fs = [r[0] for r in rs]
        print(
            f"| {name} | {statistics.median(fs):.3g} | {min(fs):.3g} / {max(fs):.3g} | "
            f"{sum(r[1] for r in rs)}/{len(rs)} | {statistics.median(r[2] for r in rs):.2f} |"
        )
    print("\nper seed regret:")
    for name, rs in results.items():
        print(f"  {name:22s} " + " ".join(f"{r[0]:.3g}" for r in rs))
    ok = statistics.median(r[0] for r in results["zoo ga"]) < statistics.median(
        r[0] for r in results["zoo random-search"]
    )
    print(f"zoo ga beats random search on the median: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
