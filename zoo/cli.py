"""The ``zoo`` command.

    zoo methods                          list every registered method
    zoo minimize rosenbrock --dim 100 --method rge --budget 2000 --seed 0
    zoo minimize mysim:run --dim 10 --method cma --workers 4 --log run.jsonl --checkpoint run.npz --out res.json
    zoo demo                             a short tour of what zoo does, with convergence plots

Other parts add their own sub-commands (``zoo bench``, ``zoo rank``, ``zoo train``, ``zoo federate``): each is a
module with ``add_cli(subparsers)`` listed in ``PLUGINS``; modules are imported only to build the parser, so they
keep heavy imports (torch, ray) inside their command functions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

import numpy as np

from zoo.cli_types import Parser, nonnegative_int, positive_int

# module paths with an ``add_cli(subparsers)`` function; a module that does not exist yet is skipped
PLUGINS = (
    "zoo.bench.cli",
    "zoo.session.cli",
    "zoo.torch.cli",
    "zoo.federated.cli",
    "zoo.synth.cli",
)


def _cmd_methods(args: argparse.Namespace) -> int:
    import zoo

    for name in zoo.methods():
        cls = zoo.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:<16} {doc[0] if doc else ''}")
    return 0


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in pairs:
        if "=" not in item:
            raise ValueError(f"--option takes KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _cmd_minimize(args: argparse.Namespace) -> int:
    import zoo

    if ":" in args.function:  # the user's own objective (zoo.core.objective_cli)
        from zoo.core.objective_cli import run

        return run(args, _parse_options(args.option))
    if args.function not in zoo.functions.names():
        raise ValueError(
            f"argument function: unknown function {args.function!r}; a built-in ({', '.join(zoo.functions.names())}) "
            "or your own as module:function / path/to/file.py:function"
        )
    for flag in ("space", "resume", "checkpoint", "out", "log", "bounds", "timeout"):
        if getattr(args, flag) is not None:
            raise ValueError(f"--{flag} is for a user objective (module:function), not a built-in function")
    args.dim = 10 if args.dim is None else args.dim
    fn = zoo.functions.get(args.function)
    rng = np.random.default_rng(args.seed)
    if args.x0 == "normal":
        x0 = rng.standard_normal(args.dim)
    elif args.x0 == "uniform":
        lo, hi = fn.bounds(args.dim)
        x0 = rng.uniform(lo, hi)
    else:
        try:
            x0 = np.full(args.dim, float(args.x0))
        except ValueError:
            raise ValueError(f"--x0 must be 'normal', 'uniform' or a number, got {args.x0!r}") from None
        if not np.isfinite(x0).all():
            raise ValueError(f"--x0 must be finite, got {args.x0!r}")
    f0 = float(fn(x0)[0])
    budget = args.budget if args.budget is not None else zoo.core.driver.DEFAULT_BUDGET_PER_DIM * args.dim
    res = zoo.minimize(
        fn,
        x0,
        method=args.method,
        budget=budget,
        seed=args.seed,
        vectorized=args.workers == 1,
        options=_parse_options(args.option),
        progress=not args.quiet,
        workers=args.workers,
        asynchronous=args.asynchronous,
    )
    print(f"method   {res.method}   seed {res.seed}")
    print(f"f(x0)    {f0:.6g}")
    print(
        f"best f   {res.fun:.6g}   (f/f0 = {res.fun / f0 if f0 else float('nan'):.4g}, "
        f"optimum {fn.minimum(args.dim):.6g})"
    )
    print(f"queries  {res.nfev} of {budget}   rounds {res.nit}   non-finite {res.n_nonfinite}")
    print(f"stopped  {res.message}")
    if args.plot:
        from zoo.plotting import convergence_plot

        path = convergence_plot({res.method: res}, args.plot, title=f"{fn.name}, d={args.dim}", f0=f0)
        print(f"plot     {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from zoo.demo import run_demo

    return run_demo(args.out, quick=args.quick, only=args.only)


def build_parser() -> argparse.ArgumentParser:
    import zoo

    parser = Parser(
        prog="zoo",
        description="zoo: zeroth-order and derivative-free optimization (ask/tell, Numba kernels, "
        "forward-only network training, federated ZO).",
    )
    parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("methods", help="list the registered methods")
    p.set_defaults(func=_cmd_methods)

    p = sub.add_parser("minimize", help="minimize a built-in test function or your own (module:function)")
    p.add_argument(
        "function",
        help=f"a built-in test function ({', '.join(zoo.functions.names())}) or your objective as "
        "module:function or path/to/file.py:function (one point in, one number out)",
    )
    p.add_argument("--dim", type=positive_int, default=None, help="dimension d (default 10 for a built-in)")
    p.add_argument("--method", default="rge", help="a registered method (see `zoo methods`), default rge")
    p.add_argument("--budget", type=positive_int, default=None, help="query budget (default 1000*d)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the run and of x0 (default 0)")
    p.add_argument(
        "--x0", default="normal", help="'normal' (N(0,I), default), 'uniform' (in the domain) or a number"
    )
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a method option, e.g. -o q=4 (repeatable; each method's options are in docs/methods/NAME.md; "
        "for rge, -o lr / -o mu also switch its learned metric off)",
    )
    p.add_argument("--plot", metavar="PNG", help="write a convergence plot")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=positive_int, default=1, help="evaluate each batch in N local processes")
    p.add_argument(
        "--asynchronous",
        action="store_true",
        help="use results as they arrive (ga, random-search; with --workers)",
    )
    p.add_argument("--timeout", type=float, default=None, help="seconds per evaluation (longer: a fault)")
    p.add_argument(
        "--bounds",
        type=float,
        nargs=2,
        metavar=("LOWER", "UPPER"),
        help="a box, the same on every coordinate",
    )
    p.add_argument("--space", metavar="JSON", help="a search space file (zoo.space.Space.spec() form)")
    p.add_argument("--vectorized", action="store_true", help="the objective takes a batch (n, d)")
    p.add_argument("--log", metavar="PATH", help="run log of every evaluation (.jsonl or .csv)")
    p.add_argument("--checkpoint", metavar="NPZ", help="save the optimizer after every round (and on error)")
    p.add_argument("--resume", metavar="NPZ", help="continue from a checkpoint of the same command")
    p.add_argument("--out", metavar="JSON", help="write the result (x, fun, nfev, status, ...) as JSON")
    p.set_defaults(func=_cmd_minimize)

    p = sub.add_parser("demo", help="a short tour of zoo, writing convergence plots (PNG)")
    p.add_argument("--out", default="zoo-demo", help="folder for the plots (default ./zoo-demo)")
    p.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    p.add_argument("--only", action="append", default=None, help="run only these sections (repeatable)")
    p.set_defaults(func=_cmd_demo)

    for module in PLUGINS:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                continue  # that part of zoo is not built (yet)
            raise
        mod.add_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``zoo`` command. Exit status: 0 done, 1 the objective failed, 2 bad input, 130 interrupted.

    Bad input (a bad flag, a file that is not what was asked for, a missing optional extra) is one line on
    stderr, never a traceback; set ``ZOO_DEBUG=1`` to see the traceback anyway."""
    from zoo.core.oracle import ObjectiveError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    prog = f"zoo {args.command}"
    try:
        return int(args.func(args) or 0)
    except ObjectiveError as exc:
        if os.environ.get("ZOO_DEBUG"):
            raise
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, OSError, ImportError) as exc:
        if os.environ.get("ZOO_DEBUG"):
            raise
        hint = ""
        if isinstance(exc, ImportError) and (exc.name or "").split(".")[0] in _EXTRAS:
            hint = f" (an optional dependency of zoo is missing: pip install {exc.name.split('.')[0]})"
        print(f"{prog}: error: {_one_line(exc)}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


# modules of zoo's optional extras (pyproject.toml): a missing one gets an install hint
_EXTRAS = ("torch", "ray", "flwr", "cma", "nevergrad", "cocoex", "cocopp", "matplotlib", "sklearn", "tqdm")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


if __name__ == "__main__":
    sys.exit(main())
