"""Vectorized test functions ``f(X)`` for ``X`` of shape ``(n, d)``, with known optima."""

from zoo.functions.classic import FUNCTIONS, TestFunction

sphere = FUNCTIONS["sphere"]
ellipsoid = FUNCTIONS["ellipsoid"]
rosenbrock = FUNCTIONS["rosenbrock"]
rastrigin = FUNCTIONS["rastrigin"]
ackley = FUNCTIONS["ackley"]
griewank = FUNCTIONS["griewank"]
levy = FUNCTIONS["levy"]
styblinski_tang = FUNCTIONS["styblinski_tang"]


def get(name: str) -> TestFunction:
    """The test function called ``name`` (``-`` and ``_`` are interchangeable)."""
    key = name.replace("-", "_").lower()
    if key not in FUNCTIONS:
        raise ValueError(f"unknown test function {name!r}; choose one of {sorted(FUNCTIONS)}")
    return FUNCTIONS[key]


def names() -> list[str]:
    return sorted(FUNCTIONS)


__all__ = ["FUNCTIONS", "TestFunction", "get", "names", *sorted(FUNCTIONS)]
