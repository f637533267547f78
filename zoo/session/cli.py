"""``zoo rank``: optimize something you can only judge by comparing, one ranking per round.

Out of the box it finds a colour you have in mind: each round shows a few colour swatches (24-bit ANSI plus
hex codes); you rank them best first ("3 1 4"), with ties ("3=1 4"), or compare a few ("3>1, 1>4"). ``--target #ff8800`` shows a
reference swatch; ``--auto #ff8800`` lets a simulated person answer (a demo). Your own problem:
``--problem mymodule:show --dim 8``, where ``show(x)`` returns a text to print or an image array (written as
PNG files you open). The session is saved after every round (``--session``, default ``zoo-rank-session.npz``)
and resumes from that file when it exists (``--new`` starts over; a flag that differs from the saved session is
refused). ``--web`` answers in a local web page instead (candidates as images, ordered by clicking or by drag
and drop, ties, undo; ``--problem shape`` is a built-in parametric shape, ``--problem landscape`` a small
procedural image of sky, sun and hills); it prints the URL to open, with its access token.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from zoo.cli_types import nonnegative_int, positive_float, positive_int

# flags fixed when a session starts: on resume, a different value is refused (never silently ignored)
_SAVED_FLAGS = {"problem": "problem", "seed": "seed", "target": "target", "image_dir": "image_dir"}


def _session_path(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise ValueError(f"argument --session: {text!r} is a folder; give a file name such as {text}/s.npz")
    if not path.parent.is_dir():
        raise ValueError(f"argument --session: the folder {str(path.parent)!r} does not exist")
    return path


def _parse_x0(text: str) -> list[float]:
    try:
        x0 = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"argument --x0: numbers separated by commas, got {text!r}") from None
    if not all(np.isfinite(x0)):
        raise ValueError(f"argument --x0: numbers must be finite, got {text!r}")
    return x0


def _refuse_changed_flags(args: argparse.Namespace, session, options: dict, path: Path) -> None:
    """On resume a flag that differs from the saved session is an error (``--new`` starts over)."""
    meta = session.meta
    saved = json.loads(meta["options"])
    given = {flag: getattr(args, flag) for flag in _SAVED_FLAGS if getattr(args, flag) is not None}
    if args.x0 is not None:
        given["x0"] = _parse_x0(args.x0)
    for flag, value in given.items():
        old = meta[_SAVED_FLAGS.get(flag, flag)]
        if str(value) != str(old) and value != old:
            raise ValueError(
                f"argument --{flag.replace('_', '-')}: {path} was started with {old!r}, got {value!r}; "
                "drop the flag to resume, or --new to start over"
            )
    for key, value in options.items():
        saved_key = "popsize" if key == "m" and "m" not in saved else key  # rank-sgd's m is now popsize
        if saved_key not in saved or saved[saved_key] != value:
            name = f"--{key}" if key in ("m", "mu") else f"-o {key}"
            raise ValueError(
                f"argument {name}: {path} was started with {key}={saved.get(saved_key)!r}, got {value!r}; "
                "drop the flag to resume, or --new to start over"
            )
    if args.dim is not None and args.dim != len(meta["x0"]):
        raise ValueError(
            f"argument --dim: {path} has dim {len(meta['x0'])}, got {args.dim}; "
            "drop the flag to resume, or --new to start over"
        )


def _cmd_rank(args: argparse.Namespace) -> int:
    from zoo.cli import _parse_options
    from zoo.session.session import RankingSession, colour_auto_answer

    path = _session_path(args.session)
    options = _parse_options(args.option)
    for key in ("m", "mu"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    auto = colour_auto_answer(args.auto) if args.auto else None  # a malformed colour fails before any file
    resume = path.exists() and not args.new
    if resume:
        try:
            session = RankingSession.load(path)
        except ValueError as exc:
            raise ValueError(f"argument --session: {exc}") from None
        _refuse_changed_flags(args, session, options, path)
        if args.no_color:  # display only: applied to this run and kept
            from zoo.session.session import _renderer_for

            session.meta["ansi"] = False
            session.renderer = _renderer_for(session.meta)
        problem = session.meta["problem"]
    else:
        problem = args.problem or "colour"
    if auto is not None and problem != "colour":
        raise ValueError("argument --auto: a simulated person answers only for the colour problem")
    if args.web:
        if auto is not None:
            raise ValueError("argument --auto: the simulated person answers in the terminal, not with --web")
        try:  # a missing extra is a one-line hint before any file is written
            import starlette  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                f"zoo rank --web needs the web extra: pip install 'zoo-dfo[web]' ({exc})"
            ) from None

        if not resume:  # the page shows images: a text problem is refused before the session file exists
            from zoo.session.problems import BUILTIN, png_renderer

            start = (
                _parse_x0(args.x0)
                if args.x0
                else [0.0] * (BUILTIN[problem][0] if problem in BUILTIN else (args.dim or 1))
            )
            png_renderer(problem)(np.asarray(start, dtype=np.float64))
    if resume:
        print(f"resuming {path}: {session.round} round(s) answered so far (problem {problem})")
    else:
        x0 = _parse_x0(args.x0) if args.x0 else None
        try:
            session = RankingSession.create(
                path,
                problem=problem,
                x0=x0,
                dim=args.dim,
                target=args.target or args.auto,
                seed=args.seed or 0,
                options=options,
                image_dir=args.image_dir,
                ansi=not args.no_color,
            )
        except ValueError as exc:
            if str(exc).startswith("x0 "):
                raise ValueError(f"argument --x0: {exc}") from None
            raise
        print(f"new ranking session {path} (problem {problem}); answers are saved after every round")
    if args.web:
        from zoo.session.web import serve

        return serve(session, port=args.port)
    if problem == "colour" and not args.auto:
        print("Think of a colour. Each round, rank the swatches by how close they are to it, best first.")
    session.run(args.rounds, auto=auto)
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "rank",
        help="optimize from your rankings in the terminal (ZO-RankSGD; default: find a colour)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--session", default="zoo-rank-session.npz", help="session file (resumed when it exists)")
    p.add_argument("--new", action="store_true", help="start a new session even if the file exists")
    p.add_argument(
        "--problem",
        default=None,
        help="'colour' (default), 'shape' (a parametric shape), 'landscape' (a procedural image: sky, sun, "
        "hills) or module:function / file.py:function "
        "returning a text, an image array or PNG bytes",
    )
    p.add_argument("--dim", type=positive_int, default=None, help="dimension of x for your own problem")
    p.add_argument("--x0", default=None, help="starting point, comma-separated (default zeros)")
    p.add_argument(
        "--target", default=None, help="colour problem: a reference colour #RRGGBB shown each round"
    )
    p.add_argument(
        "--auto",
        default=None,
        metavar="#RRGGBB",
        help="colour problem: a simulated person answers (by distance to this colour)",
    )
    p.add_argument(
        "--rounds", type=positive_int, default=None, help="stop after this many rounds (default: until q)"
    )
    p.add_argument("--m", type=positive_int, default=None, help="candidates per estimation round (default 4)")
    p.add_argument("--mu", type=positive_float, default=None, help="size of the perturbations (default 0.5)")
    p.add_argument("--seed", type=nonnegative_int, default=None, help="seed of a new session (default 0)")
    p.add_argument("--image-dir", default=None, help="folder for PNG candidates (default <session>-images)")
    p.add_argument("--no-color", action="store_true", help="no ANSI colour swatches (hex codes only)")
    p.add_argument(
        "--web",
        action="store_true",
        help="answer in a local web page instead (prints its URL with an access token; needs zoo-dfo[web])",
    )
    p.add_argument(
        "--port", type=nonnegative_int, default=8765, help="port of --web on 127.0.0.1 (0: any free)"
    )
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another rank-sgd option, e.g. -o n_trials=4",
    )
    p.set_defaults(func=_cmd_rank)
