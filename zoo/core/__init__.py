"""The one interface and what every method shares."""

from zoo.core._deprecated import moved
from zoo.core.driver import minimize
from zoo.core.feedback import Comparisons
from zoo.core.method import Method, Params, State
from zoo.core.oracle import BudgetExhausted, ObjectiveError, ObjectiveOutputError, ValueOracle
from zoo.core.registry import get, make, methods, register
from zoo.core.result import Result

__all__ = [
    "BudgetExhausted",
    "Comparisons",
    "Method",
    "ObjectiveError",
    "ObjectiveOutputError",
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

__getattr__ = moved(__name__, {"Estimator": "zoo.core.method:Method"})
