"""Robustness suite (issue 16): zoo's gradient-estimator methods with their DEFAULTS, side by side with pycma
and nevergrad's OnePlusOne at the same budgets, on problems of very different scales and kinds.

    python benchmarks/robustness.py                      # the suite, budgets 200*d and 1000*d, 5 seeds
    python benchmarks/robustness.py --suite heldout      # problems the defaults were NOT tuned on
    python benchmarks/robustness.py --suite noisy --budgets 1000 --methods rge,spsa,zo-sgd,zo-signsgd,cge
                                                         # noisy problems the noise rule was not chosen on
    python benchmarks/robustness.py --methods rge,cge --problems sphere-1e-3 --budgets 200

Per run it records, with the clean (noise-free) objective:
- ``f``: the value of the point the method returns (zoo: ``res.x``; pycma: its best point; nevergrad: its
  recommendation),
- ``f_end``: the value of the point the method *ends at* (zoo gradient methods: the final iterate; pycma: the
  final mean; nevergrad: the recommendation), which is where a diverging method shows,
- ``worse``: ``f > f(x0)`` or ``f_end > f(x0)`` (NaN counts as worse).
The table per (problem, budget) gives the median ``f`` over seeds, the share of runs with ``worse``, and the
per-seed ``f``. The ``ok`` column counts the runs zoo did not flag as failed (status 4: no finite value, 6: the
method reports that its run ended worse than it started); a budget-limited run is scipy's status 1 and counts.

The anchors get a hint zoo's methods do not: pycma's ``sigma0`` and OnePlusOne's mutation scale are set to the
problem's ``scale`` (1 for starts drawn from N(0, I), a quarter of the box width for bounded problems).
zoo's methods start from x0 (and the bounds) alone. ``zo-adam`` is an alias of ``rge`` (same numbers), so it
runs once under the name ``rge``.
"""

from __future__ import annotations

import os

# one BLAS thread, set before numpy loads: on a shared 2-core machine a multi-threaded eigh (pycma) runs 100x slower
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.functions import classic as fn  # noqa: E402

ZOO_METHODS = ("rge", "spsa", "zo-sgd", "zo-signsgd", "cge", "rank-sgd")
ANCHORS = ("pycma", "ng-OnePlusOne")
UNIMODAL = {"sphere-1e-3", "sphere-1e3", "ellipsoid-1e6", "rosenbrock-0", "rosenbrock-randn", "sphere-noise"}


@dataclasses.dataclass
class Problem:
    """``f`` is vectorized and noise-free; ``noise`` (std) is added to what the optimizer sees."""

    name: str
    d: int
    f: Callable[[np.ndarray], np.ndarray]
    x0: Callable[[np.random.Generator], np.ndarray]
    scale: float = 1.0
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    noise: float = 0.0

    def objective(self, seed: int) -> Callable[[np.ndarray], np.ndarray]:
        if self.noise == 0.0:
            return self.f
        rng = np.random.default_rng(10_000 + seed)  # the noise has its own seeded stream per run

        def noisy(X):
            X = np.atleast_2d(X)
            return self.f(X) + self.noise * rng.standard_normal(len(X))

        return noisy


def _randn(d: int, scale: float = 1.0, shift: float = 0.0):
    return lambda rng: shift + scale * rng.standard_normal(d)


def _rotation(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _nan_halfspace(X):
    # sphere around 1, NaN where x_0 > 0.5: the unconstrained optimum lies in the NaN region, so every step
    # towards it risks a NaN probe; the best finite value is 0.25 on the face x_0 = 0.5
    X = np.atleast_2d(X)
    f = np.sum((X - 1.0) ** 2, axis=1)
    return np.where(X[:, 0] > 0.5, np.nan, f)


def _nan_x0(rng):
    x = rng.standard_normal(10)
    x[0] = -abs(x[0])  # start in the finite half-space
    return x


_RAST_SHIFT = np.random.default_rng(1234).uniform(-2.0, 2.0, 10)


def suite() -> list[Problem]:
    ones10 = np.ones(10)
    return [
        Problem("sphere-1e-3", 10, lambda X: 1e-3 * fn.sphere_np(np.atleast_2d(X) - ones10), _randn(10)),
        Problem("sphere-1e3", 10, lambda X: 1e3 * fn.sphere_np(np.atleast_2d(X) - ones10), _randn(10)),
        Problem("ellipsoid-1e6", 20, lambda X: fn.ellipsoid_np(np.atleast_2d(X)), _randn(20)),
        Problem("rosenbrock-0", 20, lambda X: fn.rosenbrock_np(np.atleast_2d(X)), lambda rng: np.zeros(20)),
        Problem("rosenbrock-randn", 20, lambda X: fn.rosenbrock_np(np.atleast_2d(X)), _randn(20)),
        Problem(
            "styblinski-tang",
            10,
            lambda X: fn.styblinski_tang_np(np.atleast_2d(X)),
            _randn(10),
            scale=2.5,
            bounds=(np.full(10, -5.0), np.full(10, 5.0)),
        ),
        Problem(
            "rastrigin-shifted",
            10,
            lambda X: fn.rastrigin_np(np.atleast_2d(X) - _RAST_SHIFT),
            _randn(10),
            scale=2.56,
            bounds=(np.full(10, -5.12), np.full(10, 5.12)),
        ),
        Problem("ackley-30", 30, lambda X: fn.ackley_np(np.atleast_2d(X)), _randn(30)),
        Problem("sphere-nan-halfspace", 10, _nan_halfspace, _nan_x0),
        Problem("sphere-noise", 10, lambda X: fn.sphere_np(np.atleast_2d(X) - ones10), _randn(10), noise=0.1),
    ]


def heldout() -> list[Problem]:
    """Problems the defaults were not tuned on: other scales, rotations, dimensions, far optima."""
    R40, R10 = _rotation(40, 7), _rotation(10, 8)
    w10 = 10.0 ** (4.0 * np.arange(10) / 9)
    far = np.full(8, 1e3)
    return [
        Problem(
            "sphere-rot-1e2-d40", 40, lambda X: 1e2 * fn.sphere_np(np.atleast_2d(X) @ R40.T - 0.5), _randn(40)
        ),
        Problem("ellipsoid-rot-1e4-d10", 10, lambda X: ((np.atleast_2d(X) @ R10.T) ** 2) @ w10, _randn(10)),
        Problem(
            "rosenbrock-d5-1e-2",
            5,
            lambda X: 1e-2 * fn.rosenbrock_np(np.atleast_2d(X)),
            lambda rng: np.zeros(5),
        ),
        Problem("levy-d20", 20, lambda X: fn.levy_np(np.atleast_2d(X)), _randn(20, 3.0), scale=3.0),
        Problem("griewank-d10", 10, lambda X: fn.griewank_np(np.atleast_2d(X)), _randn(10, 50.0), scale=50.0),
        Problem(
            "tiny-x-sphere-d10",
            10,
            lambda X: fn.sphere_np(np.atleast_2d(X) / 1e-4 - 1.0),
            _randn(10, 1e-4),
            scale=1e-4,
        ),
        Problem(
            "far-sphere-d8",
            8,
            lambda X: fn.sphere_np(np.atleast_2d(X) - far),
            lambda rng: np.zeros(8),
            scale=1e3,
        ),
        Problem(
            "abs-sum-d15",
            15,
            lambda X: np.sum(np.abs(np.atleast_2d(X) - 0.3), axis=1),
            _randn(15),
        ),
        Problem(
            "styblinski-d30-box",
            30,
            lambda X: fn.styblinski_tang_np(np.atleast_2d(X)),
            lambda rng: rng.uniform(-5, 5, 30),
            scale=2.5,
            bounds=(np.full(30, -5.0), np.full(30, 5.0)),
        ),
    ]


_W10 = 10.0 ** (3.0 * np.arange(10) / 9)


def noisy() -> list[Problem]:
    """Noisy problems the noise handling of the step control was not chosen on (it was chosen on sphere-noise)."""
    return [
        Problem(
            "ellipsoid-1e3-d10-noise1", 10, lambda X: (np.atleast_2d(X) ** 2) @ _W10, _randn(10), noise=1.0
        ),
        Problem(
            "rosenbrock-d5-noise0.1",
            5,
            lambda X: fn.rosenbrock_np(np.atleast_2d(X)),
            _randn(5, 0.5),
            scale=0.5,
            noise=0.1,
        ),
        Problem(
            "sphere-d30-noise1", 30, lambda X: fn.sphere_np(np.atleast_2d(X) - 0.5), _randn(30), noise=1.0
        ),
    ]


SUITES = {"main": suite, "heldout": heldout, "noisy": noisy}


# --------------------------------------------------------------------------------------------- runners
def _clean(problem: Problem, x: np.ndarray) -> float:
    v = float(problem.f(np.asarray(x, dtype=np.float64)[None, :])[0])
    return v if math.isfinite(v) else math.nan


def run_zoo(method: str, problem: Problem, x0: np.ndarray, budget: int, seed: int, options=None) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = zoo.minimize(
            problem.objective(seed),
            x0,
            method,
            budget=budget,
            seed=seed,
            vectorized=True,
            bounds=problem.bounds,
            options=options,
        )
    assert res.nfev <= budget, (method, problem.name, res.nfev, budget)
    opt = res.optimizer
    x_end = opt.x if hasattr(type(opt), "x") else res.x
    return {
        "f": _clean(problem, res.x),
        "f_end": _clean(problem, x_end),
        "success": int(res.status) not in (4, 6),  # 4: nothing finite found, 6: the method reports a failure
        "status": int(res.status),
        "message": res.message,
        "nfev": int(res.nfev),
        "warnings": len(caught),
    }


def _finite_stand_in(values: np.ndarray, worst: float) -> np.ndarray:
    bad = ~np.isfinite(values)
    return np.where(bad, worst + 1.0 + abs(worst), values) if bad.any() else values


def run_cma(problem: Problem, x0: np.ndarray, budget: int, seed: int) -> dict:
    import cma

    opts = {"seed": seed + 1, "verbose": -9, "maxfevals": budget, "tolfun": 0, "tolx": 0, "tolfunhist": 0}
    if problem.bounds is not None:
        opts["bounds"] = [list(problem.bounds[0]), list(problem.bounds[1])]
    es = cma.CMAEvolutionStrategy(x0, problem.scale, opts)
    fun = problem.objective(seed)
    nfev, best_x, best_f, worst = 0, x0.copy(), math.inf, -math.inf
    while nfev + es.popsize <= budget:
        X = np.array(es.ask())
        v = np.asarray(fun(X), dtype=np.float64)
        nfev += len(X)
        fin = v[np.isfinite(v)]
        if fin.size:
            worst = max(worst, float(fin.max()))
            i = int(np.argmin(np.where(np.isfinite(v), v, np.inf)))
            if v[i] < best_f:
                best_f, best_x = float(v[i]), X[i].copy()
        es.tell(list(X), list(_finite_stand_in(v, worst if worst > -math.inf else 0.0)))
        if es.stop():  # pycma's own termination (numerical precision reached, flat fitness...): plain CMA-ES
            break
    return {
        "f": _clean(problem, best_x),
        "f_end": _clean(problem, es.result.xfavorite),
        "success": True,
        "nfev": nfev,
    }


def run_ng(problem: Problem, x0: np.ndarray, budget: int, seed: int) -> dict:
    import nevergrad as ng

    param = ng.p.Array(init=x0).set_mutation(sigma=problem.scale)
    if problem.bounds is not None:
        param.set_bounds(problem.bounds[0], problem.bounds[1])
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.OnePlusOne(parametrization=param, budget=budget)
    fun = problem.objective(seed)
    worst = 0.0
    for _ in range(budget):
        c = opt.ask()
        v = float(fun(np.asarray(c.value)[None, :])[0])
        if math.isfinite(v):
            worst = max(worst, v)
        else:
            v = worst + 1.0 + abs(worst)
        opt.tell(c, v)
    x = np.asarray(opt.provide_recommendation().value)
    f = _clean(problem, x)
    return {"f": f, "f_end": f, "success": True, "nfev": budget}


def run(method: str, problem: Problem, budget: int, seed: int, options=None) -> dict:
    x0 = problem.x0(np.random.default_rng(seed))
    f0 = _clean(problem, x0)
    t = time.perf_counter()
    if method == "pycma":
        r = run_cma(problem, x0, budget, seed)
    elif method == "ng-OnePlusOne":
        r = run_ng(problem, x0, budget, seed)
    else:
        r = run_zoo(method, problem, x0, budget, seed, options)
    r["time"] = time.perf_counter() - t
    r["f0"] = f0
    bad = [v for v in (r["f"], r["f_end"]) if not (v <= f0)]  # NaN compares False: counts as worse
    r["worse"] = bool(bad)
    return r


def _run_task(task) -> dict:
    suite_name, name, budget, method, seed, opts = task
    problem = next(p for p in SUITES[suite_name]() if p.name == name)
    return run(method, problem, budget, seed, json.loads(opts))


# --------------------------------------------------------------------------------------------- report
def _fmt(v: float) -> str:
    return "nan" if not math.isfinite(v) else f"{v:.3g}"


def _summary(records, problems, mults, methods) -> None:
    """Markdown tables, one per budget: median f over seeds per problem and method (runs worse than f(x0))."""
    for b in mults:
        print(f"\n### summary at {b}*d: median f over seeds [runs worse than f(x0)]\n")
        print("| problem | f(x0) | " + " | ".join(methods) + " |")
        print("|---" * (len(methods) + 2) + "|")
        for p in problems:
            cells = []
            f0 = [r["f0"] for r in records if r["problem"] == p.name]
            for m in methods:
                rows = [
                    r
                    for r in records
                    if r["problem"] == p.name and r["budget"] == b * p.d and r["method"] == m
                ]
                fs = np.array([r["f"] for r in rows])
                med = _fmt(float(np.median(np.where(np.isnan(fs), np.inf, fs)))) if rows else "-"
                worse = sum(r["worse"] for r in rows)
                cells.append(med + (f" [{worse}]" if worse else ""))
            print(f"| {p.name} | {_fmt(float(np.median(f0)))} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=tuple(SUITES), default="main")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budgets", default="200,1000", help="budgets as multiples of d, comma-separated")
    ap.add_argument("--methods", default=",".join(ZOO_METHODS + ANCHORS))
    ap.add_argument("--problems", default="", help="comma-separated problem names (default: all)")
    ap.add_argument("--options", default="{}", help='JSON {"method": {options}} for zoo methods')
    ap.add_argument("--json", default="", help="write every run's record to this file")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes (the runs are independent)")
    args = ap.parse_args()

    problems = SUITES[args.suite]()
    if args.problems:
        keep = set(args.problems.split(","))
        problems = [p for p in problems if p.name in keep]
    methods = args.methods.split(",")
    mults = [int(b) for b in args.budgets.split(",")]
    options = json.loads(args.options)
    records = []
    totals = {m: [0, 0] for m in methods}  # worse runs, all runs
    t_all = time.perf_counter()
    tasks = [
        (args.suite, p.name, mult * p.d, m, s, json.dumps(options.get(m)))
        for p in problems
        for mult in mults
        for m in methods
        for s in range(args.seeds)
    ]
    if args.jobs > 1:  # every run is seeded on its own, so the numbers do not depend on the number of jobs
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs) as pool:
            done = dict(zip(tasks, pool.map(_run_task, tasks, chunksize=1), strict=True))
    else:
        done = {}
    for p in problems:
        for mult in mults:
            budget = mult * p.d
            print(f"\n### {p.name} (d={p.d}), budget {mult}*d = {budget}")
            print(f"{'method':<15} {'median f':>10} {'worse':>6} {'ok':>4} {'time':>6}   f per seed (f_end)")
            for m in methods:
                keys = [
                    (args.suite, p.name, budget, m, s, json.dumps(options.get(m))) for s in range(args.seeds)
                ]
                rows = [done[k] if k in done else _run_task(k) for k in keys]
                for s, r in enumerate(rows):
                    records.append(
                        {"problem": p.name, "d": p.d, "budget": budget, "method": m, "seed": s, **r}
                    )
                fs = np.array([r["f"] for r in rows])
                med = float(np.median(np.where(np.isnan(fs), np.inf, fs)))
                n_worse = sum(r["worse"] for r in rows)
                totals[m][0] += n_worse
                totals[m][1] += len(rows)
                n_ok = sum(r["success"] for r in rows)
                per_seed = " ".join(
                    _fmt(r["f"]) + ("" if r["f_end"] == r["f"] else f"({_fmt(r['f_end'])})") for r in rows
                )
                t = np.median([r["time"] for r in rows])
                warn = sum(r.get("warnings", 0) for r in rows)
                extra = f"  [{warn} warnings]" if warn else ""
                print(
                    f"{m:<15} {_fmt(med):>10} {n_worse}/{len(rows):<4} {n_ok:>4} {t:>5.1f}s   {per_seed}{extra}",
                    flush=True,
                )
            print(f"{'f(x0)':<15} {_fmt(float(np.median([r['f0'] for r in rows]))):>10}")
    print("\n### runs that end worse than f(x0), all problems and budgets")
    for m, (w, n) in totals.items():
        print(f"{m:<15} {w}/{n}")
    _summary(records, problems, mults, methods)
    if args.suite == "main" and "rge" in methods and "pycma" in methods and 1000 in mults:
        print("\n### rge median / pycma median on the unimodal problems at 1000*d (target <= 10)")
        for p in problems:
            if p.name not in UNIMODAL:
                continue
            b = 1000 * p.d
            med = {}
            for m in ("rge", "pycma"):
                fs = [
                    r["f"]
                    for r in records
                    if r["problem"] == p.name and r["budget"] == b and r["method"] == m
                ]
                med[m] = float(np.median(fs)) if fs else math.nan
            ratio = med["rge"] / med["pycma"] if med["pycma"] > 0 else math.inf
            print(
                f"{p.name:<22} rge {_fmt(med['rge']):>10}  pycma {_fmt(med['pycma']):>10}  "
                f"ratio {_fmt(ratio):>8}  {'met' if ratio <= 10 else 'MISSED'}"
            )
    print(f"\ntotal time {time.perf_counter() - t_all:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh)
    missed = [m for m in methods if m not in ANCHORS and totals[m][0]]
    if missed:  # the suite's target: no zoo method with its defaults ends worse than f(x0)
        print(f"TARGET MISSED: runs worse than f(x0) for {', '.join(missed)}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
