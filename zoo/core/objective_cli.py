"""``zoo minimize module:function``: the user's own objective from the command line.

    zoo minimize mysim:run --dim 10 --bounds -5 5 --method cma --budget 500 --workers 4 \\
        --log run.jsonl --checkpoint run.npz --out result.json
    zoo minimize mysim:run --space space.json --method ga --budget 300 --resume run.npz --checkpoint run.npz

``module:function`` imports ``module`` (from the current directory or the installed packages) or a file
``path/to/file.py:function``. The objective takes one point (``vectorized`` with ``--vectorized``): a float
array of ``--dim`` values, or with ``--space`` (a JSON file in the form of :meth:`zoo.space.Space.spec`) a dict
(named space) or a list. ``--checkpoint`` saves the optimizer after every round and on an error or interrupt;
``--resume`` loads one written by the same command (same method, options and space) and goes on with the
remaining budget. ``--out`` writes the result as JSON: ``x`` (the user's types), ``fun``, ``nfev``, ``nit``,
``success``, ``status``, ``message``, ``n_faults``, ``faults`` and, with constraints, ``feasible``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core.callables import load_callable


def load_objective(spec: str) -> Any:
    """The callable named by ``module:function`` or ``file.py:function``; a clear error otherwise."""
    return load_callable(spec, "objective")


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_jsonable(e) for e in v.tolist()]
    if isinstance(v, dict):
        return {str(k): _jsonable(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(e) for e in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


def write_result(res: Any, path: str | Path) -> Path:
    keys = ("x", "fun", "nfev", "nit", "success", "status", "message", "stop", "n_nonfinite", "n_faults",
            "faults", "feasible", "maxcv", "constr", "method", "seed")  # fmt: skip
    out = {k: _jsonable(res[k]) for k in keys if k in res}
    path = Path(path)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path


def run(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """The body of ``zoo minimize module:function``."""
    import zoo
    from zoo.core import checkpoint as _checkpoint

    fun = load_objective(args.function)
    space = None
    if args.space:
        try:
            spec = json.loads(Path(args.space).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"--space {args.space!r}: cannot read a JSON space ({exc})") from exc
        space = zoo.space.Space.from_spec(spec)
    x0 = None
    bounds = None
    if space is None:
        if args.dim is None:
            raise ValueError("a user objective needs --dim D (or --space space.json)")
        x0 = np.full(args.dim, float(args.x0)) if args.x0 not in ("normal", "uniform") else None
        if args.bounds is not None:
            bounds = (args.bounds[0], args.bounds[1])
        if x0 is None:
            rng = np.random.default_rng(args.seed)
            if args.x0 == "uniform":
                if bounds is None:
                    raise ValueError("--x0 uniform needs --bounds LOWER UPPER")
                x0 = rng.uniform(bounds[0], bounds[1], args.dim)
            else:
                x0 = rng.standard_normal(args.dim)
                if bounds is not None:
                    x0 = np.clip(x0, bounds[0], bounds[1])
    method: Any = args.method
    if args.resume:
        if not Path(args.resume).is_file():
            raise ValueError(f"--resume {args.resume!r}: no such checkpoint file")
        sd = _checkpoint.load(args.resume)
        if space is not None:
            enc_opts = _space_options(zoo, args.method, space, options)
            method = zoo.make(args.method, x0=enc_opts[0], bounds=enc_opts[1], seed=args.seed, budget=args.budget,
                              **enc_opts[2])  # fmt: skip
        else:
            method = zoo.make(
                args.method, x0=x0, bounds=bounds, seed=args.seed, budget=args.budget, **options
            )
        method.load_state_dict(sd)
        print(f"resumed  {args.resume}: {method.nfev} queries already spent")
    res = zoo.minimize(
        fun, x0, method=method, budget=args.budget, seed=args.seed, bounds=bounds if args.resume is None else None,
        space=space, vectorized=args.vectorized, options=options if args.resume is None else None,
        workers=args.workers, timeout=args.timeout, log=args.log, checkpoint=args.checkpoint,
        asynchronous=args.asynchronous,
        checkpoint_every=1, progress=not args.quiet,
    )  # fmt: skip
    print(f"method   {res.method}   seed {res.seed}")
    print(f"best f   {res.fun:.6g}")
    print(f"x        {_jsonable(res.x)}")
    print(f"queries  {res.nfev} of {args.budget}   rounds {res.nit}   faults {res.n_faults}")
    print(f"stopped  {res.message}")
    if args.out:
        print(f"result   {write_result(res, args.out)}")
    return 0


def _space_options(zoo: Any, method: str, space: Any, options: dict[str, Any]) -> tuple:
    from zoo.core.problem import Problem

    p = Problem(lambda x: 0.0, space=space)
    return p.setup(zoo.get(method), None, None, dict(options))
