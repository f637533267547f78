"""``zoo rank``: optimize something you can only judge by comparing, one ranking per round.

Out of the box it finds a colour you have in mind: each round shows a few colour swatches (24-bit ANSI plus
hex codes); you rank them best first ("3 1 4") or compare a few ("3>1, 1>4"). ``--target #ff8800`` shows a
reference swatch; ``--auto #ff8800`` lets a simulated person answer (a demo). Your own problem:
``--problem mymodule:show --dim 8``, where ``show(x)`` returns a text to print or an image array (written as
PNG files you open). The session is saved after every round (``--session``, default ``zoo-rank-session.npz``)
and resumes from that file when it exists (``--new`` starts over).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_rank(args: argparse.Namespace) -> int:
    from zoo.cli import _parse_options
    from zoo.session.session import RankingSession, colour_auto_answer

    path = Path(args.session)
    options = _parse_options(args.option)
    for key in ("m", "mu"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if path.exists() and not args.new:
        session = RankingSession.load(path)
        print(
            f"resuming {path}: {session.round} round(s) answered so far (problem {session.meta['problem']})"
        )
    else:
        x0 = [float(v) for v in args.x0.split(",")] if args.x0 else None
        session = RankingSession.create(
            path,
            problem=args.problem,
            x0=x0,
            dim=args.dim,
            target=args.target or args.auto,
            seed=args.seed,
            options=options,
            image_dir=args.image_dir,
            ansi=not args.no_color,
        )
        print(f"new ranking session {path} (problem {args.problem}); answers are saved after every round")
    if session.meta["problem"] == "colour" and not args.auto:
        print("Think of a colour. Each round, rank the swatches by how close they are to it, best first.")
    auto = colour_auto_answer(args.auto) if args.auto else None
    if auto is not None and session.meta["problem"] != "colour":
        raise ValueError("--auto answers only for the colour problem")
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
        default="colour",
        help="'colour' (default) or module:function / file.py:function returning a text or an image",
    )
    p.add_argument("--dim", type=int, default=None, help="dimension of x for your own problem")
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
    p.add_argument("--rounds", type=int, default=None, help="stop after this many rounds (default: until q)")
    p.add_argument("--m", type=int, default=None, help="candidates per estimation round (default 4)")
    p.add_argument("--mu", type=float, default=None, help="size of the perturbations (default 0.5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--image-dir", default=None, help="folder for PNG candidates (default <session>-images)")
    p.add_argument("--no-color", action="store_true", help="no ANSI colour swatches (hex codes only)")
    p.add_argument(
        "--option",
        "-o",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another rank-sgd option, e.g. -o n_trials=4",
    )
    p.set_defaults(func=_cmd_rank)
