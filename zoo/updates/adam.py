"""Adam (Kingma & Ba, 2015), the update ZO-AdaMM and the rge method use.

``m <- b1 m + (1-b1) g``; ``v <- b2 v + (1-b2) g^2``;
``x <- x - lr_t * m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1-b1^(t+1))``, ``v_hat = v / (1-b2^(t+1))``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.updates.base import UpdateRule, register_rule


@register_rule("adam")
@dataclasses.dataclass(frozen=True)
class Adam(UpdateRule):
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("b1", "b2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.eps <= 0:
            raise ValueError(f"eps must be positive, got {self.eps}")

    def init(self, x):
        return {"m": np.zeros_like(x), "v": np.zeros_like(x)}

    def apply(self, x, g, state, t):
        m = self.b1 * state["m"] + (1.0 - self.b1) * g
        v = self.b2 * state["v"] + (1.0 - self.b2) * (g * g)
        m_hat_scale = 1.0 / (1.0 - self.b1 ** (t + 1))
        v_hat_scale = 1.0 / (1.0 - self.b2 ** (t + 1))
        step = (m * m_hat_scale) / (np.sqrt(v * v_hat_scale) + self.eps)
        return x - self.rate(t) * step, {"m": m, "v": v}
