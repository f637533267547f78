"""``zoo.minimize``: the ask/tell loop with budget, stopping, callbacks, progress and checkpoints."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from zoo.core import checkpoint as _checkpoint
from zoo.core import registry
from zoo.core.method import Method
from zoo.core.oracle import ObjectiveError, ValueOracle
from zoo.core.result import Result
from zoo.core.validate import as_point, check_count, split_bounds

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
) -> Result:
    """Minimize a black-box ``fun`` with any registered method.

    ``fun(x)`` takes a point of shape ``(d,)`` and returns a number, or with ``vectorized=True`` takes a
    batch ``(n, d)`` and returns ``(n,)``. ``budget`` is a hard limit on queries (``res.nfev <= budget``;
    default ``1000 * d``). ``options`` are the method's own (unknown keys raise ``TypeError``).
    ``callback(opt)`` runs after every tell; returning True stops the run. ``method`` may also be an
    :class:`~zoo.core.method.Method` instance, e.g. the ``optimizer`` attached to an
    :class:`~zoo.core.oracle.ObjectiveError`, to resume a run.

    If the objective raises, an :class:`ObjectiveError` propagates with the offending point in ``.x`` and the
    optimizer (state unchanged, batch still pending) in ``.optimizer``.
    """
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict of method options, got {type(options).__name__}")
    if isinstance(method, Method):
        opt = method
        if budget is not None:
            opt.budget = check_count(budget, "budget")
    else:
        cls = registry.get(method)
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
    oracle = ValueOracle(fun, dim=opt.dim, vectorized=vectorized, budget=opt.budget)
    oracle.nfev = opt.n_queries  # a resumed optimizer has already spent part of the budget

    hist_nfev: list[int] = []
    hist_best: list[float] = []
    hist_batch: list[float] = []
    bar = _progress_bar(opt.budget, opt.n_queries) if progress else None
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
            answered = len(done)
            try:
                values = oracle(X, done)
            except ObjectiveError as err:
                err.optimizer = opt
                raise
            finally:
                if bar is not None:
                    bar.update(len(done) - answered)
            opt.tell(X, values)
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
    if checkpoint is not None:
        _checkpoint.save(checkpoint, opt.state_dict())
    x_best, f_best = opt.best
    found = math.isfinite(f_best)
    return Result(
        x=x_best,
        fun=f_best,
        nfev=opt.n_queries,
        nit=opt.nit,
        success=found,
        status=0 if found else 1,
        message=_message(reasons, found),
        stop=reasons,
        n_nonfinite=opt.n_nonfinite,
        history={
            "nfev": np.array(hist_nfev, dtype=np.int64),
            "fun": np.array(hist_best, dtype=np.float64),
            "batch_min": np.array(hist_batch, dtype=np.float64),
        },
        method=opt.name,
        seed=opt.seed,
        optimizer=opt,
    )


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


def _progress_bar(total: int | None, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="query", dynamic_ncols=True, leave=True)
