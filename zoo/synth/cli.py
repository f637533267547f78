"""``zoo synth data.csv --epsilon 1 --queries 2way,range --out synthetic.csv``: a private synthetic table.

Prints the budget (epsilon, delta, rho) and what was spent, shows a progress bar per round, writes the
synthetic CSV and a PNG of the error per round (the error against the *noisy* measurements, so the plot
itself is private). Without ``--domain`` the schema is read off the data, which is not private (the
categories and the min / max of each column show): the command says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def error_plot(history: list[dict], path: str | Path, title: str = "") -> Path:
    """Mean absolute error on the measured queries against rounds (PNG)."""
    from zoo.plotting import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    rounds = [h["round"] for h in history]
    ax.plot(
        rounds,
        [h["measured_error"] for h in history],
        marker="o",
        label="mean |a(S) - y| on measured queries",
    )
    ax.set_yscale("log")
    ax.set_xlabel("round")
    ax.set_ylabel("mean absolute error")
    ax2 = ax.twinx()
    ax2.plot(rounds, [h["measured_groups"] for h in history], color="gray", ls="--", label="groups measured")
    ax2.set_ylabel("query groups measured")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _cmd_synth(args: argparse.Namespace) -> int:
    import pandas as pd

    from zoo.progress import progress_bar
    from zoo.synth import Domain, PrivateGSD
    from zoo.synth.queries import KINDS

    # every parameter is checked before anything is read or printed, so a refused command is one line
    kinds = [k.strip() for k in args.queries.split(",") if k.strip()]
    if not kinds:
        raise ValueError(f"--queries is empty: give some of {','.join(KINDS)}")
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise ValueError(f"--queries: unknown query kind {bad[0]!r}; known: {','.join(KINDS)}")
    gsd = PrivateGSD(epsilon=args.epsilon, delta=args.delta, queries=",".join(kinds), n_records=args.records,
                     rounds=args.rounds, budget=args.budget, seed=args.seed)  # fmt: skip
    try:
        df = pd.read_csv(args.data)
    except (
        FileNotFoundError,
        IsADirectoryError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
    ) as exc:
        raise ValueError(f"cannot read the table {args.data!r}: {exc}") from None
    if args.domain:
        try:
            domain = Domain.load(args.domain)
        except (FileNotFoundError, IsADirectoryError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot read the domain spec {args.domain!r}: {exc!r}") from None
    else:
        domain = Domain.infer(df)
    domain.encode(df)  # a value outside the domain, NaN, mixed types: refused here, before any output
    if not args.domain:
        print(
            "zoo synth: warning: no --domain given, so the schema (categories, min / max) is read off the data "
            "and is NOT private; pass --domain spec.json for a formal guarantee",
            file=sys.stderr,
        )
    gsd.domain = domain
    bar = None

    def progress(info: dict) -> None:
        nonlocal bar
        if bar is None and not args.quiet:
            bar = progress_bar(args.rounds, unit="round", desc="rounds")
        if bar is not None:
            bar.set_postfix(
                error=f"{info['measured_error']:.2e}", groups=f"{info['measured_groups']}/{info['groups']}"
            )
            bar.update(1)

    gsd.callback = progress
    gsd.fit(df)
    if bar is not None:
        bar.close()
    out = Path(args.out)
    syn = gsd.sample(args.n)
    syn.to_csv(out, index=False)
    print(f"data       {args.data}: {len(df)} rows, {len(domain)} columns ({len(domain.numeric)} numeric)")
    print(f"queries    {args.queries}: {len(gsd.workload_)} queries in {len(gsd.workload_.groups)} groups")
    print(f"privacy    epsilon={gsd.epsilon:g}, delta={gsd.delta:g} -> rho={gsd.rho:.6g} (zCDP)")
    print(f"spent      rho={gsd.accountant_.spent:.6g} (epsilon {gsd.epsilon_spent:.4g} at this delta)")
    print(f"error      {gsd.history_[-1]['measured_error']:.4g} (mean, on the noisy measurements)")
    print(f"wrote      {out} ({len(syn)} rows)")
    if args.plot != "none":
        png = error_plot(
            gsd.history_, args.plot or out.with_suffix(".png"), title=f"zoo synth, epsilon={gsd.epsilon:g}"
        )
        print(f"plot       {png}")
    return 0


def add_cli(subparsers) -> None:
    from zoo.cli_types import fraction, nonnegative_int, positive_float, positive_int

    p = subparsers.add_parser("synth", help="private synthetic data (Private-GSD, zCDP) from a CSV table")
    p.add_argument("data", help="the private table (CSV with a header)")
    p.add_argument("--epsilon", type=positive_float, default=1.0, help="privacy epsilon (default 1)")
    p.add_argument("--delta", type=fraction, default=1e-5, help="privacy delta in (0, 1) (default 1e-5)")
    p.add_argument(
        "--queries",
        default="2way,range",
        help="workload: 1way,2way,3way,range,prefix,halfspace (default 2way,range)",
    )
    p.add_argument(
        "--domain", default=None, help="JSON spec of the public schema (see docs); default: read off the data"
    )
    p.add_argument(
        "--records",
        type=positive_int,
        default=None,
        help="synthetic records the GA fits (default min(n, 2000))",
    )
    p.add_argument("--n", type=positive_int, default=None, help="rows to write (default: the fitted table)")
    p.add_argument("--rounds", type=positive_int, default=8, help="adaptive rounds (default 8)")
    p.add_argument(
        "--budget",
        type=positive_int,
        default=None,
        help="GA child evaluations per round (default: by table size)",
    )
    p.add_argument(
        "--seed", type=nonnegative_int, default=0, help="seed of the noise and of the GA (default 0)"
    )
    p.add_argument("--out", default="synthetic.csv", help="output CSV (default synthetic.csv)")
    p.add_argument(
        "--plot", default=None, help="error-per-round PNG (default OUT with .png; 'none': no plot)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_synth)
