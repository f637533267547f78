"""Federated black-box attack on scikit-learn digits: FZooS vs FedZO, 10 clients, 5 seeds.

    .venv/bin/python benchmarks/fed_attack.py                       # 10 clients, eps 0.2, 40 rounds, 5 seeds
    .venv/bin/python benchmarks/fed_attack.py --seeds 2 --rounds 10

Seed s attacks the s-th test image that every client classifies correctly, with run seed s. Success: more than
half of the 10 classifiers misclassify clip(x + delta). Prints the success rate and the total client queries
spent until the first successful round (median over the successful seeds).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--epsilon", type=float, default=0.2)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/fed_attack.png")
    args = ap.parse_args()
    runs: dict[str, list] = {"fedzo": [], "fzoos": []}
    for seed in range(args.seeds):
        problem = problems.attack(n_clients=args.clients, epsilon=args.epsilon, image=seed, seed=0)
        for name in runs:
            hist = Simulator(problem, make_algorithm(name), seed=seed).run(args.rounds)
            ok = [r["round"] for r in hist.rounds if r.get("success")]
            runs[name].append(hist)
            msg = f"round {ok[0]}, {int(hist.queries[ok[0]])} queries" if ok else "no success"
            print(f"seed {seed} {name:<6} F {hist.F[0]:.3f} -> {hist.F[-1]:.3f}   {msg}", flush=True)
    print(
        f"\nattack: {args.clients} clients, box eps={args.epsilon}, {args.rounds} rounds, {args.seeds} seeds"
    )
    for name, hs in runs.items():
        first = [next((r["round"] for r in h.rounds if r.get("success")), None) for h in hs]
        q = [int(h.queries[k]) for h, k in zip(hs, first) if k is not None]
        rate = sum(k is not None for k in first) / len(hs)
        med = f"{int(np.median(q))}" if q else "-"
        print(
            f"{name:<6} success rate {rate:.0%}   median queries to success {med}   "
            f"(per seed: {[int(h.queries[k]) if k is not None else None for h, k in zip(hs, first)]})"
        )
    try:
        from zoo.federated.plots import federated_plot

        print(
            "plot",
            federated_plot(
                {"FedZO": runs["fedzo"], "FZooS": runs["fzoos"]},
                args.out,
                title=f"federated attack, digits, {args.clients} clients, eps={args.epsilon}",
            ),
        )
    except ModuleNotFoundError as exc:
        print(f"no plot ({exc})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
