"""Plain stochastic gradient descent: ``x <- x - lr_t * g`` (Ghadimi & Lan 2013 with ZO estimates)."""

from __future__ import annotations

import dataclasses

from zoo.updates.base import UpdateRule, register_rule
from zoo.updates.scale import scale_by_learning_rate


@register_rule("sgd")
@dataclasses.dataclass(frozen=True)
class SGD(UpdateRule):
    def transforms(self):
        return (scale_by_learning_rate(self.lr),)
