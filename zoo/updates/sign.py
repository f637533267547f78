"""Sign descent, ZO-signSGD (Liu et al., ICLR 2019): ``x <- x - lr_t * sign(g)``.

Only the direction of each coordinate is used, which makes it robust to the scale noise of ZO estimates.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.updates.base import UpdateRule, register_rule


@register_rule("sign")
@dataclasses.dataclass(frozen=True)
class Sign(UpdateRule):
    def apply(self, x, g, state, t):
        return x - self.rate(t) * np.sign(g), state
