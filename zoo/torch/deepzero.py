"""DeepZero (Chen et al., "DeepZero: Scaling up zeroth-order optimization for deep model training", ICLR 2024).

Sparse coordinatewise gradient estimation (CGE) + SGD with momentum (``update=`` any zoo rule):

    g_i = (L(theta + mu e_i) - L(theta)) / mu   for i in the mask,   0 elsewhere     (mu = 5e-3)

- layer-wise sparsity ratios from ZO-GraSP (:func:`zo_grasp_sparsity`), computed at the first step;
- a random mask per tensor at its ratio, re-drawn every ``mask_every`` steps (weights stay dense);
- with a :class:`~zoo.torch.ForwardLoss` closure built with ``feature_reuse=True`` the coordinates of one
  tensor are evaluated in batched calls that restart from the cached input of its stage.

Paper (ResNet-20, CIFAR-10): 86.46 % test accuracy at 90 % gradient sparsity, backprop 92.85 %.
"""

from __future__ import annotations

from typing import Any

import torch

from zoo.torch.grasp import zo_grasp_sparsity
from zoo.torch.optim import ZOOptimizer


class DeepZero(ZOOptimizer):
    """Sparse CGE (ZO-GraSP ratios, random re-drawn masks) + SGD with momentum (or another update rule)."""

    def __init__(
        self,
        params,
        lr: float = 0.1,
        *,
        sparsity: float = 0.9,
        update: str = "momentum",
        momentum: float = 0.9,
        mu: float = 5e-3,
        mask_every: int = 100,
        grasp: bool = True,
        grasp_directions: int = 64,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        if update == "momentum":
            kwargs.setdefault("momentum", momentum)
        super().__init__(
            params,
            lr,
            update=update,
            estimator="cge",
            mu=mu,
            sparsity=sparsity,
            mask_every=mask_every,
            seed=seed,
            **kwargs,
        )
        self.zo["target_sparsity"] = float(sparsity)
        self.zo["calibrated"] = not grasp or sparsity == 0.0
        self.grasp_directions = grasp_directions

    @torch.no_grad()
    def step(self, closure=None) -> torch.Tensor:  # type: ignore[override]
        if not self.zo["calibrated"]:
            if closure is None:
                raise ValueError("DeepZero needs step(closure), closure() returning the loss")
            ratios, queries = zo_grasp_sparsity(
                closure,
                self._params(),
                self.zo["target_sparsity"],
                n_directions=self.grasp_directions,
                mu=self.mu,
                seed=self.zo["seed"],
            )
            self.set_sparsity(ratios)
            self.zo["queries"] += queries
            self.zo["calibrated"] = True
        return super().step(closure)
