"""Objective calls vs the budget across the documented resume after an error (issue 10, item 1).

For every registered method (aliases once), per-point and vectorized: the objective raises in the call that
holds query 40 of a budget of 50 (for a method whose batch does not fit twice in 50, the budget is
``2.5 x batch`` and the failure at 4/5 of it); the run is resumed with ``minimize(f, None, err.optimizer,
budget=...)``. Printed per method: the queries given to the objective (the raising call included), ``res.nfev``
and the budget. The run fails (exit 1) when any method gives the objective more queries than the budget.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/resume_budget.py
"""

from __future__ import annotations

import sys

import numpy as np

import zoo


def _methods() -> list[str]:
    seen: dict[type, str] = {}
    for name in zoo.methods():
        seen.setdefault(zoo.get(name), name)
    return sorted(seen.values())


def _value(X: np.ndarray, vectorized: bool):
    return np.sum((np.atleast_2d(X) - 0.3) ** 2, axis=1) if vectorized else float(np.sum((X - 0.3) ** 2))


def case(method: str, vectorized: bool) -> tuple[int, int, int]:
    x0 = np.full(3, 0.2)
    probe = zoo.make(method, x0=x0, seed=0, budget=10_000)
    batch = probe._batch_size(probe.state)
    budget = max(50, 2 * batch + batch // 2)
    query = 40 if budget == 50 else 4 * budget // 5
    sizes: list[int] = []

    def sized(X):
        sizes.append(len(X) if vectorized else 1)
        return _value(X, vectorized)

    zoo.minimize(sized, x0, method, budget=budget, seed=0, vectorized=vectorized)
    fail_at = min(int(np.searchsorted(np.cumsum(sizes), query)) + 1, len(sizes))
    given = calls = 0

    def f(X):
        nonlocal given, calls
        calls += 1
        given += len(X) if vectorized else 1
        if calls == fail_at:
            raise ArithmeticError("injected failure")
        return _value(X, vectorized)

    try:
        res = zoo.minimize(f, x0, method, budget=budget, seed=0, vectorized=vectorized)
    except zoo.ObjectiveError as err:
        res = zoo.minimize(f, None, err.optimizer, budget=budget, vectorized=vectorized)
    return given, int(res.nfev), budget


def issue_case() -> str:
    """The case of the issue: cbo, d=3, budget 50, per-point, raising at call 40, resumed with budget=50."""
    calls = 0

    def f(x):
        nonlocal calls
        calls += 1
        if calls == 40:
            raise ArithmeticError("injected failure")
        return float(np.sum(x**2))

    try:
        res = zoo.minimize(f, np.ones(3), "cbo", budget=50, seed=0)
    except zoo.ObjectiveError as err:
        res = zoo.minimize(f, None, err.optimizer, budget=50)
    return f"calls {calls}, nfev {res.nfev}, n_failed {res.get('n_failed')}, nit {res.nit}: {res.message}"


def main() -> int:
    print("issue case (cbo, budget 50, raise at call 40):", issue_case(), "\n")
    over = 0
    print(f"{'method':20s} {'objective':10s} {'queries given':>13s} {'nfev':>5s} {'budget':>6s}")
    for method in _methods():
        for vectorized in (False, True):
            given, nfev, budget = case(method, vectorized)
            over += given > budget
            flag = "  OVER" if given > budget else ""
            print(
                f"{method:20s} {'batch' if vectorized else 'point':10s} {given:13d} {nfev:5d} {budget:6d}{flag}"
            )
    print(f"cases over the budget: {over}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
