"""Step-size schedules: callables ``t -> lr`` (``t`` is the 0-based update count) usable as any rule's ``lr``.

A schedule is also a transform: in a :func:`~zoo.updates.chain` it is the learning rate,
``step = -lr_t g`` (the same definition as ``scale_by_learning_rate(schedule)``), e.g.
``chain(clip_by_norm(1.0), scale_by_adam(), Cosine(0.1, total=1000))``.
"""

from __future__ import annotations

import abc
import dataclasses
import math

from zoo.updates.base import Transform
from zoo.updates.scale import ScaleByLearningRate


class Schedule(Transform):
    """Base of the schedules: ``__call__(t) -> lr``; as a transform, the learning rate ``-lr_t g``."""

    @abc.abstractmethod
    def __call__(self, t: int) -> float:
        """The learning rate at update ``t``."""

    def init(self, params):
        return ScaleByLearningRate(self).init(params)

    def update(self, g, state, params=None):
        return ScaleByLearningRate(self).update(g, state, params)

    def linear(self, state):
        return ScaleByLearningRate(self).linear(state)


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    lr: float

    def __post_init__(self) -> None:
        _positive("lr", self.lr)

    def __call__(self, t: int) -> float:
        return self.lr


@dataclasses.dataclass(frozen=True)
class ExponentialDecay(Schedule):
    """``lr * decay ** (t / every)``; ``staircase=True``: ``lr * decay ** floor(t / every)`` (optax's names)."""

    lr: float
    decay: float = 0.99
    every: int = 1
    staircase: bool = False

    def __post_init__(self) -> None:
        _positive("lr", self.lr)
        if not 0 < self.decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")

    def __call__(self, t: int) -> float:
        return self.lr * self.decay ** ((t // self.every) if self.staircase else (t / self.every))


@dataclasses.dataclass(frozen=True)
class InverseSqrt(Schedule):
    """``lr / sqrt(1 + t / t0)``: the classic rate of stochastic ZO analyses."""

    lr: float
    t0: float = 1.0

    def __post_init__(self) -> None:
        _positive("lr", self.lr)
        _positive("t0", self.t0)

    def __call__(self, t: int) -> float:
        return self.lr / math.sqrt(1.0 + t / self.t0)


@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """``lr_min + (lr - lr_min) * (1 + cos(pi * min(t, total) / total)) / 2``."""

    lr: float
    total: int
    lr_min: float = 0.0

    def __post_init__(self) -> None:
        _positive("lr", self.lr)
        if self.total <= 0:
            raise ValueError(f"total must be a positive number of steps, got {self.total}")

    def __call__(self, t: int) -> float:
        frac = min(t, self.total) / self.total
        return self.lr_min + (self.lr - self.lr_min) * 0.5 * (1.0 + math.cos(math.pi * frac))


def StepDecay(lr: float, factor: float = 0.5, every: int = 100) -> ExponentialDecay:  # noqa: N802 - a schedule
    """``lr * factor ** floor(t / every)``: :class:`ExponentialDecay` with ``staircase=True``."""
    return ExponentialDecay(lr, factor, every, staircase=True)
