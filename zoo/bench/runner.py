"""Runs of ``zoo bench bbob``: every method once on every (function, instance) problem, from the origin with
bounds [-5, 5]^d; each run records its best-so-far trace (evaluation count at each improvement, ``f - f_opt``),
so one run gives every budget. Results are appended per problem to a JSON-lines file (``--resume``).

Methods: any zoo name (``zoo methods``, ``ng:<Name>``) and the anchors ``pycma-ipop`` / ``pycma-bipop``
(``cma.fmin2`` with IPOP or BIPOP restarts, unbounded, sigma0 = 2, restarts uniform in [-4, 4]^d, as in pycma's
COCO example experiment). ``NAME@B`` runs NAME with ``B`` evaluations per dimension.

``coco_output``: every evaluation also goes through a ``cocoex.Observer``, so COCO's own files (``.info``,
``.dat``, ``.tdat``) land in ``coco_output/exdata/<method>/f<F>i<I>/``; ``cocopp coco_output/exdata/<method>``
post-processes them (one folder per method; cocopp reads the sub-folders).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from zoo.bench.suite import open_problem, optimal_value

ANCHOR = "pycma-ipop"
#: pycma's own restart strategies, run through cma.fmin2 (unbounded, as in pycma's COCO example)
ANCHORS = ("pycma-ipop", "pycma-bipop")


def parse_indices(text: str) -> list[int]:
    """``"1-5"`` -> [1..5]; ``"1,3,7-9"`` -> [1, 3, 7, 8, 9]."""
    out: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                out.extend(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ValueError(f"bad index {part!r} in {text!r} (expected e.g. '1-5' or '1,3,7')") from None
    if not out:
        raise ValueError(f"no indices in {text!r} (expected e.g. '1-5' or '1,3,7')")
    return out


def method_budgets(spec: str, dim: int, budget_per_dim: float) -> list[tuple[str, int]]:
    """``"cbo,ng:NGOpt@1000"`` -> [("cbo", 1e4 d), ("ng:NGOpt", 1e3 d)] (evaluations per run)."""
    out = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        name, _, per_dim = item.partition("@")
        try:
            per = float(per_dim) if per_dim else float(budget_per_dim)
        except ValueError:
            raise ValueError(f"--methods {item!r}: the budget after @ must be a number") from None
        if not (math.isfinite(per) and per * dim >= 1):
            raise ValueError(
                f"budget per dimension must be positive (at least one evaluation), got {per:g} for {name!r}"
            )
        out.append((name, int(per * dim)))
    if not out:
        raise ValueError("--methods is empty")
    return out


class _Trace:
    """Best-so-far trace of one run: (evaluation count, f - f_opt) at each improvement."""

    def __init__(self, f_opt: float) -> None:
        self.f_opt = f_opt
        self.nfev = 0
        self.best = math.inf
        self.evals: list[int] = []
        self.deltas: list[float] = []

    def record(self, values: np.ndarray) -> None:
        for v in values:
            self.nfev += 1
            d = float(v) - self.f_opt
            if d < self.best:
                self.best = d
                self.evals.append(self.nfev)
                self.deltas.append(d)


def _folder_name(method: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", method)


def run_problem(
    method: str,
    function: int,
    instance: int,
    dim: int,
    budget: int,
    seed: int,
    final_target: float = 1e-8,
    coco_output: str | None = None,
) -> dict[str, Any]:
    """One run of ``method`` on bbob f``function`` instance ``instance``; returns its trace as a dict."""
    f_opt = optimal_value(function, instance, dim)
    suite, prob = open_problem(function, instance, dim)
    trace = _Trace(f_opt)
    t0 = time.perf_counter()
    error = None
    ran = None
    cwd = os.getcwd()
    observer = None
    if coco_output is not None:
        import cocoex

        # cocoex writes to ./exdata/<result_folder>: run in the output folder
        Path(coco_output).mkdir(parents=True, exist_ok=True)
        os.chdir(coco_output)
        observer = cocoex.Observer(
            "bbob",
            f"result_folder: {_folder_name(method)}/f{function}i{instance} algorithm_name: {method}",
        )
        prob.observe_with(observer)
    try:
        if method in ANCHORS:
            _run_pycma(prob, trace, budget, seed, f_opt + final_target, bipop=method == "pycma-bipop")
        else:
            ran = _run_zoo(method, prob, trace, budget, seed, f_opt + final_target)
    except Exception as exc:  # a library failing on one problem keeps what it reached, flagged
        error = f"{type(exc).__name__}: {exc}"[:300]
        print(f"{method} f{function} i{instance}: {error}", file=sys.stderr)
    finally:
        if observer is not None:
            prob.free()  # flushes COCO's files (the suite, still referenced here, outlives it)
            os.chdir(cwd)
    del suite
    return {
        "method": method,
        "function": function,
        "instance": instance,
        "dim": dim,
        "budget": budget,
        "seed": seed,
        "evals": trace.evals,
        "deltas": trace.deltas,
        "nfev": trace.nfev,
        "seconds": time.perf_counter() - t0,
        "error": error,
        "ran": ran,
    }


def _evaluate(prob: Any, X: np.ndarray) -> np.ndarray:
    return np.fromiter((prob(x) for x in X), dtype=np.float64, count=len(X))


def _run_zoo(method: str, prob: Any, trace: _Trace, budget: int, seed: int, f_stop: float) -> str | None:
    import zoo

    lo, hi = np.asarray(prob.lower_bounds), np.asarray(prob.upper_bounds)
    opt = zoo.make(
        method,
        x0=np.asarray(prob.initial_solution, dtype=np.float64),
        seed=seed,
        bounds=(lo, hi),
        budget=budget,
        f_target=f_stop,
    )
    while not opt.stop():
        X = opt.ask()
        values = _evaluate(prob, X)
        trace.record(values)
        opt.tell(X, values)
    return getattr(opt, "ran", None)


class _BudgetSpent(Exception):
    pass


def _run_pycma(prob: Any, trace: _Trace, budget: int, seed: int, f_stop: float, bipop: bool = False) -> None:
    """The anchors: pycma's own IPOP (``cma.fmin2(restarts=9, incpopsize=2)``) or BIPOP (``bipop=True``),
    sigma0 = 2, restarts from uniform points in [-4, 4]^d, as in pycma's COCO example experiment."""
    import cma

    lo, hi = np.asarray(prob.lower_bounds), np.asarray(prob.upper_bounds)
    rng = np.random.default_rng(seed)
    starts = iter([np.asarray(prob.initial_solution, dtype=np.float64)])

    def x0() -> np.ndarray:
        first = next(starts, None)
        return first if first is not None else rng.uniform(0.8 * lo, 0.8 * hi)

    def fun(x: np.ndarray) -> float:
        if trace.nfev >= budget:
            raise _BudgetSpent
        v = prob(x)
        trace.record(np.array([v]))
        return v

    opts = {
        "maxfevals": budget,
        "ftarget": f_stop,
        "verbose": -9,
        "verb_log": 0,
        "verb_disp": 0,
        "seed": seed + 1,
    }
    try:
        cma.fmin2(fun, x0, 2.0, opts, restarts=9, incpopsize=2, bipop=bipop)
    except _BudgetSpent:
        pass


def _task(args: tuple) -> dict[str, Any]:
    return run_problem(*args)


def _cache_key(r: dict) -> tuple:
    return (r["method"], r["function"], r["instance"], r["dim"], r["budget"], r["seed"])


def read_anchor_cache(path: Path) -> dict[tuple, dict]:
    """The anchor runs stored in ``path`` (JSON lines), by (method, function, instance, dim, budget, seed)."""
    if not path.exists():
        return {}
    if not path.is_file():
        raise ValueError(f"{path} is not a file: the anchor cache is a file of JSON lines")
    out = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            r = json.loads(line)
            out[_cache_key(r)] = r
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path}:{n} is not an anchor run (a JSON line of zoo bench bbob)") from None
    return out


def compact(r: dict) -> dict:
    """``r`` with its trace cut to the points where a new target is first reached, and the last point:
    every score (:mod:`zoo.bench.scoring`) is the same from it, at any budget."""
    from zoo.bench.scoring import targets

    tg = targets()
    keep, reached = [], 0
    for k, d in enumerate(r["deltas"]):
        n = int(np.sum(tg >= d))  # targets reached by this point
        if n > reached or k == len(r["deltas"]) - 1:
            keep.append(k)
            reached = n
    return {**r, "evals": [r["evals"][k] for k in keep], "deltas": [r["deltas"][k] for k in keep]}


def run_benchmark(
    methods: list[tuple[str, int]],
    functions: list[int],
    instances: list[int],
    dim: int,
    out_jsonl: Path,
    jobs: int = 1,
    resume: bool = False,
    progress: bool = True,
    seed: int = 0,
    coco_output: str | None = None,
    anchor_cache: Path | None = None,
) -> list[dict]:
    """Run every method on every problem (instance by instance), appending each result to ``out_jsonl``.
    Run seeds are ``1000 f + i + 100000 seed`` (the same for every method on a problem).

    ``anchor_cache``: a JSON-lines file of pycma anchor runs. pycma's runs are deterministic for a seed, so an
    anchor run found there (same method, function, instance, dimension, budget and seed) is reused (marked
    ``"cached": true``) instead of run again, and every anchor run made is added to it (trace compacted,
    see :func:`compact`). Not with ``coco_output`` (COCO's files come only from a run)."""
    import zoo

    for name, _ in methods:
        if name not in ANCHORS:
            zoo.get(name)  # an unknown name fails now, not in a worker
    cache: dict[tuple, dict] = {}
    # checked before runs.jsonl is touched: a bad cache must not cost the old runs
    if anchor_cache is not None:
        if coco_output is not None:
            raise ValueError("anchor_cache and coco_output together: COCO's files come only from a run")
        cache = read_anchor_cache(anchor_cache)
    done: dict[tuple, dict] = {}
    if resume and out_jsonl.exists():
        for line in out_jsonl.read_text().splitlines():
            r = json.loads(line)
            done[(r["method"], r["function"], r["instance"], r["dim"], r["budget"])] = r
    elif out_jsonl.exists():
        out_jsonl.unlink()
    out_jsonl.parent.mkdir(parents=True, exist_ok=True)
    coco = None if coco_output is None else str(Path(coco_output).resolve())
    # instance-major order: an interrupted run has every method on the same problems, spread over all functions
    tasks = [
        (name, f, i, dim, b, 1000 * f + i + 100_000 * seed, 1e-8, coco)
        for i in instances
        for f in functions
        for name, b in methods
        if (name, f, i, dim, b) not in done
    ]
    results = list(done.values())
    if anchor_cache is not None:
        # a task's first six fields are its cache key (_cache_key's order)
        hits = [t for t in tasks if t[0] in ANCHORS and t[:6] in cache]
        tasks = [t for t in tasks if not (t[0] in ANCHORS and t[:6] in cache)]
        with out_jsonl.open("a") as fh:
            for t in hits:
                _save(fh, {**cache[t[:6]], "cached": True}, results, None)
    bar = None
    if progress:
        from zoo.progress import progress_bar  # tqdm on a terminal, whole lines in a log

        bar = progress_bar(len(tasks), unit="run")
    with out_jsonl.open("a") as fh:
        if jobs > 1:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(jobs) as pool:
                for r in pool.imap(_task, tasks):
                    _save(fh, r, results, bar)
                    _store(anchor_cache, r)
        else:
            for t in tasks:
                r = _task(t)
                _save(fh, r, results, bar)
                _store(anchor_cache, r)
    if bar is not None:
        bar.close()
    return results


def _store(anchor_cache: Path | None, r: dict) -> None:
    if anchor_cache is not None and r["method"] in ANCHORS and r["error"] is None:
        anchor_cache.parent.mkdir(parents=True, exist_ok=True)
        with anchor_cache.open("a") as fh:
            fh.write(json.dumps(compact(r)) + "\n")


def _save(fh: Any, r: dict, results: list, bar: Any) -> None:
    fh.write(json.dumps(r) + "\n")
    fh.flush()
    results.append(r)
    if bar is not None:
        bar.set_postfix(last=f"{r['method']} f{r['function']} i{r['instance']}", refresh=False)
        bar.update(1)
