"""Heavy-ball / Nesterov momentum (Polyak 1964; Sutskever et al. 2013).

``v <- beta * v + g``; ``x <- x - lr_t * v`` (heavy ball) or ``x <- x - lr_t * (g + beta * v)`` (Nesterov).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.updates.base import UpdateRule, register_rule


@register_rule("momentum")
@dataclasses.dataclass(frozen=True)
class Momentum(UpdateRule):
    beta: float = 0.9
    nesterov: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {self.beta}")

    def init(self, x):
        return {"v": np.zeros_like(x)}

    def apply(self, x, g, state, t):
        v = self.beta * state["v"] + g
        step = g + self.beta * v if self.nesterov else v
        return x - self.rate(t) * step, {"v": v}
