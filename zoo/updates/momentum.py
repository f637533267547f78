"""Heavy-ball / Nesterov momentum (Polyak 1964; Sutskever et al. 2013), optax's ``trace``.

``v <- beta * v + g``; ``step = v`` (heavy ball) or ``g + beta * v`` (Nesterov); then ``x <- x - lr_t * step``.
"""

from __future__ import annotations

import dataclasses

from zoo.core.arrays import namespace
from zoo.updates.base import Transform, UpdateRule, register_rule
from zoo.updates.scale import scale_by_learning_rate


@dataclasses.dataclass(frozen=True)
class Trace(Transform):
    beta: float = 0.9
    nesterov: bool = False

    def init(self, params):
        return {"v": namespace(params).zeros_like(params)}

    def update(self, g, state, params=None):
        v = self.beta * state["v"] + g
        return (g + self.beta * v if self.nesterov else v), {"v": v}


def trace(beta: float = 0.9, nesterov: bool = False) -> Trace:
    return Trace(beta, nesterov)


@register_rule("momentum")
@dataclasses.dataclass(frozen=True)
class Momentum(UpdateRule):
    beta: float = 0.9
    nesterov: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {self.beta}")

    def transforms(self):
        return (trace(self.beta, self.nesterov), scale_by_learning_rate(self.lr))
