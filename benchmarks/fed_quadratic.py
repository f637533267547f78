"""Heterogeneous quadratic (FZooS setup): FedZO, FedProx, SCAFFOLD (I, II), FZooS side by side.

    .venv/bin/python benchmarks/fed_quadratic.py                 # d=300, 5 clients, 10 local steps, 50 rounds, 5 seeds
    .venv/bin/python benchmarks/fed_quadratic.py --seeds 1 --rounds 10 --dim 50   # a quick look

Target: FZooS reaches FedZO's final loss (F - F* after the last round, per seed) in <= 1/3 of FedZO's total client
queries and in fewer rounds. Prints, per seed, the round and the queries at which FZooS first gets there, the
two ratios, their medians, met / not met; the bytes per round per client of every algorithm; writes a PNG of
F - F* against rounds and against total client queries (median over seeds, min-max band).
"""

from __future__ import annotations

import os

os.environ.setdefault(
    "OMP_NUM_THREADS", "1"
)  # small matrices: threads only contend on a shared 2-core machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import Simulator, make_algorithm, problems  # noqa: E402

ALGOS = ("fedzo", "fedprox", "scaffold1", "scaffold2", "fzoos")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--clients", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--local-steps", type=int, default=10)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--heterogeneity", type=float, default=0.5)
    ap.add_argument("--out", default="benchmarks/results/fed_quadratic.png")
    args = ap.parse_args()
    runs: dict[str, list] = {a: [] for a in ALGOS}
    seconds: dict[str, float] = dict.fromkeys(ALGOS, 0.0)
    for seed in range(args.seeds):
        problem = problems.quadratic(
            dim=args.dim, n_clients=args.clients, heterogeneity=args.heterogeneity, seed=seed
        )
        for name in ALGOS:
            t0 = time.perf_counter()
            hist = Simulator(problem, make_algorithm(name, local_steps=args.local_steps), seed=seed).run(
                args.rounds
            )
            seconds[name] += time.perf_counter() - t0
            runs[name].append(hist)
            print(
                f"seed {seed} {name:<10} F-F* {hist.gap()[0]:.4g} -> {hist.gap()[-1]:.4g}   "
                f"queries {int(hist.queries[-1])}   {seconds[name]:.0f} s so far",
                flush=True,
            )

    print(
        f"\nd={args.dim}, {args.clients} clients, {args.local_steps} local steps, {args.rounds} rounds, "
        f"{args.seeds} seeds (problem seed = run seed)"
    )
    print(
        f"{'algorithm':<10} {'median final F-F*':>18} {'queries':>9} {'up B/client/round':>18} "
        f"{'down B/client/round':>20} {'floats up':>10}"
    )
    for name in ALGOS:
        hs = runs[name]
        r = hs[0].rounds[2]  # a steady round (FZooS sends its lengthscale once, in round 1)
        n = args.clients
        print(
            f"{name:<10} {np.median([h.gap()[-1] for h in hs]):>18.4g} {int(np.median([h.queries[-1] for h in hs])):>9} "
            f"{r['bytes_up'] // n:>18} {r['bytes_down'] // n:>20} {r['bytes_up'] // n // 8:>10}"
        )

    print("\nFZooS vs FedZO: first round where FZooS's F-F* <= FedZO's final F-F* (same seed)")
    q_ratios, r_ratios = [], []
    for seed, (fz, fo) in enumerate(zip(runs["fzoos"], runs["fedzo"])):
        target = fo.gap()[-1]
        hit = np.flatnonzero(fz.gap() <= target)
        if len(hit) == 0:
            print(
                f"seed {seed}: target {target:.4g} not reached in {args.rounds} rounds "
                f"(FZooS final {fz.gap()[-1]:.4g})"
            )
            q_ratios.append(np.inf)
            r_ratios.append(np.inf)
            continue
        k = int(hit[0])
        qr, rr = fz.queries[k] / fo.queries[-1], k / args.rounds
        q_ratios.append(qr)
        r_ratios.append(rr)
        print(
            f"seed {seed}: target {target:.4g} reached at round {k} with {int(fz.queries[k])} queries; "
            f"FedZO used {int(fo.queries[-1])} queries and {args.rounds} rounds -> queries ratio {qr:.3f}, "
            f"rounds ratio {rr:.2f}"
        )
    qm, rm = float(np.median(q_ratios)), float(np.median(r_ratios))
    met_q = all(q <= 1 / 3 for q in q_ratios)
    met_r = all(r < 1 for r in r_ratios)
    print(f"median queries ratio {qm:.3f} (target <= 0.333: {'met' if met_q else 'NOT met'} on every seed)")
    print(f"median rounds ratio  {rm:.2f} (target < 1: {'met' if met_r else 'NOT met'} on every seed)")
    print("wall time (s, all seeds): " + ", ".join(f"{a} {s:.0f}" for a, s in seconds.items()))

    try:
        from zoo.federated.plots import federated_plot

        labels = {
            "fedzo": "FedZO",
            "fedprox": "FedProx",
            "scaffold1": "SCAFFOLD I",
            "scaffold2": "SCAFFOLD II",
            "fzoos": "FZooS",
        }
        path = federated_plot(
            {labels[a]: runs[a] for a in ALGOS},
            args.out,
            title=f"heterogeneous quadratic d={args.dim}, {args.clients} clients, "
            f"{args.seeds} seeds (median, min-max)",
        )
        print(f"plot {path}")
    except ModuleNotFoundError as exc:
        print(f"no plot ({exc})")
    summary = {
        a: {
            "final_gap": [float(h.gap()[-1]) for h in runs[a]],
            "queries": [int(h.queries[-1]) for h in runs[a]],
        }
        for a in ALGOS
    }
    summary["ratios"] = {"queries": q_ratios, "rounds": r_ratios}
    Path(args.out).with_suffix(".json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
