"""Scores of ``zoo bench bbob``: a (function, instance, target) triple is solved at budget B if the run's
best-so-far ``f - f_opt <= target`` within B evaluations; 51 targets ``10^2 ... 10^-8`` (log-uniform). Tables
give the fraction of triples solved at ``1e2 d, 1e3 d, 1e4 d``, overall, per function group and per function."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from zoo.bench.suite import GROUPS

N_TARGETS = 51


def targets() -> np.ndarray:
    """The 51 targets on ``f - f_opt``: ``10^2, 10^1.8, ..., 10^-8``."""
    return 10.0 ** np.linspace(2.0, -8.0, N_TARGETS)


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


def _hits(runs: list[dict]) -> np.ndarray:
    tg = targets()
    return np.array([hitting_evals(r["evals"], r["deltas"], tg) for r in runs]).reshape(len(runs), len(tg))


def score(results: list[dict], dim: int, factors: Sequence[float] = (1e2, 1e3, 1e4)) -> dict[str, dict]:
    """Per method: fraction of triples solved at ``factor * dim`` (NaN above the method's own budget)."""
    table: dict[str, dict] = {}
    for name in dict.fromkeys(r["method"] for r in results):
        runs = [r for r in results if r["method"] == name and r["dim"] == dim]
        hits = _hits(runs)
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


def _factor_label(f: float) -> str:
    return f"{f:.0e}·d".replace("e+0", "e")


def format_table(table: dict[str, dict], dim: int, factors: Sequence[float] = (1e2, 1e3, 1e4)) -> str:
    head = "| method | " + " | ".join(_factor_label(f) for f in factors)
    head += " | problems | errors | CPU s |\n|---|" + "---|" * (len(factors) + 3)
    rows = []
    for name, r in table.items():
        cells = " | ".join("—" if math.isnan(r[f"{f:g}"]) else f"{r[f'{f:g}']:.3f}" for f in factors)
        rows.append(f"| {name} | {cells} | {r['problems']} | {r['errors']} | {r['seconds']:.0f} |")
    return "\n".join([head, *rows])


def group_table(results: list[dict], dim: int, factors: Sequence[float] = (1e2, 1e3, 1e4)) -> str:
    """Fraction of triples solved per BBOB function group, one column per (method, budget)."""
    names = list(dict.fromkeys(r["method"] for r in results))
    budgets = {n: max(r["budget"] for r in results if r["method"] == n) for n in names}
    cols = [(n, f) for f in factors for n in names if f * dim <= budgets[n]]
    lines = [
        "| group | " + " | ".join(f"{n} {_factor_label(f)}" for n, f in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for label, fs in GROUPS.items():
        cells = []
        for n, f in cols:
            runs = [r for r in results if r["method"] == n and r["dim"] == dim and r["function"] in fs]
            cells.append(f"{fraction_solved(_hits(runs), f * dim):.3f}" if runs else "")
        if any(cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_function_table(results: list[dict], dim: int) -> str:
    """Fraction of (instance, target) pairs solved per function, at each method's own budget."""
    names = list(dict.fromkeys(r["method"] for r in results))
    functions = sorted({r["function"] for r in results})
    lines = ["| f | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for f in functions:
        cells = []
        for name in names:
            runs = [r for r in results if r["method"] == name and r["function"] == f and r["dim"] == dim]
            cells.append(
                f"{fraction_solved(_hits(runs), max(r['budget'] for r in runs)):.2f}" if runs else ""
            )
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
