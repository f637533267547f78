"""Adam (Kingma & Ba, ICLR 2015), the update of ZO-AdaMM (Chen et al., NeurIPS 2019) and of the rge method.

``m <- b1 m + (1-b1) g``; ``v <- b2 v + (1-b2) g^2``; ``step = m_hat / (sqrt(v_hat) + eps)`` with
``m_hat = m / (1-b1^(t+1))``, ``v_hat = v / (1-b2^(t+1))``, ``t`` the number of updates so far; then
``x <- x - lr_t * step``. The one definition of Adam in zoo (numpy methods, federated clients, ``zoo.torch``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.core.arrays import F64, namespace, operands
from zoo.updates.base import Transform, UpdateRule, register_rule
from zoo.updates.scale import scale_by_learning_rate


@dataclasses.dataclass(frozen=True)
class ScaleByAdam(Transform):
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    _f64 = None  # the constants as 0-d float64 operands, built on first use (a cache, not a field)

    def init(self, params):
        xp = namespace(params)
        return {"m": xp.zeros_like(params), "v": xp.zeros_like(params), "count": 0}

    def _constants(self, g):
        """``(b1, 1 - b1, b2, 1 - b2, eps)`` as operands of ``g`` (:func:`zoo.core.arrays.operands`): for a
        float64 ndarray 0-d arrays, built once per transform (the same numbers, about 1 us less a step)."""
        if type(g) is np.ndarray and g.dtype is F64:
            c = self._f64
            if c is None:  # frozen dataclass: a cache, not a field
                c = operands(g, self.b1, 1.0 - self.b1, self.b2, 1.0 - self.b2, self.eps)
                object.__setattr__(self, "_f64", c)
            return c
        return self.b1, 1.0 - self.b1, self.b2, 1.0 - self.b2, self.eps

    def update(self, g, state, params=None):
        t = int(state["count"])
        c = self._f64  # (_constants' cache, inline: this runs at every step)
        b1, c1, b2, c2, eps = (
            c if c is not None and type(g) is np.ndarray and g.dtype is F64 else self._constants(g)
        )
        m = b1 * state["m"] + c1 * g
        v = b2 * state["v"] + c2 * (g * g)
        m_hat_scale = 1.0 / (1.0 - self.b1 ** (t + 1))
        v_hat_scale = 1.0 / (1.0 - self.b2 ** (t + 1))
        if type(g) is np.ndarray and g.dtype is F64:  # (operands, inline: 0-d arrays, the same numbers)
            step = (m * np.array(m_hat_scale)) / (np.sqrt(v * np.array(v_hat_scale)) + eps)
        else:
            m_hat_scale, v_hat_scale = operands(g, m_hat_scale, v_hat_scale)
            step = (m * m_hat_scale) / (namespace(g).sqrt(v * v_hat_scale) + eps)
        return step, {"m": m, "v": v, "count": t + 1}


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> ScaleByAdam:
    return ScaleByAdam(b1, b2, eps)


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

    def transforms(self):
        return (scale_by_adam(self.b1, self.b2, self.eps), scale_by_learning_rate(self.lr))
