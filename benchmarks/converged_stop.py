"""The gradient methods' convergence test (``converged`` / ``stalled``, GradientMethod._stall): what it saves and
what it costs, side by side in one run (the same runs with the test switched off: ``converge_tells`` = inf).

    python benchmarks/converged_stop.py                    # floor problems + the robustness suite, 3 seeds
    python benchmarks/converged_stop.py --suite heldout    # robustness.py's held-out problems
    python benchmarks/converged_stop.py --budget 200 --methods rge,cge

Per problem, method and seed: the best value (the clean objective at ``res.x``) and the queries spent, with and
without the test, and the stop reason. The exit status is 1 if any run with the test ends at a higher value than
the same run without it (a stop that cut off progress), so the benchmark can fail; such rows are printed as
losses.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import robustness as rb  # noqa: E402

import zoo  # noqa: E402
from zoo.estimators.base import GradientMethod  # noqa: E402

METHODS = ("rge", "cge", "zo-sgd", "zo-adam", "zo-signsgd")


def _step_sphere(X):
    return np.sum(np.floor(4.0 * np.atleast_2d(X) + 0.5) ** 2, axis=1) / 16.0


def _flat_bottom(X):
    return np.sum(np.maximum(np.abs(np.atleast_2d(X)) - 1.0, 0.0) ** 2, axis=1)


def floors() -> list[rb.Problem]:
    """Problems whose floor a run reaches: f exactly 0 (at x0, on a region, at a point), f* = 1 to rounding, and
    a piecewise-constant one (plateaus everywhere: the estimates see no slope)."""
    fixed = lambda v, d: lambda rng: np.full(d, v)  # noqa: E731
    return [
        rb.Problem("sphere-at-x0", 10, lambda X: np.sum(np.atleast_2d(X) ** 2, axis=1), fixed(0.0, 10)),
        rb.Problem(
            "sphere-to-0.5", 10, lambda X: np.sum((np.atleast_2d(X) - 0.5) ** 2, axis=1), fixed(0.0, 10)
        ),
        rb.Problem("flat-bottom", 10, _flat_bottom, fixed(3.0, 10)),
        rb.Problem(
            "sphere-plus-1", 10, lambda X: np.sum(np.atleast_2d(X) ** 2, axis=1) + 1.0, fixed(1.0, 10)
        ),
        rb.Problem("step-sphere", 10, _step_sphere, fixed(3.3, 10)),
    ]


def run(method: str, problem: rb.Problem, budget: int, seed: int, test: bool) -> tuple[float, int, str]:
    GradientMethod.converge_tells = 50 if test else math.inf
    x0 = problem.x0(np.random.default_rng(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = zoo.minimize(
            problem.objective(seed),
            x0,
            method,
            budget=budget,
            seed=seed,
            vectorized=True,
            bounds=problem.bounds,
        )
    return rb._clean(problem, res.x), int(res.nfev), ",".join(res.stop)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=("tuning", "heldout"), default="tuning")
    ap.add_argument("--budget", type=int, default=500, help="queries per dimension")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=",".join(METHODS))
    a = ap.parse_args()
    problems = floors() + rb.suite() if a.suite == "tuning" else rb.heldout()
    problems = [p for p in problems if p.noise == 0.0] + [p for p in problems if p.noise != 0.0]
    seeds = [int(s) for s in a.seeds.split(",")]
    print("| problem | d | method | seed | f without | f with | queries without | queries with | stop with |")
    print("|---|---|---|---|---|---|---|---|---|")
    losses, saved, total, strict = [], 0, 0, 0
    for p in problems:
        for m in a.methods.split(","):
            for s in seeds:
                f0, n0, _ = run(m, p, a.budget * p.d, s, test=False)
                f1, n1, why = run(m, p, a.budget * p.d, s, test=True)
                # a loss: more than a billionth of the progress the run made without the test (the rows within
                # it are rounding: x within ~1e-13 of a minimum; strict counts are printed too)
                start = rb._clean(p, p.x0(np.random.default_rng(s)))
                tol = 1e-9 * abs(start - f0) if math.isfinite(start) and math.isfinite(f0) else 0.0
                worse = f1 - f0 > tol or (math.isnan(f1) and not math.isnan(f0))
                strict += f1 > f0
                mark = " **loss**" if worse else (" (rounding)" if f1 > f0 else "")
                print(f"| {p.name} | {p.d} | {m} | {s} | {f0:.3g} | {f1:.3g}{mark} | {n0} | {n1} | {why} |")
                if worse:
                    losses.append((p.name, m, s, f0, f1))
                saved += n0 - n1
                total += n0
    print(
        f"\nqueries saved: {saved} of {total} ({saved / max(total, 1):.1%}); runs ending higher with the test: "
        f"{strict}, by more than 1e-9 of their progress (losses): {len(losses)}"
    )
    for row in losses:
        print("loss:", *row)
    return 1 if losses else 0


if __name__ == "__main__":
    sys.exit(main())
