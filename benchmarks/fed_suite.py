"""The federated suite, side by side in one run: FedZO, FedProx, SCAFFOLD I / II and FZooS on seven problems.

    .venv/bin/python benchmarks/fed_suite.py                       # the suite: seeds 0-4
    .venv/bin/python benchmarks/fed_suite.py --seeds 100-104        # the seeds FZooS's defaults were tuned on
    .venv/bin/python benchmarks/fed_suite.py --seeds 100-104 --heldout   # the held-out problems, also tuned on

Problems (seed s builds the problem with problem seed s and runs every algorithm with seed s):
heterogeneous quadratic (d=300, 5 clients, h=0.5, 50 rounds), Ackley and Levy with client shifts and scales
(d=30, 10 clients, h=0.5 and h=1.5, 30 rounds), a Rosenbrock mixture with unequal client weights (d=20,
8 clients, 30 rounds), the digits attack (d=64, 10 clients, eps=0.2, 30 rounds; the s-th image).

Every algorithm gets the client queries FedZO spends in its rounds (a query budget: FZooS, which spends 60
queries a client a round instead of 210, runs more rounds, at most 3x as many; SCAFFOLD I, which spends more, fewer). Per problem and
algorithm: the round and the client queries at which F first reaches FedZO's final F (same seed), their ratio to FedZO's, the final F, and whether the run diverged (a non-finite F, or AlgorithmDiverged).
Every client query is counted; the report's F comes from the problem's separate evaluator and is never counted.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from zoo.federated import AlgorithmDiverged, Simulator, make_algorithm, problems  # noqa: E402
from zoo.federated.simulator import single_threaded_blas  # noqa: E402

ALGOS = ("fedzo", "fedprox", "scaffold1", "scaffold2", "fzoos")
LABELS = {
    "fedzo": "FedZO",
    "fedprox": "FedProx",
    "scaffold1": "SCAFFOLD I",
    "scaffold2": "SCAFFOLD II",
    "fzoos": "FZooS",
}
PROBLEMS = {
    "quadratic": (lambda s: problems.quadratic(dim=300, n_clients=5, heterogeneity=0.5, seed=s), 50),
    "ackley-h0.5": (lambda s: problems.ackley(dim=30, n_clients=10, heterogeneity=0.5, seed=s), 30),
    "ackley-h1.5": (lambda s: problems.ackley(dim=30, n_clients=10, heterogeneity=1.5, seed=s), 30),
    "levy-h0.5": (lambda s: problems.levy(dim=30, n_clients=10, heterogeneity=0.5, seed=s), 30),
    "levy-h1.5": (lambda s: problems.levy(dim=30, n_clients=10, heterogeneity=1.5, seed=s), 30),
    "rosenbrock-mix": (lambda s: problems.rosenbrock(dim=20, n_clients=8, heterogeneity=0.3, seed=s), 30),
    "attack": (lambda s: problems.attack(n_clients=10, epsilon=0.2, image=s, seed=0), 30),
}
# Held-out problems: FZooS's defaults are tuned on these (and on the suite's problems with seeds 100-104),
# never on the suite's seeds 0-4. Other functions, heterogeneity levels and dimensions than the suite's.
HELDOUT = {
    "griewank-h0.5": (lambda s: problems._shifted("griewank", 30, 10, 0.5, s, x0_scale=3.0), 30),
    "rastrigin-h0.5": (lambda s: problems._shifted("rastrigin", 30, 10, 0.5, s, x0_scale=3.0), 30),
    "levy-h0.3": (lambda s: problems.levy(dim=30, n_clients=10, heterogeneity=0.3, seed=s), 30),
    "levy-h1.0": (lambda s: problems.levy(dim=30, n_clients=10, heterogeneity=1.0, seed=s), 30),
    "levy-d20": (lambda s: problems.levy(dim=20, n_clients=10, heterogeneity=0.5, seed=s), 30),
    "levy-d100": (lambda s: problems.levy(dim=100, n_clients=10, heterogeneity=0.5, seed=s), 30),
    "ackley-h1.0": (lambda s: problems.ackley(dim=30, n_clients=10, heterogeneity=1.0, seed=s), 30),
    "ackley-d100": (lambda s: problems.ackley(dim=100, n_clients=10, heterogeneity=0.5, seed=s), 30),
    "rosenbrock-d20-h0.6": (
        lambda s: problems.rosenbrock(dim=20, n_clients=8, heterogeneity=0.6, seed=s),
        30,
    ),
}


OPTIONS: dict[str, dict] = {}  # per-algorithm options (tuning runs only; the suite uses the defaults)


def seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(t) for t in text.split(",")]


def run_one(problem, name: str, seed: int, rounds: int, budget: int | None = None, **options) -> dict:
    """``rounds`` rounds, or with a query ``budget`` as many rounds as it pays for (at most 3x ``rounds``)."""
    try:
        sim = Simulator(problem, make_algorithm(name, **options), seed=seed, budget=budget)
        h = sim.run(rounds if budget is None else 3 * rounds)
    except AlgorithmDiverged as exc:
        return {"diverged": True, "error": str(exc)}
    return {"diverged": not np.all(np.isfinite(h.F)), "F": h.F, "queries": h.queries}


def reach(run: dict, target: float) -> tuple[int | None, int | None]:
    if run.get("diverged"):
        return None, None
    hit = np.flatnonzero(run["F"] <= target + 1e-12 * abs(target))
    return (int(hit[0]), int(run["queries"][hit[0]])) if len(hit) else (None, None)


def _value(text: str):
    """An option's value from the command line: an int, a float, or the string itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=seeds, default=seeds("0-4"))
    ap.add_argument(
        "--problems", default=",".join(PROBLEMS), help=f"comma-separated; held-out: {','.join(HELDOUT)}"
    )
    ap.add_argument("--heldout", action="store_true", help="the held-out problems instead of the suite's")
    ap.add_argument("--algos", default=",".join(ALGOS))
    ap.add_argument("--fzoos", default="", help="FZooS options for tuning runs, e.g. lr=0.1,window=80")
    args = ap.parse_args()
    for item in filter(None, args.fzoos.split(",")):
        k, v = item.split("=")
        OPTIONS.setdefault("fzoos", {})[k] = _value(v)
    algos = args.algos.split(",")
    if args.heldout:
        args.problems = ",".join(HELDOUT)
    summary = []
    t_all = time.perf_counter()
    for pname in args.problems.split(","):
        make, rounds = {**PROBLEMS, **HELDOUT}[pname]
        table = {a: [] for a in algos}
        for seed in args.seeds:
            problem = make(seed)
            runs = {}
            for a in ["fedzo", *[a for a in algos if a != "fedzo"]]:
                t0 = time.perf_counter()
                budget = None if a == "fedzo" else int(runs["fedzo"]["queries"][-1])
                runs[a] = run_one(problem, a, seed, rounds, budget, **OPTIONS.get(a, {}))
                runs[a]["seconds"] = time.perf_counter() - t0
            target = runs["fedzo"]["F"][-1]
            base_round, base_q = reach(runs["fedzo"], target)
            line = [f"{pname:<15} seed {seed}  FedZO final {target:.5g}"]
            for a in algos:
                k, q = reach(runs[a], target)
                final = np.nan if runs[a].get("diverged") else float(runs[a]["F"][-1])
                table[a].append(
                    {
                        "round": k,
                        "queries": q,
                        "final": final,
                        "diverged": runs[a]["diverged"],
                        "q_ratio": None if q is None else q / base_q,
                        "r_ratio": None if k is None else k / base_round,
                    }
                )
                line.append(
                    f"{a} {'DIVERGED' if runs[a]['diverged'] else ''}"
                    f"r={k} q={q} F={final:.5g} ({runs[a]['seconds']:.1f}s)"
                )
            print("  |  ".join(line), flush=True)
        print(f"\n### {pname} ({rounds} rounds, seeds {args.seeds[0]}-{args.seeds[-1]})\n")
        print(
            "| algorithm | reached FedZO's final F | median rounds to it (ratio) | median queries to it (ratio) "
            "| median final F | diverged |"
        )
        print("|---|---|---|---|---|---|")
        med_q = {}
        for a in algos:
            rows = table[a]
            ok = [r for r in rows if r["queries"] is not None]
            mq = np.median([r["queries"] for r in ok]) if ok else np.nan
            mr = np.median([r["round"] for r in ok]) if ok else np.nan
            rq = np.median([r["q_ratio"] for r in ok]) if ok else np.nan
            rr = np.median([r["r_ratio"] for r in ok]) if ok else np.nan
            med_q[a] = mq if len(ok) == len(rows) else np.inf
            print(
                f"| {LABELS.get(a, a)} | {len(ok)}/{len(rows)} | {mr:g} ({rr:.2f}) | {mq:,.0f} ({rq:.2f}) | "
                f"{np.median([r['final'] for r in rows]):.5g} | {sum(r['diverged'] for r in rows)} |"
            )
        per_seed = " / ".join(
            "-" if r["q_ratio"] is None else f"{r['q_ratio']:.2f}" for r in table.get("fzoos", [])
        )
        if "fzoos" in table:
            print(f"\nFZooS queries ratio per seed: {per_seed}")
        best = min(med_q.values())
        if "fzoos" in med_q:
            fz = med_q["fzoos"]
            verdict = (
                "best"
                if fz == best
                else (
                    f"within {fz / best - 1:.0%} of the best"
                    if np.isfinite(fz)
                    else "did not reach the target on every seed"
                )
            )
            summary.append((pname, verdict, fz <= 1.1 * best))
            print(f"FZooS in queries: {verdict} (best: {min(med_q, key=med_q.get)})\n", flush=True)
    if summary:
        print("\n| problem | FZooS in queries to FedZO's final F | best or within 10 % |\n|---|---|---|")
        for pname, verdict, ok in summary:
            print(f"| {pname} | {verdict} | {'yes' if ok else 'no'} |")
        print(
            f"\nFZooS best or within 10 % of the best on {sum(ok for *_, ok in summary)} of {len(summary)} problems"
        )
    print(f"total {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    with single_threaded_blas():
        raise SystemExit(main())
