"""The outcome of ``zoo.minimize``: a ``scipy.optimize.OptimizeResult`` (where scipy is installed) plus ``history``.

``success`` and ``status`` mean what they mean in scipy: ``success`` is True only when the run ended by its own
convergence criterion or reached ``f_target``; a run stopped by the budget (scipy's ``maxfev``), an iteration
limit (``maxiter``), the time limit or the callback did not converge, so ``success=False``, exactly as
``scipy.optimize.minimize(method="Nelder-Mead", options={"maxfev": n})`` reports. The codes:

====== ============================================================================= =========
status meaning                                                                      success
====== ============================================================================= =========
0      converged: the method's own stopping rule (e.g. ``cma_tolfun``) or ``f_target`` True
1      the query budget is spent (scipy's maxfev)                                    False
2      the iteration limit ``max_iter`` is reached (scipy's maxiter)                 False
3      the time limit ``max_time`` is reached                                        False
4      no finite objective value was found                                           False
5      ``constraints=``: no feasible point was found                                 False
6      the method reports a failure (``Method.outcome``), e.g. its run ended worse   False
       than it started; the sentence is in ``message``
99     the callback asked to stop (scipy's code for a callback raising StopIteration) False
====== ============================================================================= =========
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # scipy's class where it is installed, so isinstance(res, OptimizeResult) holds
    from scipy.optimize import OptimizeResult as _Base
except ImportError:  # pragma: no cover - scipy is in every CI extra

    class _Base(dict):  # type: ignore[no-redef]
        def __getattr__(self, name: str) -> Any:
            try:
                return self[name]
            except KeyError as exc:
                raise AttributeError(name) from exc

        __setattr__ = dict.__setitem__  # type: ignore[assignment]
        __delattr__ = dict.__delitem__  # type: ignore[assignment]


STATUS = {
    0: "converged",
    1: "budget",
    2: "max_iter",
    3: "max_time",
    4: "no finite value",
    5: "infeasible",
    6: "worse than the start",
    99: "callback",
}


#: stop-reason keys that say what ran, not why the run stopped (``auto``'s stages): they never make a run converged
INFO_KEYS = ("auto",)


def status_of(reasons: dict[str, Any], found: bool) -> int:
    """scipy-style status code from the stop reasons (see the module docstring)."""
    if not found:
        return 4
    if "callback" in reasons:
        return 99
    converged = [k for k in reasons if k not in ("budget", "max_iter", "max_time", *INFO_KEYS)]
    if converged:  # f_target or the method's own rule: converged even if the budget ran out at the same time
        return 0
    if "budget" in reasons:
        return 1
    if "max_iter" in reasons:
        return 2
    if "max_time" in reasons:
        return 3
    return 0


class Result(_Base):
    """A dict with attribute access: ``scipy.optimize.OptimizeResult`` where scipy is installed.

    Fields: ``x`` (best point; the user's types and a dict when ``space=`` is named), ``fun`` (its value),
    ``nfev`` (objective queries, every one counted), ``nit`` (ask/tell rounds), ``success``, ``status`` (see the
    module docstring), ``message``, ``stop`` (dict of the reasons the run stopped), ``n_nonfinite`` (NaN/inf
    values seen), ``n_failed`` (queries of objective calls that raised before a resume: in ``nfev``, never
    told), ``n_faults`` and ``faults`` (evaluations that raised, timed out or lost their worker),
    ``history`` (dict of arrays per round: ``nfev``, ``fun`` best so far, ``batch_min``), ``method``, ``seed``;
    with ``constraints=``: ``constr`` (g(x) at ``x``), ``maxcv`` (largest violation) and ``feasible``.
    """

    def __repr__(self) -> str:
        keys = (
            "x", "fun", "nfev", "nit", "success", "status", "message", "stop", "n_nonfinite", "n_faults",
            "feasible", "maxcv", "method", "seed",
        )  # fmt: skip
        width = max(len(k) for k in keys)
        lines = []
        for k in keys:
            if k in self:
                v = self[k]
                if isinstance(v, np.ndarray) and v.size > 8:
                    v = np.array2string(v[:8], precision=4) + f" ... ({v.size} values)"
                lines.append(f"{k.rjust(width)}: {v}")
        return "\n".join(lines)
