"""Clipping transforms (optax's ``clip`` / ``clip_by_global_norm``): bound a heavy-tailed ZO estimate before
the rule sees it, e.g. ``chain(clip_by_norm(1.0), scale_by_adam(), scale_by_learning_rate(0.1))``.

- ``clip(a)``: ``step_i = min(max(g_i, -a), a)``.
- ``clip_by_norm(c)``: ``step = g * min(1, c / ||g||)``, the norm over the last axis (one per row of a stack).
"""

from __future__ import annotations

import dataclasses
import math

from zoo.core.arrays import namespace
from zoo.updates.base import Transform


def _positive(name: str, v: float) -> None:
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a positive finite number, got {v!r}")


@dataclasses.dataclass(frozen=True)
class Clip(Transform):
    max_delta: float

    def __post_init__(self) -> None:
        _positive("max_delta", self.max_delta)

    def update(self, g, state, params=None):
        return namespace(g).clip(g, -self.max_delta, self.max_delta), state


@dataclasses.dataclass(frozen=True)
class ClipByNorm(Transform):
    max_norm: float

    def __post_init__(self) -> None:
        _positive("max_norm", self.max_norm)

    def update(self, g, state, params=None):
        xp = namespace(g)
        norm = xp.sqrt((g * g).sum(axis=-1, keepdims=True) if g.ndim else g * g)
        factor = xp.where(norm > self.max_norm, self.max_norm / xp.where(norm > 0, norm, 1.0), 1.0)
        return g * factor, state


def clip(max_delta: float) -> Clip:
    return Clip(float(max_delta))


def clip_by_norm(max_norm: float) -> ClipByNorm:
    return ClipByNorm(float(max_norm))
