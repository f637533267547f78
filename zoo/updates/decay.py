"""Decoupled weight decay as a transform (optax's ``add_decayed_weights``; Loshchilov & Hutter, "Decoupled
Weight Decay Regularization", ICLR 2019).

``step = g + wd * x``: placed before the learning rate in a chain, the update is ``x <- x - lr_t (g' + wd x)``
with ``g'`` the rule's own step (Adam's ``m_hat / (sqrt(v_hat) + eps)``): AdamW's decay, which Adam's
normalization does not rescale; with plain SGD it is MeZO's form, ``x <- x - lr_t (c z + wd x)``.
"""

from __future__ import annotations

import dataclasses

from zoo.updates.base import Transform


@dataclasses.dataclass(frozen=True)
class AddDecayedWeights(Transform):
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        wd = float(self.weight_decay)
        if not (wd >= 0.0 and wd < float("inf")):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {self.weight_decay!r}")

    def update(self, g, state, params=None):
        if self.weight_decay == 0.0:
            return g, state
        if params is None:
            raise ValueError("add_decayed_weights needs the parameters: update(g, state, params)")
        return g + self.weight_decay * params, state

    def linear(self, state):
        return (1.0, state) if self.weight_decay == 0.0 else None


def add_decayed_weights(weight_decay: float) -> AddDecayedWeights:
    return AddDecayedWeights(float(weight_decay))
