"""Shared by the benchmarks that run one child script in two or more source trees side by side
(``ga_generation_ab.py``, ``spd_kernel_ab.py``): the ``--tree`` / ``--alternations`` options and the child run."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def tree_parser(doc: str, alternations: int) -> argparse.ArgumentParser:
    """A parser with ``--tree`` (repeated, two or more) and ``--alternations`` (default ``alternations``);
    :func:`check_trees` validates them after parsing."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--tree", action="append", required=True, help="a tree's root (repeat: two or more)")
    ap.add_argument("--alternations", type=int, default=alternations)
    return ap


def check_trees(args: argparse.Namespace) -> None:
    if len(args.tree) < 2 or args.alternations < 1:
        raise SystemExit("--tree: give two or more trees; --alternations: a positive number")
    for tree in args.tree:
        if not os.path.isfile(os.path.join(tree, "zoo", "__init__.py")):
            raise SystemExit(f"--tree {tree}: expected the root of a zoo checkout (with zoo/__init__.py)")


def run_in_tree(
    tree: str, code: str, *args: str, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    """``python -c code args`` with zoo imported from ``tree`` (its root first on the path, one BLAS thread), run
    from ``tree`` under the command ``prefix`` (e.g. valgrind); a failing child stops the benchmark with its
    error."""
    env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*prefix, sys.executable, "-c", code, *args], env=env, cwd=tree, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(f"{tree}: {done.stderr[-2000:]}")
    return done
