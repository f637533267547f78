"""First-order update rules fed by a zeroth-order estimate: SGD, momentum, Adam, sign, schedules."""

from zoo.updates.adam import Adam
from zoo.updates.base import UpdateRule, make_rule, rules
from zoo.updates.line_search import LineSearchPhases, RankingLineSearch
from zoo.updates.momentum import Momentum
from zoo.updates.schedules import Constant, Cosine, ExponentialDecay, InverseSqrt, StepDecay
from zoo.updates.sgd import SGD
from zoo.updates.sign import Sign

__all__ = [
    "SGD",
    "Adam",
    "Constant",
    "Cosine",
    "ExponentialDecay",
    "InverseSqrt",
    "LineSearchPhases",
    "Momentum",
    "RankingLineSearch",
    "Sign",
    "StepDecay",
    "UpdateRule",
    "make_rule",
    "rules",
]
