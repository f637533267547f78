"""What every update rule shares: turn an estimate ``g`` into a step, optax-style ``init`` / ``apply``.

A rule is a small frozen dataclass. ``init(x)`` returns its state (a dict of arrays, saved in the
optimizer's ``state_dict``); ``apply(x, g, state, t)`` returns ``(x_new, state_new)`` without writing into
``state``. ``lr`` is a number or a schedule (any callable ``t -> lr``, see :mod:`zoo.updates.schedules`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

LearningRate = float | Callable[[int], float]


@dataclasses.dataclass(frozen=True)
class UpdateRule:
    lr: LearningRate = 1e-3

    def __post_init__(self) -> None:
        if not callable(self.lr):
            lr = float(self.lr)
            if not np.isfinite(lr) or lr < 0:  # 0 is allowed: warm-up from 0, schedules ending at 0, frozen
                raise ValueError(f"lr must be a finite number >= 0 or a schedule, got {self.lr!r}")

    def rate(self, t: int) -> float:
        """The step size at step ``t`` (0-based)."""
        return float(self.lr(t)) if callable(self.lr) else float(self.lr)

    def init(self, x: np.ndarray) -> dict[str, Any]:
        return {}

    def apply(
        self, x: np.ndarray, g: np.ndarray, state: dict[str, Any], t: int
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """``(x_new, state_new)`` from the estimate ``g`` at step ``t``; never writes into ``state``."""
        raise TypeError(f"{type(self).__name__} is not an update rule: subclass UpdateRule and define apply")


_RULES: dict[str, type[UpdateRule]] = {}


def register_rule(name: str) -> Callable[[type[UpdateRule]], type[UpdateRule]]:
    def deco(cls: type[UpdateRule]) -> type[UpdateRule]:
        _RULES[name] = cls
        return cls

    return deco


def rules() -> list[str]:
    return sorted(_RULES)


def make_rule(update: str | UpdateRule, lr: LearningRate | None = None, **kwargs: Any) -> UpdateRule:
    """``make_rule("adam", 0.1)`` or pass an :class:`UpdateRule` instance through unchanged."""
    if isinstance(update, UpdateRule):
        return update
    if update not in _RULES:
        raise ValueError(f"unknown update rule {update!r}; choose one of {rules()} or pass an UpdateRule")
    if lr is not None:
        kwargs["lr"] = lr
    return _RULES[update](**kwargs)
