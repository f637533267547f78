"""``zoo.minimize``: the ask/tell loop with budget, stopping, callbacks, progress and checkpoints.

What is evaluated (``args``, ``space``, ``constraints``, ``workers`` / ``executor`` / ``timeout``, ``log``) is
:class:`zoo.core.problem.Problem`; ``bounds`` in scipy's forms are read by :mod:`zoo.core.bounds`;
``asynchronous=True`` runs the steady-state loop of :mod:`zoo.core.asynchronous`.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core import checkpoint as _checkpoint
from zoo.core import registry
from zoo.core.bounds import to_lower_upper
from zoo.core.method import Method
from zoo.core.oracle import ObjectiveError
from zoo.core.problem import Problem
from zoo.core.result import Result, status_of
from zoo.core.stochastic import Stochastic
from zoo.core.validate import as_point, check_count, split_bounds
from zoo.progress import progress_bar

DEFAULT_BUDGET_PER_DIM = 1000


def minimize(
    fun: Callable[..., Any],
    x0: Any = None,
    method: str | Method = "rge",
    *,
    budget: int | None = None,
    seed: int | None = None,
    bounds: Any = None,
    vectorized: bool = False,
    options: dict[str, Any] | None = None,
    callback: Callable[[Method], Any] | None = None,
    progress: bool = False,
    max_iter: int | None = None,
    f_target: float | None = None,
    max_time: float | None = None,
    dim: int | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    args: Any = (),
    space: Any = None,
    constraints: Any = None,
    workers: int = 1,
    executor: Any = None,
    timeout: float | None = None,
    asynchronous: bool = False,
    log: str | Path | None = None,
    on_error: str | None = None,
) -> Result:
    """Minimize a black-box ``fun`` with any registered method.

    ``fun(x)`` takes a point of shape ``(d,)`` and returns a number, or with ``vectorized=True`` takes a
    batch ``(n, d)`` and returns ``(n,)``. ``budget`` is a hard limit on queries (``res.nfev <= budget``;
    default ``1000 * d``). ``options`` are the method's own (unknown keys raise ``TypeError``).
    ``callback(opt)`` runs after every tell; returning True stops the run. ``method`` may also be an
    :class:`~zoo.core.method.Method` instance, e.g. the ``optimizer`` attached to an
    :class:`~zoo.core.oracle.ObjectiveError`, to resume a run.

    If the objective raises, an :class:`ObjectiveError` propagates with the offending point in ``.x`` and the
    optimizer (state unchanged, batch still pending) in ``.optimizer``; with ``on_error="record"`` (the default
    with ``workers``, ``executor`` or ``timeout``) the evaluation is a fault in ``res.faults`` and the run goes on.

    scipy's interface: ``bounds`` as ``(lower, upper)``, a sequence of ``(lo, hi)`` pairs or
    ``scipy.optimize.Bounds`` (:mod:`zoo.core.bounds`: the 2 x 2 case is read as pairs, with a warning);
    ``args`` are passed on as ``fun(x, *args)``; a callback whose one parameter is named
    ``intermediate_result`` gets an ``OptimizeResult`` with ``x`` and ``fun`` (raising ``StopIteration`` stops
    the run, status 99); ``success`` / ``status`` mean what they mean in scipy (:mod:`zoo.core.result`).

    Expensive objectives: ``workers=N`` local processes or ``executor=`` any ``concurrent.futures.Executor``
    (:class:`zoo.RayExecutor`, Dask's ``Client.get_executor()``), ``timeout=`` seconds per evaluation,
    ``asynchronous=True`` for methods that use results as they arrive (``ga``, ``random-search``),
    ``space=`` (:mod:`zoo.space`: integer, categorical, log-scale, named), ``constraints=`` (``g(x) <= 0``,
    :mod:`zoo.core.constraints`), ``log="run.jsonl" | "run.csv"`` (:mod:`zoo.core.runlog`).
    """
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict of method options, got {type(options).__name__}")
    stochastic = fun if isinstance(fun, Stochastic) else None
    holder: list[Method] = []
    if stochastic is not None:
        _check_stochastic(
            args=args, space=space, constraints=constraints, workers=workers, executor=executor,
            timeout=timeout, asynchronous=asynchronous, log=log, vectorized=vectorized,
        )  # fmt: skip
        mode = on_error or "raise"
        stochastic.start()
        fun = lambda X: stochastic.evaluate(X, holder[0].samples, mode)  # noqa: E731 - the batch of opt.ask()
        vectorized, on_error = True, "raise"
    problem = Problem(
        fun, args=args, space=space, constraints=constraints, vectorized=vectorized, workers=workers,
        executor=executor, timeout=timeout, log=log, on_error=on_error,
    )  # fmt: skip
    if isinstance(method, Method):
        opt = method
        if budget is not None:
            opt.budget = check_count(budget, "budget")
    else:
        cls = registry.get(method)
        bounds = to_lower_upper(bounds, None if x0 is None or space is not None else np.size(x0))
        if space is not None:
            x0, bounds, options = problem.setup(cls, x0, bounds, dict(options or {}))
        if x0 is None and dim is None and bounds is None:
            raise TypeError("minimize needs x0 (or dim= / bounds= for methods that sample their own start)")
        if budget is None:
            n = (
                as_point(x0).size
                if x0 is not None
                else (check_count(dim, "dim") if dim is not None else None)
            )
            if n is None:
                n = max(np.size(np.asarray(side, dtype=np.float64)) for side in split_bounds(bounds))
            budget = DEFAULT_BUDGET_PER_DIM * max(int(n), 1)
        options = dict(options or {})
        # a method that adapts to batched objectives (e.g. "auto") learns it from vectorized=, unless told
        if "batched" in {f.name for f in dataclasses.fields(cls.Params)} and "batched" not in options:
            options["batched"] = bool(vectorized)
        opt = cls(
            x0,
            seed=seed,
            bounds=bounds,
            budget=budget,
            max_iter=max_iter,
            f_target=f_target,
            dim=dim,
            **options,
        )
    every = check_count(checkpoint_every, "checkpoint_every")
    if isinstance(method, Method) and space is not None:
        problem.setup(type(opt), None, None, {})  # the encoding of the method (its x0 and box are set)
    holder.append(opt)
    budget_given = opt.budget
    if stochastic is not None:
        _reserve(opt, stochastic, budget_given)  # the sample checks' queries stay inside the budget
    problem.start(opt.dim, opt.budget, opt.n_queries)  # a resumed optimizer has spent part of the budget
    oracle = problem
    callback = _scipy_callback(callback, problem)
    if asynchronous:
        from zoo.core.asynchronous import run_async

        try:
            reasons = run_async(
                opt, problem, callback=callback, max_time=max_time, progress=progress, checkpoint=checkpoint,
                every=every,
            )  # fmt: skip
        finally:
            problem.close()
        return _result(opt, problem, reasons, {"nfev": [], "fun": [], "batch_min": []})

    hist_nfev: list[int] = []
    hist_best: list[float] = []
    hist_batch: list[float] = []
    hist_extra: dict[str, list[float]] = {}
    bar = progress_bar(opt.budget, opt.n_queries, unit="queries") if progress else None
    per_eval = bar_update(bar, problem) if bar is not None and problem.evaluator is not None else None
    t0 = time.perf_counter()
    reasons: dict[str, Any] = {}
    try:
        while True:
            reasons = opt.stop()
            if reasons:
                break
            if max_time is not None and time.perf_counter() - t0 > max_time:
                reasons = {"max_time": max_time}
                break
            X = opt.ask()
            done = opt.pending_values  # answers kept from an interrupted attempt at this batch
            answered, spent = len(done), problem.nfev
            try:
                values = oracle(X, done, on_done=per_eval)
            except BaseException as err:
                # queries the objective was given but that left no answer (a call that raised) are spent:
                # the optimizer counts them, so the budget holds across the documented resume
                opt.count_failed(problem.nfev - spent - (len(done) - answered))
                if isinstance(err, ObjectiveError):
                    err.optimizer = opt
                raise
            finally:
                if bar is not None and per_eval is None:
                    bar.update(len(done) - answered)
            opt.tell(X, values)
            if stochastic is not None:
                _reserve(opt, stochastic, budget_given)
                problem.budget_left(opt.budget)
            for key, v in opt.record().items():
                hist_extra.setdefault(key, [math.nan] * len(hist_nfev)).append(float(v))
            f_best = opt.best[1]
            hist_nfev.append(opt.nfev)
            hist_best.append(f_best)
            finite = values[np.isfinite(values)]
            hist_batch.append(float(finite.min()) if finite.size else math.inf)
            if bar is not None and opt.nit % 10 == 0:
                bar.set_postfix(best=f"{f_best:.4g}", refresh=False)
            if checkpoint is not None and opt.nit % every == 0:
                _checkpoint.save(checkpoint, opt.state_dict())
            if callback is not None and callback(opt):
                reasons = {"callback": True}
                break
    except BaseException:
        # an objective error, a KeyboardInterrupt, a failing callback: the optimizer is exactly as after its
        # last tell (plus the answers kept for the pending batch), so the checkpoint resumes the run
        if checkpoint is not None:
            _checkpoint.save(checkpoint, opt.state_dict())
        raise
    finally:
        if bar is not None:
            bar.close()
        problem.close()
    if checkpoint is not None:
        _checkpoint.save(checkpoint, opt.state_dict())
    res = _result(
        opt, problem, reasons, {"nfev": hist_nfev, "fun": hist_best, "batch_min": hist_batch, **hist_extra}
    )
    if stochastic is not None:
        opt.budget = budget_given
        res["nfev"] = opt.n_queries + stochastic.check_queries
        res["stochastic"] = stochastic.report
        res["faults"] = res.get("faults", []) + stochastic.faults
        res["n_faults"] = len(res["faults"])
    return res


def _check_stochastic(**given: Any) -> None:
    """A :class:`zoo.Stochastic` objective is evaluated in this process by its own batch function."""
    bad = [k for k in ("space", "constraints", "executor", "timeout", "log") if given[k] is not None]
    bad += [k for k in ("asynchronous", "vectorized") if given[k]]
    if given["workers"] != 1:
        bad.append("workers")
    if given["args"] not in ((), None):
        bad.append("args")
    if bad:
        raise TypeError(
            f"a zoo.Stochastic objective is evaluated in process by zoo.Stochastic itself; {', '.join(bad)} "
            "cannot be combined with it (give vectorized= to zoo.Stochastic, and bind extra arguments in fun)"
        )


def _reserve(opt: Method, stochastic: Stochastic, budget: int | None) -> None:
    """The optimizer's budget less the sample checks' queries, spent and still possible."""
    if budget is not None:
        opt.budget = max(budget - stochastic.check_queries - stochastic.pending_checks, 0)


def _result(opt: Method, problem: Problem, reasons: dict[str, Any], hist: dict[str, list]) -> Result:
    x_best, f_best = opt.best
    found = math.isfinite(f_best)
    extra = dict(opt.outcome())  # e.g. a run that ended worse than it started, the step control's record
    failure = extra.pop("failure", None) if found else None
    note = extra.pop("note", None)
    if "budget" in reasons and opt.pending is not None and opt.n_failed:
        # a resumed run whose pending batch no longer fits: say where the budget went
        note = "; ".join(filter(None, [note, (
            f"the pending batch ({len(opt.pending)} points) no longer fits the budget: {opt.n_failed} queries "
            f"went to calls that failed, {len(opt.pending_values)} answers of the batch were never told"
        )]))  # fmt: skip
    status = 6 if failure else status_of(reasons, found)
    res = Result(
        **extra,
        x=x_best,
        fun=f_best,
        nfev=opt.n_queries,
        nit=opt.nit,
        success=status == 0,
        status=status,
        message="; ".join(m for m in (_message(reasons, found), failure, note) if m),
        stop=reasons,
        n_nonfinite=opt.n_nonfinite,
        n_failed=opt.n_failed,
        history={
            "nfev": np.array(hist["nfev"], dtype=np.int64),
            **{k: np.array(v, dtype=np.float64) for k, v in hist.items() if k != "nfev"},
        },
        method=opt.name,
        seed=opt.seed,
        optimizer=opt,
    )
    problem.finish(res, opt)
    return res


def _scipy_callback(callback: Callable | None, problem: Problem) -> Callable | None:
    """scipy's ``callback(intermediate_result)`` when the callable names that parameter, else ``callback(opt)``;
    ``StopIteration`` from either stops the run (scipy's convention)."""
    if callback is None:
        return None
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        params = []
    scipy_style = params == ["intermediate_result"]

    def call(opt: Method) -> bool:
        try:
            if scipy_style:
                x, f = opt.best
                if problem.space is not None:
                    x = problem.space.decode(x, problem.encoding)
                return bool(callback(intermediate_result=Result(x=x, fun=f, nit=opt.nit, nfev=opt.n_queries)))
            return bool(callback(opt))
        except StopIteration:
            return True

    return call


def bar_update(bar: Any, problem: Problem) -> Callable:
    """Progress per evaluation: evaluations done and workers busy."""

    def on_done(outcome: Any) -> None:
        bar.update(1)
        ev = problem.evaluator
        if ev is not None:
            bar.set_postfix(busy=f"{ev.busy}/{ev.capacity}", faults=len(problem.faults), refresh=False)

    return on_done


def _message(reasons: dict[str, Any], found: bool) -> str:
    if not found:
        return "no finite objective value was found"
    text = {
        "budget": "the query budget is spent (the next batch would exceed it)",
        "max_iter": "the iteration limit is reached",
        "f_target": "the target value is reached",
        "max_time": "the time limit is reached",
        "callback": "the callback asked to stop",
    }
    return "; ".join(text.get(k, f"{k}: {v}") for k, v in reasons.items()) or "stopped"
