"""Clipping transforms (optax's ``clip`` / ``clip_by_global_norm``): bound a heavy-tailed ZO estimate before
the rule sees it, e.g. ``chain(clip_by_norm(1.0), scale_by_adam(), scale_by_learning_rate(0.1))``.

- ``clip(a)``: ``step_i = min(max(g_i, -a), a)``.
- ``clip_by_norm(c)``: ``step = g * min(1, c / ||g||)``, the norm over the last axis (one per row of a stack).
"""

from __future__ import annotations

import dataclasses

from zoo.core.arrays import namespace
from zoo.core.validate import check_real
from zoo.updates.base import Transform


@dataclasses.dataclass(frozen=True)
class _Clipping(Transform):
    bound: float

    def __post_init__(self) -> None:
        check_real(self.bound, f"the bound of {type(self).__name__}", 0, low_open=True)


class Clip(_Clipping):
    def update(self, g, state, params=None):
        return namespace(g).clip(g, -self.bound, self.bound), state


class ClipByNorm(_Clipping):
    elementwise = False  # the norm is over the whole vector

    def update(self, g, state, params=None):
        xp = namespace(g)
        norm = xp.sqrt((g * g).sum(axis=-1, keepdims=True))
        factor = xp.where(norm > self.bound, self.bound / xp.where(norm > 0, norm, 1.0), 1.0)
        return g * factor, state


def clip(max_delta: float) -> Clip:
    return Clip(max_delta)


def clip_by_norm(max_norm: float) -> ClipByNorm:
    return ClipByNorm(max_norm)
