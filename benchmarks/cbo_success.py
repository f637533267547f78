"""CBO success rate with zoo's defaults: Rastrigin and Ackley d=20, init U[-3,3]^20, N=50, <= 3,000 steps.

Success of a run: max-norm distance of its final consensus to the optimum (0) below 0.25 (the criterion of
the CBO literature; the best evaluated particle is reported too). The 100 runs are one CBO optimizer with
``n_runs=100``: one (100, 50, 20) array, one vectorized objective call per step.

    .venv/bin/python benchmarks/cbo_success.py [--runs 100] [--steps 3000] [--seed 0]

Target: >= 95 of 100 runs on each function.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import zoo
from zoo.functions import ackley, rastrigin

FUNCTIONS = {"rastrigin": rastrigin, "ackley": ackley}


def run_cbo(fun, d: int = 20, runs: int = 100, steps: int = 3000, seed: int = 0, **options) -> dict:
    """Run ``runs`` CBO runs in one array; returns success counts, median best f, steps and time."""
    t0 = time.perf_counter()
    opt = zoo.make("cbo", dim=d, seed=seed, n_runs=runs, init_bounds=(-3.0, 3.0), max_steps=steps, **options)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, fun(X))
    s = opt.state
    optimum = fun.argmin(d)
    err_c = np.abs(s.consensus - optimum).max(axis=1)
    err_b = np.abs(s.run_best_x - optimum).max(axis=1)
    return {
        "success": int((err_c < 0.25).sum()),
        "success_best": int((err_b < 0.25).sum()),
        "median_best_f": float(np.median(s.run_best_f)),
        "median_f_consensus": float(np.median(fun(s.consensus))),
        "median_steps": float(np.median(s.steps)),
        "nfev": opt.nfev,
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--d", type=int, default=20)
    args = ap.parse_args()
    defaults = zoo.make("cbo", dim=args.d).params
    print(
        f"zoo CBO defaults: N={defaults.popsize} noise={defaults.noise} sigma={defaults.sigma} "
        f"dt={defaults.dt} lambda={defaults.lambda_} alpha={defaults.alpha} "
        f"schedule={defaults.alpha_schedule} (factor {defaults.alpha_factor}, max {defaults.alpha_max:g})"
    )
    ok = True
    need = int(np.ceil(0.95 * args.runs))
    for name, fun in FUNCTIONS.items():
        r = run_cbo(fun, args.d, args.runs, args.steps, args.seed)
        met = r["success"] >= need
        ok &= met
        print(
            f"{name:9s} d={args.d}: success {r['success']}/{args.runs} (consensus), "
            f"{r['success_best']}/{args.runs} (best particle); median best f {r['median_best_f']:.3g}, "
            f"median f(consensus) {r['median_f_consensus']:.3g}; median steps {r['median_steps']:.0f}; "
            f"{r['seconds']:.1f} s  [target >= {need}: {'met' if met else 'NOT met'}]"
        )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
