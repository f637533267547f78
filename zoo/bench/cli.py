"""``zoo bench bbob``: the COCO/BBOB benchmark from the command line (docs/bbob.md).

Every argument is checked before anything runs: a bad one exits with status 2 and one line naming it.
A finished run exits 0, or 1 when some library failed on some problem (the tables count those as errors).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from zoo.bench.plots import ecdf_plot
from zoo.bench.runner import ANCHORS, method_budgets, parse_indices, run_benchmark
from zoo.bench.scoring import (
    N_TARGETS,
    complete_problems,
    format_table,
    group_table,
    per_function_table,
    score,
)
from zoo.bench.suite import check_dimension


def _check(args: argparse.Namespace) -> tuple[list, list, list]:
    check_dimension(args.dim)
    if not args.budget_per_dim > 0:
        raise ValueError(f"--budget-per-dim must be positive, got {args.budget_per_dim:g}")
    if args.anchor_cache is not None and args.coco_output is not None:
        raise ValueError("--anchor-cache with --coco-output: COCO's files come only from a run; drop one")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    methods = method_budgets(args.methods, args.dim, args.budget_per_dim)
    functions = parse_indices(args.functions)
    instances = parse_indices(args.instances)
    if any(not 1 <= f <= 24 for f in functions):
        raise ValueError(f"--functions must be in 1..24, got {functions}")
    if any(i < 1 for i in instances):
        raise ValueError(f"--instances must be >= 1, got {instances}")
    return methods, functions, instances


def _cmd_bbob(args: argparse.Namespace) -> int:
    methods, functions, instances = _check(args)
    import zoo

    for name, _ in methods:
        if name not in ANCHORS:
            zoo.get(name)  # an unknown name is a bad argument, before any run
    out = Path(args.out)
    t0 = time.perf_counter()
    if args.report_only:
        lines = (out / "runs.jsonl").read_text().splitlines() if (out / "runs.jsonl").exists() else []
        wanted = set(methods)
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
            coco_output=args.coco_output,
            anchor_cache=None if args.anchor_cache is None else Path(args.anchor_cache),
        )
    factors = [f for f in (1e2, 1e3, 1e4) if f <= args.budget_per_dim] or [args.budget_per_dim]
    table = score(results, args.dim, factors)
    print(
        f"bbob d={args.dim}, functions {args.functions}, instances {args.instances}: fraction of "
        f"(function, instance, target) triples solved, {N_TARGETS} targets 1e2..1e-8 "
        f"({time.perf_counter() - t0:.0f} s wall)"
    )
    print(format_table(table, args.dim, factors))
    print("\nper function group:")
    print(group_table(results, args.dim, factors))
    if args.by_function:
        print("\nper function, fraction of (instance, target) solved at each method's budget:")
        print(per_function_table(results, args.dim))
    png = ecdf_plot(results, args.dim, args.plot or out / f"bbob-d{args.dim}-ecdf.png")
    print(f"plot: {png}")
    if args.coco_output:
        print(f"COCO data: {Path(args.coco_output) / 'exdata'} (one folder per method; cocopp reads them)")
    errors = sum(r["error"] is not None for r in results)
    if errors:
        print(f"{errors} runs failed inside a library (the 'error' field of {out / 'runs.jsonl'})")
    return 1 if errors else 0


def add_cli(subparsers: Any) -> None:
    """``zoo bench bbob``: the COCO/BBOB benchmark."""
    bench = subparsers.add_parser("bench", help="benchmarks (bbob)")
    sub = bench.add_subparsers(dest="bench_command", metavar="BENCH")
    p = sub.add_parser("bbob", help="COCO/BBOB: fraction of (function, instance, target) solved, ECDF plot")
    p.add_argument(
        "--methods",
        default="auto,cma-bipop,pycma-bipop,pycma-ipop",
        help=f"comma-separated zoo methods (and {', '.join(ANCHORS)}); NAME@B: B evaluations per dimension",
    )
    p.add_argument("--dim", type=int, default=10, help="dimension: 2, 3, 5, 10, 20 or 40 (default 10)")
    p.add_argument(
        "--budget-per-dim", type=float, default=10000, help="evaluations per dimension (default 1e4)"
    )
    p.add_argument("--functions", default="1-24", help="bbob functions, e.g. 1-24 or 1,8,15 (default 1-24)")
    p.add_argument("--instances", default="1-5", help="instances (default 1-5)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes over problems (default 1)")
    p.add_argument("--out", default="zoo-out/bbob", help="folder for runs.jsonl and the plot")
    p.add_argument("--plot", default=None, help="PNG path of the ECDF plot (default OUT/bbob-dD-ecdf.png)")
    p.add_argument(
        "--coco-output",
        default=None,
        metavar="DIR",
        help="also write COCO's own data files (for cocopp) under DIR/exdata/<method>/",
    )
    p.add_argument(
        "--anchor-cache",
        default=None,
        metavar="FILE",
        help="JSON lines of pycma anchor runs: reuse those found (deterministic for a seed), add the new ones",
    )
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
