"""The sweep behind CBO's defaults: sigma x alpha schedule (x noise), Rastrigin and Ackley d=20.

Protocol as in benchmarks/cbo_success.py: init U[-3,3]^20, N=50, dt=0.01, lambda=1, alpha0=30, 3,000 steps,
100 runs in one array; success = max-norm distance of the final consensus to the optimum < 0.25.

    .venv/bin/python benchmarks/cbo_sweep.py [--sigmas 3,5.1,7,8.5,10.1,12,15]
        [--schedules fixed,multiplicative] [--noises anisotropic] [--n 50] [--runs 100] [--steps 3000]
"""

from __future__ import annotations

import argparse

from cbo_success import FUNCTIONS, run_cbo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sigmas", default="3,5.1,7,8.5,10.1,12,15")
    ap.add_argument("--schedules", default="fixed,multiplicative")
    ap.add_argument("--noises", default="anisotropic")
    ap.add_argument("--functions", default="rastrigin,ackley")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"N={args.n}, runs={args.runs}, steps<={args.steps}, d=20, dt=0.01, lambda=1, alpha0=30")
    print(
        f"{'function':10s} {'noise':12s} {'schedule':15s} {'sigma':>6s} {'success':>8s} {'best_part':>9s} "
        f"{'med best f':>11s} {'med steps':>9s}"
    )
    for noise in args.noises.split(","):
        for schedule in args.schedules.split(","):
            for sigma in (float(s) for s in args.sigmas.split(",")):
                for fname in args.functions.split(","):
                    r = run_cbo(
                        FUNCTIONS[fname],
                        20,
                        args.runs,
                        args.steps,
                        args.seed,
                        popsize=args.n,
                        sigma=sigma,
                        noise=noise,
                        alpha_schedule=schedule,
                        alpha=30.0,
                        dt=0.01,
                        lambda_=1.0,
                    )
                    print(
                        f"{fname:10s} {noise:12s} {schedule:15s} {sigma:6.2f} "
                        f"{r['success']:>5d}/{args.runs} {r['success_best']:>5d}/{args.runs} "
                        f"{r['median_best_f']:11.3g} "
                        f"{r['median_steps']:9.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
