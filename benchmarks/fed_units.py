"""Defaults on the user's scale: the suite's problems with x and f in other units, FedZO / SCAFFOLD II / FZooS at
their defaults (issue 12, session 9).

    .venv/bin/python benchmarks/fed_units.py                      # x * 1e-2, 1, 1e2; f * 1e-3, 1e3; seeds 0-2
    .venv/bin/python benchmarks/fed_units.py --problems ackley-h0.5 --scales x1e2 --seeds 0
    .venv/bin/python benchmarks/fed_units.py --scales x1e-2,x1e2 --scaled-options   # lr, mu, delta, smooth x s
    .venv/bin/python benchmarks/fed_units.py --problems attack       # a box, scaled with x

A problem in other units: ``f'_i(x) = a * f_i(x / s)``, ``x0' = s * x0`` (bounds likewise: the attack's box), so the same
optimization seen through a ruler ``s`` times finer and a value ``a`` times larger. An algorithm whose defaults
are unit-free gives the same ``F' / F'(x0)`` at every ``s`` and ``a``. FedZO runs its rounds; SCAFFOLD II and
FZooS get FedZO's client queries (a budget, as in ``fed_suite.py``). Per problem, scale and seed: ``F / F(x0)`` at
the end of each algorithm (unit-free), whether SCAFFOLD II and FZooS reach FedZO's final F (and the ratio of the
queries to it), and whether any run diverged. "Reached" is trivially yes (ratio 1.00) where FedZO ends above
``F(x0)``. With ``--scaled-options`` every algorithm gets its length options (Adam's ``lr``, ``mu``, FZooS's
``delta`` and ``smooth``) times ``s``: what a user who knows the problem's length unit would pass.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from fed_suite import PROBLEMS, _value, reach, run_one, seeds  # noqa: E402

from zoo.federated import make_algorithm, problems  # noqa: E402
from zoo.federated.problem import FederatedProblem, GroupValue, WeightedSum  # noqa: E402
from zoo.federated.simulator import single_threaded_blas  # noqa: E402

ALGOS = ("fedzo", "scaffold2", "fzoos")
LABELS = {"fedzo": "FedZO", "scaffold2": "SCAFFOLD II", "fzoos": "FZooS"}
SCALES = {
    "x1e-2": (1e-2, 1.0),
    "x1": (1.0, 1.0),
    "x1e2": (1e2, 1.0),
    "f1e-3": (1.0, 1e-3),
    "f1e3": (1.0, 1e3),
}
DEFAULT_PROBLEMS = ("quadratic", "ackley-h0.5", "levy-h0.5", "rosenbrock-mix")


@dataclasses.dataclass
class Rescaled:
    """``a * group(ids, X / s)``: a vectorized client group seen in other units (picklable)."""

    group: Any
    s: float
    a: float

    def __call__(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        return self.a * self.group(ids, np.asarray(X, dtype=np.float64) / self.s)


@dataclasses.dataclass
class RescaledObjective:
    """``a * f(X / s)`` for one client objective (problems without a vectorized group, e.g. the attack)."""

    f: Any
    s: float
    a: float

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.a * np.asarray(self.f(np.asarray(X, dtype=np.float64) / self.s), dtype=np.float64)


def rescale(p: FederatedProblem, s: float, a: float) -> FederatedProblem:
    """``p`` with ``x = s u`` and ``f = a f(u)``: the same problem, other units."""
    bounds = None if p.bounds is None else (s * p.bounds[0], s * p.bounds[1])
    name = f"{p.name}-s{s:g}-a{a:g}"
    if p.batched is None:
        objectives = [RescaledObjective(f, s, a) for f in p.objectives]
        return FederatedProblem(
            objectives,
            p.weights,
            x0=s * p.x0,
            bounds=bounds,
            name=name,
            evaluator=WeightedSum(objectives, p.weights),
        )
    group = Rescaled(p.batched, s, a)
    return FederatedProblem(
        [problems._OneClient(group, i) for i in range(p.n_clients)],
        p.weights,
        x0=s * p.x0,
        bounds=bounds,
        name=name,
        batched=group,
        evaluator=GroupValue(group, p.weights),
    )


LENGTHS = {"fedzo": ("lr", "mu"), "scaffold2": ("lr", "mu"), "fzoos": ("lr", "delta", "smooth")}


def length_options(algo: str, s: float) -> dict:
    """The algorithm's options that are lengths in x (Adam's ``lr``, the probe radii), its defaults times ``s``:
    the same run in the rescaled units (Adam's step is invariant to the gradient's scale, up to its epsilon)."""
    defaults = make_algorithm(algo).params
    return {k: s * getattr(defaults, k) for k in LENGTHS[algo]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=seeds, default=seeds("0-2"))
    ap.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS), help=f"of {','.join(PROBLEMS)}")
    ap.add_argument("--scales", default=",".join(SCALES), help=f"of {','.join(SCALES)}")
    ap.add_argument(
        "--scaled-options",
        action="store_true",
        help="pass each algorithm its length options (lr, mu / delta, smooth) times the x scale s",
    )
    ap.add_argument("--fzoos", default="", help="FZooS options (tuning runs), e.g. smooth=1.0")
    args = ap.parse_args()
    fzoos_options = {
        k: _value(v) for k, v in (item.split("=") for item in filter(None, args.fzoos.split(",")))
    }
    for name in args.scales.split(","):
        if name not in SCALES:
            raise SystemExit(f"--scales: unknown {name!r}; choose from {', '.join(SCALES)}")
    t_all = time.perf_counter()
    print(
        "| problem | units | seed | FedZO F/F0 | SCAFFOLD II F/F0 | FZooS F/F0 | SCAFFOLD II reached (queries ratio) | "
        "FZooS reached (queries ratio) | diverged |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for pname in args.problems.split(","):
        make, rounds = PROBLEMS[pname]
        for sname in args.scales.split(","):
            s, a = SCALES[sname]
            for seed in args.seeds:
                problem = rescale(make(seed), s, a)
                F0 = problem.evaluator(problem.x0)
                opts = {k: length_options(k, s) if args.scaled_options else {} for k in ALGOS}
                opts["fzoos"] = {**opts["fzoos"], **fzoos_options}
                runs = {"fedzo": run_one(problem, "fedzo", seed, rounds, **opts["fedzo"])}
                budget = None if runs["fedzo"].get("diverged") else int(runs["fedzo"]["queries"][-1])
                for algo in ALGOS[1:]:
                    runs[algo] = run_one(problem, algo, seed, rounds, budget, **opts[algo])
                target = np.nan if runs["fedzo"].get("diverged") else runs["fedzo"]["F"][-1]
                _, base_q = reach(runs["fedzo"], target)
                rel = {
                    k: "DIVERGED" if r.get("diverged") else f"{float(r['F'][-1]) / F0:.4g}"
                    for k, r in runs.items()
                }
                hit = {}
                for algo in ALGOS[1:]:
                    _, q = reach(runs[algo], target)
                    hit[algo] = "no" if q is None else f"yes ({q / base_q:.2f})"
                div = ",".join(LABELS[k] for k, r in runs.items() if r.get("diverged")) or "none"
                print(
                    f"| {pname} | {sname} | {seed} | {rel['fedzo']} | {rel['scaffold2']} | {rel['fzoos']} | "
                    f"{hit['scaffold2']} | {hit['fzoos']} | {div} |",
                    flush=True,
                )
    print(f"total {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    with single_threaded_blas():
        raise SystemExit(main())
