"""FZooS ablation on the heterogeneous quadratic: what the RFF correction and its size buy.

    .venv/bin/python benchmarks/fed_ablation.py            # 5 seeds, d=300, 5 clients, 50 rounds

Variants: M=500 features, M=100 (the default), no correction (gamma=0: then nu need not be sent,
upload d floats). Prints per variant the median final F-F*, the median round and queries at which FedZO's final
F-F* is reached, and the bytes uploaded per client per round.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402

VARIANTS = {
    "M=500, gamma=1": {"n_features": 500},
    "M=100, gamma=1 (default)": {"n_features": 100},
    "no correction (gamma=0)": {"gamma": 0.0},
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--dim", type=int, default=300)
    args = ap.parse_args()
    rows = {k: [] for k in VARIANTS}
    for seed in range(args.seeds):
        p = problems.quadratic(dim=args.dim, n_clients=5, heterogeneity=0.5, seed=seed)
        target = Simulator(p, make_algorithm("fedzo"), seed=seed).run(args.rounds).gap()[-1]
        for name, opts in VARIANTS.items():
            h = Simulator(p, make_algorithm("fzoos", **opts), seed=seed).run(args.rounds)
            hit = np.flatnonzero(h.gap() <= target)
            k = int(hit[0]) if len(hit) else None
            rows[name].append((h.gap()[-1], k, int(h.queries[k]) if k is not None else None))
            print(
                f"seed {seed} {name:<26} final {h.gap()[-1]:.4g}  FedZO final {target:.4g} reached at round {k}",
                flush=True,
            )
    print(f"\nd={args.dim}, 5 clients, {args.rounds} rounds, {args.seeds} seeds")
    for name, r in rows.items():
        ks = [k for _, k, _ in r if k is not None]
        qs = [q for _, _, q in r if q is not None]
        print(
            f"{name:<26} median final F-F* {np.median([g for g, _, _ in r]):.4g}   reached on {len(ks)}/{len(r)} "
            f"seeds, median round {np.median(ks) if ks else '-'}, median queries {np.median(qs) if qs else '-'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
