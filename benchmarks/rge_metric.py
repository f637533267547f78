"""rge's learned metric (issue 16, session 5): progress against the condition number, the number of directions a
step, and the cost per query, side by side with zo-adam (rge without the metric) and pycma.

    python benchmarks/rge_metric.py --part condition   # ellipsoids, condition 1e2..1e6, axis-aligned and rotated
    python benchmarks/rge_metric.py --part q           # q = 1, 2, 4 on five problems, 10 seeds
    python benchmarks/rge_metric.py --part overhead    # seconds per query, rge / zo-adam, d = 10 .. 400

Every run is seeded on its own (x0 drawn with the seed); ``f`` is the best value seen. pycma: sigma0 = 1 (the scale
of x0 ~ N(0, I)), its own termination, as in benchmarks/robustness.py.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.functions import classic as fn  # noqa: E402


def _rotation(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def ellipsoid(d: int, cond: float, rotated: bool):
    w = cond ** (np.arange(d) / (d - 1))
    R = _rotation(d, 11) if rotated else None

    def f(X):
        X = np.atleast_2d(X)
        return ((X @ R.T) ** 2 if rotated else X**2) @ w

    return f


def problem(name: str):
    """``(f, x0 from a generator, d)``."""
    if name.startswith("ell"):  # ell-<cond>-<axis|rot>-d<d>
        _, cond, kind, d = name.split("-")
        d = int(d[1:])
        return ellipsoid(d, float(cond), kind == "rot"), lambda rng: rng.standard_normal(d), d
    if name == "rosenbrock-0":
        return lambda X: fn.rosenbrock_np(np.atleast_2d(X)), lambda rng: np.zeros(20), 20
    if name == "rosenbrock-randn":
        return lambda X: fn.rosenbrock_np(np.atleast_2d(X)), lambda rng: rng.standard_normal(20), 20
    if name == "rosenbrock-d5-1e-2":
        return lambda X: 1e-2 * fn.rosenbrock_np(np.atleast_2d(X)), lambda rng: np.zeros(5), 5
    raise ValueError(name)


def run(task) -> float:
    name, method, options, mult, seed = task
    f, x0f, d = problem(name)
    x0 = x0f(np.random.default_rng(seed))
    budget = mult * d
    if method == "pycma":
        import cma

        opts = {"seed": seed + 1, "verbose": -9, "maxfevals": budget, "tolfun": 0, "tolx": 0, "tolfunhist": 0}
        es = cma.CMAEvolutionStrategy(x0, 1.0, opts)
        n, best = 0, np.inf
        while n + es.popsize <= budget and not es.stop():
            X = np.array(es.ask())
            v = f(X)
            n += len(X)
            best = min(best, float(v.min()))
            es.tell(list(X), list(v))
        return best
    res = zoo.minimize(f, x0, method, budget=budget, seed=seed, vectorized=True, options=options)
    return float(res.fun)


def _table(names, columns, seeds, mult, jobs):
    tasks = [(n, m, o, mult, s) for n in names for (_, m, o) in columns for s in range(seeds)]
    with ProcessPoolExecutor(jobs) as pool:
        out = dict(zip(tasks, pool.map(_thaw_run, tasks, chunksize=1), strict=True))
    print("| problem | f(x0) median | " + " | ".join(label for label, _, _ in columns) + " |")
    print("|---" * (len(columns) + 2) + "|")
    for n in names:
        f, x0f, _ = problem(n)
        f0 = np.median([f(x0f(np.random.default_rng(s)))[0] for s in range(seeds)])
        cells = []
        for _, m, o in columns:
            v = [out[(n, m, o, mult, s)] for s in range(seeds)]
            cells.append(f"{np.median(v):.3g} [{min(v):.2g} .. {max(v):.2g}]")
        print(f"| {n} | {f0:.3g} | " + " | ".join(cells) + " |", flush=True)


def part_condition(args) -> None:
    names = [f"ell-{c:g}-axis-d20" for c in (1e2, 1e4, 1e6)] + ["ell-1e+06-rot-d20", "ell-1e+04-rot-d10"]
    columns = [
        ("rge (metric auto = full)", "rge", None),
        ("rge metric=diag", "rge", {"metric": "diag"}),
        ("zo-adam (no metric)", "zo-adam", None),
        ("pycma", "pycma", None),
    ]
    for mult in args.mults:
        print(f"\n### ellipsoids at {mult}*d: median best f over {args.seeds} seeds [min .. max]\n")
        _table(names, [(label, m, _freeze(o)) for label, m, o in columns], args.seeds, mult, args.jobs)


def part_q(args) -> None:
    names = [
        "rosenbrock-0",
        "rosenbrock-randn",
        "ell-1e+06-axis-d20",
        "ell-1e+04-rot-d10",
        "rosenbrock-d5-1e-2",
    ]
    columns = [(f"rge q={q}", "rge", _freeze({"q": q})) for q in (1, 2, 4)]
    for mult in args.mults:
        print(
            f"\n### rge's directions a step at {mult}*d: median best f over {args.seeds} seeds [min .. max]\n"
        )
        _table(names, columns, args.seeds, mult, args.jobs)


def part_overhead(args) -> None:
    """Seconds per query on an ellipsoid of condition 1e6 (the objective costs ~nothing; 50 d queries, too few to
    converge, so the metric runs the whole time), rge and zo-adam alternated in one process, median of repeats: the
    ratio per query is what a user pays for the metric."""
    print(
        "\n### seconds per query, ellipsoid 1e6, 50 d queries, median of repeats (alternated in one process)\n"
    )
    print("| d | rge metric | metric still on at the end | rge us/query | zo-adam us/query | ratio |")
    print("|---|---|---|---|---|---|")
    for d in (10, 50, 100, 200, 400):
        f = ellipsoid(d, 1e6, False)
        x0 = np.random.default_rng(0).standard_normal(d)
        times = {"rge": [], "zo-adam": []}
        on = []
        for rep in range(args.repeats):
            for m in ("rge", "zo-adam"):
                t = time.perf_counter()
                res = zoo.minimize(f, x0, m, budget=50 * d, seed=rep, vectorized=True)
                times[m].append((time.perf_counter() - t) / res.nfev)
                if m == "rge":
                    on.append(bool(res.step_control.get("metric_used", False)))
        kind = zoo.make("rge", x0=x0, seed=0)._metric
        a, b = np.median(times["rge"]), np.median(times["zo-adam"])
        print(
            f"| {d} | {kind} | {sum(on)}/{len(on)} | {1e6 * a:.1f} | {1e6 * b:.1f} | {a / b:.2f} |",
            flush=True,
        )


def _freeze(o):
    return None if o is None else tuple(sorted(o.items()))


def _thaw_run(task):
    name, method, options, mult, seed = task
    return run((name, method, None if options is None else dict(options), mult, seed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("condition", "q", "overhead"), required=True)
    ap.add_argument("--seeds", type=int, default=None, help="default: 5 (condition), 10 (q)")
    ap.add_argument("--budgets", default="1000", help="multiples of d, comma-separated")
    ap.add_argument("--repeats", type=int, default=5, help="overhead: repeats per method and d")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    args.mults = [int(b) for b in args.budgets.split(",")]
    if args.seeds is None:
        args.seeds = 10 if args.part == "q" else 5
    t = time.perf_counter()
    {"condition": part_condition, "q": part_q, "overhead": part_overhead}[args.part](args)
    print(f"\ntotal time {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
