"""Scaling transforms: the learning rate (a number or a schedule) and optax's ``scale`` / ``scale_by_schedule``.

- ``scale(a)``: ``step = a g``.
- ``scale_by_schedule(s)``: ``step = s(t) g``, ``t`` the number of updates so far (kept in the state).
- ``scale_by_learning_rate(lr)``: ``step = -lr_t g`` (descent), ``lr`` a number or a schedule ``t -> lr``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from zoo.core.arrays import F64, operands
from zoo.updates.base import LearningRate, Transform


@dataclasses.dataclass(frozen=True)
class Scale(Transform):
    factor: float

    def update(self, g, state, params=None):
        return self.factor * g, state

    def linear(self, state):
        return self.factor, state


@dataclasses.dataclass(frozen=True)
class ScaleBySchedule(Transform):
    schedule: Callable[[int], float]

    def init(self, params):
        return {"count": 0}

    def update(self, g, state, params=None):
        a, new = self.linear(state)
        return a * g, new

    def linear(self, state):
        t = int(state["count"])
        return float(self.schedule(t)), {"count": t + 1}


@dataclasses.dataclass(frozen=True)
class ScaleByLearningRate(Transform):
    """``step = -lr_t g``: the descent step, ``lr`` a number >= 0 or a schedule ``t -> lr``."""

    lr: LearningRate
    _f64 = None  # the constant factor as a 0-d float64 operand, built on first use (a cache, not a field)

    def __post_init__(self) -> None:
        constant = not callable(self.lr)
        if constant and not (
            np.isfinite(float(self.lr)) and float(self.lr) >= 0
        ):  # 0: a frozen or warm-up step
            raise ValueError(f"lr must be a finite number >= 0 or a schedule, got {self.lr!r}")
        object.__setattr__(self, "_factor", -float(self.lr) if constant else None)

    def init(self, params):
        return {} if self._factor is not None else {"count": 0}  # a constant rate needs no count

    def update(self, g, state, params=None):
        if self._factor is not None:
            if type(g) is np.ndarray and g.dtype is F64:  # the factor as a 0-d array (operands): 0.2 us less
                f = self._f64
                if f is None:
                    (f,) = operands(g, self._factor)
                    object.__setattr__(self, "_f64", f)
                return f * g, state
            return self._factor * g, state
        a, new = self.linear(state)
        return a * g, new

    def exact_sign(self):
        f = self._factor
        return f if f == 1.0 or f == -1.0 else None  # (lr = 1: the step is -g exactly, the state {} for good)

    def linear(self, state):
        if self._factor is not None:
            return self._factor, state
        t = int(state["count"])
        return -float(self.lr(t)), {"count": t + 1}


def scale(factor: float) -> Scale:
    return Scale(float(factor))


def scale_by_schedule(schedule: Callable[[int], float]) -> ScaleBySchedule:
    return ScaleBySchedule(schedule)


def scale_by_learning_rate(lr: LearningRate) -> ScaleByLearningRate:
    return ScaleByLearningRate(lr)
