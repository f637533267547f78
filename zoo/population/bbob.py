"""Moved to :mod:`zoo.bench` (runner, scoring, plots, CLI apart); this module keeps the old import path."""

from __future__ import annotations

from zoo.bench.cli import add_cli
from zoo.bench.plots import ecdf_plot
from zoo.bench.runner import ANCHOR, ANCHORS, method_budgets, parse_indices, run_benchmark, run_problem
from zoo.bench.scoring import (
    N_TARGETS,
    complete_problems,
    ecdf,
    format_table,
    fraction_solved,
    group_table,
    hitting_evals,
    per_function_table,
    score,
    targets,
)
from zoo.bench.suite import DIMENSIONS, GROUPS, optimal_value

__all__ = [
    "ANCHOR",
    "ANCHORS",
    "DIMENSIONS",
    "GROUPS",
    "N_TARGETS",
    "add_cli",
    "complete_problems",
    "ecdf",
    "ecdf_plot",
    "format_table",
    "fraction_solved",
    "group_table",
    "hitting_evals",
    "method_budgets",
    "optimal_value",
    "parse_indices",
    "per_function_table",
    "run_benchmark",
    "run_problem",
    "score",
    "targets",
]
