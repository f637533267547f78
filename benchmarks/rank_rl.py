"""Reinforcement learning from ranked episodes (gymnasium CartPole-v1 and Pendulum-v1).

rank-sgd sees only the ranking of the episode returns of its candidate policies; CMA-ES (pycma, popsize 10)
is told only rank positions; RGE (zoo "rge", Adam) gets the returns themselves. Same episode budget for all;
every batch of candidates is played on shared episode seeds. A policy counts as solved when its mean return
over 20 fresh evaluation episodes reaches the task's threshold (CartPole-v1: 475); evaluation episodes are
not counted. CartPole: linear policy (5 parameters); Pendulum: tanh MLP 3-8-1 (41 parameters), evaluated
every budget/6 episodes and at the end. Every method starts from the same x0 = 0.1 * N(0, I) (per seed).

    .venv/bin/python benchmarks/rank_rl.py --env CartPole-v1 --seeds 5 --budget 2000
    .venv/bin/python benchmarks/rank_rl.py --env Pendulum-v1 --seeds 3 --budget 3000
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from zoo.session.rl import TASKS, train

PENDULUM_TARGET = -500.0  # median final return of rank-sgd at 3000 episodes (random policies: about -1200)
CONFIGS = {  # label -> (method, options); the rank-sgd rows see rankings only
    "CartPole-v1": {
        "rank-sgd + line search, antithetic (rankings)": (
            "rank-sgd",
            {"mu": 0.5, "eta": 1.0, "adapt": False, "antithetic": True},
        ),
        "rank-sgd + line search (rankings)": ("rank-sgd", {"mu": 0.5, "eta": 1.0, "adapt": False}),
        "rge (returns)": ("rge", {"q": 4, "mu": 0.1, "lr": 0.1}),
        "pycma (rank positions)": ("cma", {"popsize": 10, "sigma0": 0.5}),
    },
    "Pendulum-v1": {
        "rank-sgd + line search, antithetic (rankings)": (
            "rank-sgd",
            {"mu": 1.0, "eta": 3.0, "adapt": False, "m": 20, "antithetic": True},
        ),
        "rank-sgd + Adam, antithetic (rankings)": (
            "rank-sgd",
            {"line_search": False, "update": "adam", "lr": 0.1, "mu": 0.5, "m": 10, "antithetic": True},
        ),
        "rank-sgd + line search (rankings)": ("rank-sgd", {"mu": 1.0, "eta": 3.0, "adapt": False, "m": 20}),
        "rge (returns)": ("rge", {"q": 9, "mu": 0.5, "lr": 0.1}),
        "pycma (rank positions)": ("cma", {"popsize": 10, "sigma0": 0.5}),
    },
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="CartPole-v1", choices=sorted(CONFIGS))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument(
        "--budget", type=int, default=None, help="training episodes (CartPole 2000, Pendulum 3000)"
    )
    ap.add_argument(
        "--rows", default=None, help="run only these rows of the table (comma-separated, 0-based)"
    )
    args = ap.parse_args(argv)
    budget = args.budget or (2000 if args.env == "CartPole-v1" else 3000)
    solved = TASKS[args.env]["solved"]
    stop = args.env == "CartPole-v1"  # CartPole: episodes to solve; Pendulum: return at the full budget
    print(
        f"# {args.env}: {budget} training episodes, seeds 0..{args.seeds - 1}, solved = mean of 20 "
        f"evaluation episodes >= {solved:g}"
    )
    print(
        "| method | options | solved (seeds) | episodes to solve (per seed) | median | final eval return "
        "(median; per seed) | time/run (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    results = {}
    rows = list(CONFIGS[args.env].items())
    if args.rows is not None:
        rows = [rows[int(i)] for i in args.rows.split(",")]
    for label, (method, opts) in rows:
        at, final, secs = [], [], 0.0
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            r = train(
                args.env,
                method,
                budget=budget,
                seed=seed,
                options=dict(opts),
                stop_when_solved=stop,
                eval_threshold=None if stop else -np.inf,
                eval_every=None if stop else budget // 6,
            )
            secs += time.perf_counter() - t0
            at.append(r["solved_at"])
            final.append(r["final"])
        n_ok = sum(a is not None for a in at)
        med = np.median([a if a is not None else np.inf for a in at])
        per = ", ".join("-" if a is None else str(a) for a in at)
        fin = ", ".join(f"{v:.0f}" for v in final)
        print(
            f"| {label} | {opts} | {n_ok}/{args.seeds} | {per} | {med:g} | {np.median(final):.1f}; "
            f"{fin} | {secs / args.seeds:.1f} |",
            flush=True,
        )
        results[label] = (n_ok, med, float(np.median(final)))
    if results:
        n_ok, med, fin = next(iter(results.values()))  # the first row is the headline rank-sgd
        if stop:
            ok = n_ok == args.seeds
            print(
                f"\nrank-sgd solved {args.env} on {n_ok}/{args.seeds} seeds, median {med:g} training "
                f"episodes (stated target: every seed within {budget}): {'met' if ok else 'NOT MET'}"
            )
        else:
            ok = fin >= PENDULUM_TARGET
            print(
                f"\nrank-sgd median final return on {args.env}: {fin:.1f} "
                f"(stated target >= {PENDULUM_TARGET:g}): "
                f"{'met' if ok else 'NOT MET'}"
            )
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
