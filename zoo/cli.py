"""The ``zoo`` command.

    zoo methods                          list every registered method
    zoo minimize rosenbrock --dim 100 --method rge --budget 2000 --seed 0
    zoo demo                             a short tour of what zoo does, with convergence plots

Other parts add their own sub-commands (``zoo bench``, ``zoo rank``, ``zoo train``, ``zoo federate``): each is a
module with ``add_cli(subparsers)`` listed in ``PLUGINS``; modules are imported only to build the parser, so they
keep heavy imports (torch, ray) inside their command functions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

import numpy as np

# module paths with an ``add_cli(subparsers)`` function; a module that does not exist yet is skipped
PLUGINS = (
    "zoo.population.bbob",
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
            raise SystemExit(f"zoo: --option takes KEY=VALUE, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _cmd_minimize(args: argparse.Namespace) -> int:
    import zoo

    fn = zoo.functions.get(args.function)
    rng = np.random.default_rng(args.seed)
    if args.x0 == "normal":
        x0 = rng.standard_normal(args.dim)
    elif args.x0 == "uniform":
        lo, hi = fn.bounds(args.dim)
        x0 = rng.uniform(lo, hi)
    else:
        x0 = np.full(args.dim, float(args.x0))
    f0 = float(fn(x0)[0])
    res = zoo.minimize(
        fn,
        x0,
        method=args.method,
        budget=args.budget,
        seed=args.seed,
        vectorized=True,
        options=_parse_options(args.option),
        progress=not args.quiet,
    )
    print(f"method   {res.method}   seed {res.seed}")
    print(f"f(x0)    {f0:.6g}")
    print(
        f"best f   {res.fun:.6g}   (f/f0 = {res.fun / f0 if f0 else float('nan'):.4g}, "
        f"optimum {fn.minimum(args.dim):.6g})"
    )
    print(f"queries  {res.nfev} of {args.budget}   rounds {res.nit}   non-finite {res.n_nonfinite}")
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

    parser = argparse.ArgumentParser(
        prog="zoo",
        description="zoo: zeroth-order and derivative-free optimization (ask/tell, Numba kernels, "
        "forward-only network training, federated ZO).",
    )
    parser.add_argument("--version", action="version", version=f"zoo {zoo.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("methods", help="list the registered methods")
    p.set_defaults(func=_cmd_methods)

    p = sub.add_parser("minimize", help="minimize a built-in test function")
    p.add_argument("function", choices=zoo.functions.names(), help="test function")
    p.add_argument("--dim", type=int, default=10, help="dimension d (default 10)")
    p.add_argument("--method", default="rge", help="a registered method (see `zoo methods`), default rge")
    p.add_argument("--budget", type=int, default=None, help="query budget (default 1000*d)")
    p.add_argument("--seed", type=int, default=0, help="seed of the run and of x0 (default 0)")
    p.add_argument(
        "--x0", default="normal", help="'normal' (N(0,I), default), 'uniform' (in the domain) or a number"
    )
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a method option, e.g. -o q=4 -o lr=0.1 (repeatable)",
    )
    p.add_argument("--plot", metavar="PNG", help="write a convergence plot")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_minimize)

    p = sub.add_parser("demo", help="a short tour of zoo, writing convergence plots (PNG)")
    p.add_argument("--out", default="zoo-demo", help="folder for the plots (default ./zoo-demo)")
    p.add_argument("--quick", action="store_true", help="smaller runs (seconds)")
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError) as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
