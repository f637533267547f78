"""Sign descent, ZO-signSGD (Liu et al., ICLR 2019): ``x <- x - lr_t * sign(g)``.

Only the direction of each coordinate is used, which makes it robust to the scale noise of ZO estimates.
"""

from __future__ import annotations

import dataclasses

from zoo.core.arrays import namespace
from zoo.updates.base import Transform, UpdateRule, register_rule
from zoo.updates.scale import scale_by_learning_rate


@dataclasses.dataclass(frozen=True)
class ScaleBySign(Transform):
    """``step = sign(g)``."""

    def update(self, g, state, params=None):
        return namespace(g).sign(g), state


def scale_by_sign() -> ScaleBySign:
    return ScaleBySign()


@register_rule("sign")
@dataclasses.dataclass(frozen=True)
class Sign(UpdateRule):
    def transforms(self):
        return (scale_by_sign(), scale_by_learning_rate(self.lr))
