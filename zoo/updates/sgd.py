"""Plain stochastic gradient descent: ``x <- x - lr_t * g``."""

from __future__ import annotations

import dataclasses

from zoo.updates.base import UpdateRule, register_rule


@register_rule("sgd")
@dataclasses.dataclass(frozen=True)
class SGD(UpdateRule):
    def apply(self, x, g, state, t):
        return x - self.rate(t) * g, state
