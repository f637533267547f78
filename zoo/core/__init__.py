"""The one interface and what every method shares."""

from zoo.core.driver import minimize
from zoo.core.estimator import Estimator, Params, State
from zoo.core.oracle import BudgetExhausted, Comparisons, ObjectiveError, ValueOracle
from zoo.core.registry import get, make, methods, register
from zoo.core.result import Result

__all__ = [
    "BudgetExhausted",
    "Comparisons",
    "Estimator",
    "ObjectiveError",
    "Params",
    "Result",
    "State",
    "ValueOracle",
    "get",
    "make",
    "methods",
    "minimize",
    "register",
]
