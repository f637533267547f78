"""COCO/BBOB benchmark: ``zoo bench bbob --methods cbo,ga,cma-ipop,ng:NGOpt --dim 10``.

Runs the 24 noiseless ``bbob`` functions (Hansen et al. 2009, "Real-parameter black-box optimization
benchmarking 2009: noiseless functions definitions"; COCO: Hansen et al. 2021, Optimization Methods and
Software) through ``cocoex`` without its observer (no ``exdata/`` folder): every method runs once on every
(function, instance) problem, from the origin with bounds [-5, 5]^d, and its best-so-far trace
(evaluation count at each improvement, ``f - f_opt``) is recorded. One run gives every budget.

Score: a (function, instance, target) triple is solved at budget B if ``f - f_opt <= target`` within B
evaluations; 51 targets ``10^2 ... 10^-8`` (log-uniform). The table gives the fraction of triples solved at
``1e2 d, 1e3 d, 1e4 d`` (scaled by the run's budget); the ECDF plot the fraction against evaluations / d.

Methods: any zoo name (``zoo methods``, ``ng:<Name>``) and the anchor ``pycma-ipop`` (``cma.fmin2`` with
IPOP restarts, the reference run). ``NAME@B`` runs NAME with ``B`` evaluations per dimension.
Results are appended per problem to a JSON-lines file, so ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

N_TARGETS = 51
ANCHOR = "pycma-ipop"


def targets() -> np.ndarray:
    """The 51 targets on ``f - f_opt``: ``10^2, 10^1.8, ..., 10^-8``."""
    return 10.0 ** np.linspace(2.0, -8.0, N_TARGETS)


def parse_indices(text: str) -> list[int]:
    """``"1-5"`` -> [1..5]; ``"1,3,7-9"`` -> [1, 3, 7, 8, 9]."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    if not out:
        raise ValueError(f"no indices in {text!r} (expected e.g. '1-5' or '1,3,7')")
    return out


# ----------------------------------------------------------------------------------------------- scoring
def hitting_evals(trace_evals: Sequence[int], trace_delta: Sequence[float], tgts: np.ndarray) -> np.ndarray:
    """For each target, the first evaluation count at which the best-so-far ``f - f_opt <= target``
    (``inf`` if never). ``trace_delta`` must be the best-so-far (non-increasing) at ``trace_evals``."""
    ev = np.asarray(trace_evals, dtype=np.float64)
    de = np.minimum.accumulate(np.asarray(trace_delta, dtype=np.float64)) if len(trace_delta) else np.zeros(0)
    out = np.full(len(tgts), np.inf)
    for k, t in enumerate(tgts):
        hit = np.flatnonzero(de <= t)
        if hit.size:
            out[k] = ev[hit[0]]
    return out


def fraction_solved(hits: np.ndarray, budget: float) -> float:
    """Fraction of (problem, target) pairs (the rows and columns of ``hits``) solved within ``budget``."""
    hits = np.asarray(hits, dtype=np.float64)
    return float(np.mean(hits <= budget)) if hits.size else float("nan")


def ecdf(hits: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Fraction of triples solved at each budget (the ECDF of the hitting evaluation counts)."""
    flat = np.sort(np.asarray(hits, dtype=np.float64).ravel())
    return np.searchsorted(flat, budgets, side="right") / max(flat.size, 1)


# ----------------------------------------------------------------------------------------------- running
def _problem(function: int, instance: int, dim: int) -> Any:
    import cocoex

    suite = cocoex.Suite(
        "bbob", "", f"dimensions:{dim} instance_indices:{instance} function_indices:{function}"
    )
    return suite.get_problem_by_function_dimension_instance(function, dim, instance)


def optimal_value(function: int, instance: int, dim: int) -> float:
    """``f_opt`` of a bbob problem: cocoex writes x_opt into the working directory; read it in a temp dir."""
    problem = _problem(function, instance, dim)
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            problem._best_parameter("print")
            x_opt = np.loadtxt("._bbob_problem_best_parameter.txt").reshape(dim)
        finally:
            os.chdir(cwd)
    return float(problem(x_opt))


class _Trace:
    """Best-so-far trace of one run: (evaluation count, f - f_opt) at each improvement."""

    def __init__(self, f_opt: float) -> None:
        self.f_opt = f_opt
        self.nfev = 0
        self.best = math.inf
        self.evals: list[int] = []
        self.deltas: list[float] = []

    def record(self, values: np.ndarray) -> None:
        for v in values:
            self.nfev += 1
            d = float(v) - self.f_opt
            if d < self.best:
                self.best = d
                self.evals.append(self.nfev)
                self.deltas.append(d)


def run_problem(
    method: str, function: int, instance: int, dim: int, budget: int, seed: int, final_target: float = 1e-8
) -> dict[str, Any]:
    """One run of ``method`` on bbob f``function`` instance ``instance``; returns its trace as a dict."""
    problem = _problem(function, instance, dim)
    f_opt = optimal_value(function, instance, dim)
    trace = _Trace(f_opt)
    t0 = time.perf_counter()
    error = None
    try:
        if method == ANCHOR:
            _run_pycma_ipop(problem, trace, dim, budget, seed, f_opt + final_target)
        else:
            _run_zoo(method, problem, trace, dim, budget, seed, f_opt + final_target)
    except Exception as exc:  # a library failing on one problem keeps what it reached, flagged
        error = f"{type(exc).__name__}: {exc}"[:300]
        traceback.print_exc(limit=2)
    return {
        "method": method,
        "function": function,
        "instance": instance,
        "dim": dim,
        "budget": budget,
        "seed": seed,
        "evals": trace.evals,
        "deltas": trace.deltas,
        "nfev": trace.nfev,
        "seconds": time.perf_counter() - t0,
        "error": error,
    }


def _evaluate(problem: Any, X: np.ndarray) -> np.ndarray:
    return np.fromiter((problem(x) for x in X), dtype=np.float64, count=len(X))


def _run_zoo(
    method: str, problem: Any, trace: _Trace, dim: int, budget: int, seed: int, f_stop: float
) -> None:
    import zoo

    lo, hi = np.asarray(problem.lower_bounds), np.asarray(problem.upper_bounds)
    opt = zoo.make(
        method,
        x0=np.asarray(problem.initial_solution, dtype=np.float64),
        seed=seed,
        bounds=(lo, hi),
        budget=budget,
        f_target=f_stop,
    )
    while not opt.stop():
        X = opt.ask()
        values = _evaluate(problem, X)
        trace.record(values)
        opt.tell(X, values)


def _run_pycma_ipop(problem: Any, trace: _Trace, dim: int, budget: int, seed: int, f_stop: float) -> None:
    """The anchor: pycma's own IPOP (``cma.fmin2(restarts=9, incpopsize=2)``), sigma0 = 2, restarts from
    uniform points in [-4, 4]^d, as in pycma's COCO example experiment."""
    import cma

    lo, hi = np.asarray(problem.lower_bounds), np.asarray(problem.upper_bounds)
    rng = np.random.default_rng(seed)
    starts = iter([np.asarray(problem.initial_solution, dtype=np.float64)])

    def x0() -> np.ndarray:
        return _next_start(starts, rng, lo, hi)

    def fun(x: np.ndarray) -> float:
        if trace.nfev >= budget:
            raise _BudgetSpent
        v = problem(x)
        trace.record(np.array([v]))
        return v

    try:
        cma.fmin2(
            fun,
            x0,
            2.0,
            {
                "maxfevals": budget,
                "ftarget": f_stop,
                "verbose": -9,
                "verb_log": 0,
                "verb_disp": 0,
                "seed": seed + 1,
            },
            restarts=9,
            incpopsize=2,
        )
    except _BudgetSpent:
        pass


class _BudgetSpent(Exception):
    pass


def _next_start(starts: Any, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    first = next(starts, None)
    if first is not None:
        return first
    return rng.uniform(0.8 * lo, 0.8 * hi)


def _task(args: tuple) -> dict[str, Any]:
    return run_problem(*args)


def method_budgets(spec: str, dim: int, budget_per_dim: int) -> list[tuple[str, int]]:
    """``"cbo,ng:NGOpt@1000"`` -> [("cbo", 1e4 d), ("ng:NGOpt", 1e3 d)] (evaluations per run)."""
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, per_dim = item.partition("@")
        out.append((name, int(float(per_dim) * dim) if per_dim else int(budget_per_dim * dim)))
    if not out:
        raise ValueError("--methods is empty")
    return out


def run_benchmark(
    methods: list[tuple[str, int]],
    functions: list[int],
    instances: list[int],
    dim: int,
    out_jsonl: Path,
    jobs: int = 1,
    resume: bool = False,
    progress: bool = True,
    seed: int = 0,
) -> list[dict]:
    """Run every method on every problem (instance by instance), appending each result to ``out_jsonl``.
    Run seeds are ``1000 f + i + 100000 seed`` (the same for every method on a problem)."""
    import zoo

    for name, _ in methods:
        if name != ANCHOR:
            zoo.get(name)  # an unknown name fails now, not in a worker
    done: dict[tuple, dict] = {}
    if resume and out_jsonl.exists():
        for line in out_jsonl.read_text().splitlines():
            r = json.loads(line)
            done[(r["method"], r["function"], r["instance"], r["dim"], r["budget"])] = r
    elif out_jsonl.exists():
        out_jsonl.unlink()
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    # instance-major order: an interrupted run has every method on the same problems, spread over all functions
    tasks = [
        (name, f, i, dim, b, 1000 * f + i + 100_000 * seed)
        for i in instances
        for f in functions
        for name, b in methods
        if (name, f, i, dim, b) not in done
    ]
    results = list(done.values())
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), unit="run", dynamic_ncols=True)
    with out_jsonl.open("a") as fh:
        if jobs > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(jobs) as pool:
                for r in pool.imap(_task, tasks):
                    _save(fh, r, results, bar)
        else:
            for t in tasks:
                _save(fh, _task(t), results, bar)
    if bar is not None:
        bar.close()
    return results


def _save(fh: Any, r: dict, results: list, bar: Any) -> None:
    fh.write(json.dumps(r) + "\n")
    fh.flush()
    results.append(r)
    if bar is not None:
        bar.set_postfix_str(f"{r['method']} f{r['function']} i{r['instance']}", refresh=False)
        bar.update(1)


def score(results: list[dict], dim: int, factors: Sequence[float] = (1e2, 1e3, 1e4)) -> dict[str, dict]:
    """Per method: fraction of triples solved at ``factor * dim`` (NaN above the method's own budget)."""
    tg = targets()
    table: dict[str, dict] = {}
    for name in dict.fromkeys(r["method"] for r in results):
        runs = [r for r in results if r["method"] == name and r["dim"] == dim]
        hits = np.array([hitting_evals(r["evals"], r["deltas"], tg) for r in runs])
        budget = max(r["budget"] for r in runs)
        row = {
            f"{f:g}": (fraction_solved(hits, f * dim) if f * dim <= budget else float("nan")) for f in factors
        }
        row.update(
            problems=len(runs),
            errors=sum(r["error"] is not None for r in runs),
            seconds=sum(r["seconds"] for r in runs),
            budget=budget,
        )
        table[name] = row
    return table


def format_table(table: dict[str, dict], dim: int, factors: Sequence[float] = (1e2, 1e3, 1e4)) -> str:
    head = "| method | " + " | ".join(f"{f:.0e}·d".replace("e+0", "e") for f in factors)
    head += " | problems | errors | CPU s |\n|---|" + "---|" * (len(factors) + 3)
    rows = []
    for name, r in table.items():
        cells = " | ".join("—" if math.isnan(r[f"{f:g}"]) else f"{r[f'{f:g}']:.3f}" for f in factors)
        rows.append(f"| {name} | {cells} | {r['problems']} | {r['errors']} | {r['seconds']:.0f} |")
    return "\n".join([head, *rows])


def per_function_table(results: list[dict], dim: int) -> str:
    """Fraction of (instance, target) pairs solved per function, at each method's own budget."""
    tg = targets()
    names = list(dict.fromkeys(r["method"] for r in results))
    functions = sorted({r["function"] for r in results})
    lines = ["| f | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for f in functions:
        cells = []
        for name in names:
            runs = [r for r in results if r["method"] == name and r["function"] == f and r["dim"] == dim]
            hits = np.array([hitting_evals(r["evals"], r["deltas"], tg) for r in runs])
            cells.append(f"{fraction_solved(hits, max(r['budget'] for r in runs)):.2f}" if runs else "")
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def complete_problems(results: list[dict]) -> list[dict]:
    """The runs on the (function, instance) problems that every method has finished (for partial runs)."""
    names = {r["method"] for r in results}
    by_problem: dict[tuple, set] = {}
    for r in results:
        by_problem.setdefault((r["function"], r["instance"]), set()).add(r["method"])
    full = {k for k, v in by_problem.items() if v == names}
    return [r for r in results if (r["function"], r["instance"]) in full]


def ecdf_plot(results: list[dict], dim: int, path: str | Path, title: str = "") -> Path:
    """ECDF of (function, instance, target) triples solved against evaluations / d, every method, log x."""
    from zoo.plotting import _pyplot, save_figure

    plt = _pyplot()
    tg = targets()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    grid = np.logspace(0, 5, 300)
    for name in dict.fromkeys(r["method"] for r in results):
        runs = [r for r in results if r["method"] == name and r["dim"] == dim]
        hits = np.array([hitting_evals(r["evals"], r["deltas"], tg) for r in runs])
        budget = max(r["budget"] for r in runs) / dim
        g = grid[grid <= budget]
        ax.plot(g, ecdf(hits, g * dim), label=name, lw=1.6)
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("evaluations / dimension")
    ax.set_ylabel("fraction of (function, instance, target) solved")
    ax.set_title(title or f"bbob, d={dim}, 51 targets 1e2..1e-8")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path, dpi=90)


# ----------------------------------------------------------------------------------------------- CLI
def _cmd_bbob(args: argparse.Namespace) -> int:
    methods = method_budgets(args.methods, args.dim, args.budget_per_dim)
    functions = parse_indices(args.functions)
    instances = parse_indices(args.instances)
    if args.dim < 1:
        raise ValueError(f"--dim must be >= 1, got {args.dim}")
    if any(not 1 <= f <= 24 for f in functions):
        raise ValueError(f"--functions must be in 1..24, got {functions}")
    out = Path(args.out)
    t0 = time.perf_counter()
    if args.report_only:
        lines = (out / "runs.jsonl").read_text().splitlines() if (out / "runs.jsonl").exists() else []
        wanted = {(name, b) for name, b in methods}
        runs = {}
        for line in lines:
            r = json.loads(line)
            if (
                (r["method"], r["budget"]) in wanted
                and r["function"] in functions
                and r["instance"] in instances
            ):
                runs[(r["method"], r["function"], r["instance"])] = r
        results = complete_problems(list(runs.values()))
        if not results:
            raise ValueError(f"no complete problems in {out / 'runs.jsonl'} for these methods")
        done = sorted({(r["function"], r["instance"]) for r in results})
        print(f"report of {len(done)} problems finished by every method: {done}")
    else:
        results = run_benchmark(
            methods,
            functions,
            instances,
            args.dim,
            out / "runs.jsonl",
            jobs=args.jobs,
            resume=args.resume,
            progress=not args.quiet,
            seed=args.seed,
        )
    factors = [f for f in (1e2, 1e3, 1e4) if f <= args.budget_per_dim] or [args.budget_per_dim]
    table = score(results, args.dim, factors)
    print(
        f"bbob d={args.dim}, functions {args.functions}, instances {args.instances}: fraction of "
        f"(function, instance, target) triples solved, {N_TARGETS} targets 1e2..1e-8 "
        f"({time.perf_counter() - t0:.0f} s wall)"
    )
    print(format_table(table, args.dim, factors))
    if args.by_function:
        print("\nper function, fraction of (instance, target) solved at each method's budget:")
        print(per_function_table(results, args.dim))
    png = ecdf_plot(results, args.dim, args.plot or out / f"bbob-d{args.dim}-ecdf.png")
    print(f"plot: {png}")
    return 0


def add_cli(subparsers: Any) -> None:
    """``zoo bench bbob``: the COCO/BBOB benchmark."""
    bench = subparsers.add_parser("bench", help="benchmarks (bbob)")
    sub = bench.add_subparsers(dest="bench_command", metavar="BENCH")
    p = sub.add_parser("bbob", help="COCO/BBOB: fraction of (function, instance, target) solved, ECDF plot")
    p.add_argument(
        "--methods",
        default="cbo,ga,cma-ipop,ng:NGOpt",
        help=f"comma-separated zoo methods (and {ANCHOR!r}); NAME@B: B evaluations per dimension",
    )
    p.add_argument("--dim", type=int, default=10, help="dimension (default 10)")
    p.add_argument(
        "--budget-per-dim", type=float, default=10000, help="evaluations per dimension (default 1e4)"
    )
    p.add_argument("--functions", default="1-24", help="bbob functions, e.g. 1-24 or 1,8,15 (default 1-24)")
    p.add_argument("--instances", default="1-5", help="instances (default 1-5)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes over problems (default 1)")
    p.add_argument("--out", default="zoo-out/bbob", help="folder for runs.jsonl and the plot")
    p.add_argument("--plot", default=None, help="PNG path of the ECDF plot (default OUT/bbob-dD-ecdf.png)")
    p.add_argument("--resume", action="store_true", help="keep the runs already in OUT/runs.jsonl")
    p.add_argument("--seed", type=int, default=0, help="seed offset of the runs (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--by-function", action="store_true", help="also print the fraction solved per function")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: score the problems of OUT/runs.jsonl finished by every method",
    )
    p.set_defaults(func=_cmd_bbob)
    bench.set_defaults(func=lambda a: bench.print_help() or 0)
