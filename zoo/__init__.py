"""zoo: zeroth-order and derivative-free optimization.

res = zoo.minimize(fun, x0, method="rge", budget=2000, seed=0)
opt = zoo.make("cbo", x0=x0, seed=0)          # the one ask/tell interface
zoo.methods()                                  # every registered method
"""

from __future__ import annotations

import importlib

from zoo import functions, plotting, space, updates
from zoo.core import (
    BudgetExhausted,
    Method,
    ObjectiveError,
    Result,
    get,
    make,
    methods,
    minimize,
)
from zoo.core._deprecated import moved
from zoo.core.evaluate import RayExecutor
from zoo.core.stochastic import Stochastic, StochasticWarning
from zoo.estimators import CGE, GFM, RGE, RGESGD, SPSA, GFMPlus, ZOSignSGD

__version__ = "0.1.0"  # the one version string (pyproject.toml reads it)


def _load_methods(module: str) -> None:
    """Import a module of methods so that it registers them (absent optional parts are skipped)."""
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # a real missing dependency inside the module: say so
            raise


# Each package of methods registers itself on import; zoo.torch and zoo.federated stay lazy (heavy extras).
for _m in ("zoo.estimators.rank", "zoo.population"):
    _load_methods(_m)

__all__ = [
    "CGE",
    "GFM",
    "GFMPlus",
    "RGE",
    "RGESGD",
    "SPSA",
    "BudgetExhausted",
    "Method",
    "ObjectiveError",
    "RayExecutor",
    "Result",
    "Stochastic",
    "StochasticWarning",
    "ZOSignSGD",
    "functions",
    "get",
    "make",
    "methods",
    "minimize",
    "plotting",
    "space",
    "updates",
]

_LAZY = ("torch", "federated", "session")  # heavy extras: imported on first use, `zoo.torch.ZOSGD`
_moved = moved(
    __name__,
    {
        "Estimator": "zoo.core.method:Method",
        "ZOSGD": "zoo.estimators.two_point:RGESGD",
    },  # ZOSGD: zoo.torch's name
)


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f"zoo.{name}")
    return _moved(name)
