"""A small sweep of consensus hopping on Rastrigin / Ackley d=20 (the CBO protocol, one run per seed).

x0 ~ U[-3,3]^20 drawn per seed, N=50 samples per hop, at most 3,000 hops (150,000 queries); success = the
final consensus within 0.25 of the optimum in max-norm.

    .venv/bin/python benchmarks/cbo_hopping_sweep.py [--seeds 20] [--sigmas 1,2,3]
        [--factors 0.99,0.995,0.998]
"""

from __future__ import annotations

import argparse

import numpy as np

import zoo
from zoo.functions import ackley, rastrigin


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--sigmas", default="1,2,3")
    ap.add_argument("--factors", default="0.99,0.995,0.998")
    ap.add_argument("--alphas", default="1000")
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args()
    d = 20
    print(f"consensus hopping, d={d}, N=50, <= {args.steps} hops, {args.seeds} seeds")
    print(f"{'function':10s} {'sigma':>6s} {'factor':>7s} {'alpha':>7s} {'success':>8s} {'median f':>10s}")
    for fun in (rastrigin, ackley):
        for sigma in (float(s) for s in args.sigmas.split(",")):
            for factor in (float(s) for s in args.factors.split(",")):
                for alpha in (float(s) for s in args.alphas.split(",")):
                    ok, best = 0, []
                    for seed in range(args.seeds):
                        x0 = np.random.default_rng(1000 + seed).uniform(-3, 3, d)
                        opt = zoo.make(
                            "consensus-hopping",
                            x0=x0,
                            seed=seed,
                            sigma=sigma,
                            sigma_factor=factor,
                            alpha=alpha,
                        )
                        while not opt.stop() and opt.nit < args.steps:
                            X = opt.ask()
                            opt.tell(X, fun(X))
                        ok += int(np.abs(opt.state.c - fun.argmin(d)).max() < 0.25)
                        best.append(opt.best[1])
                    print(
                        f"{fun.name:10s} {sigma:6.2f} {factor:7.3f} {alpha:7.0f} {ok:>5d}/{args.seeds} "
                        f"{np.median(best):10.3g}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
