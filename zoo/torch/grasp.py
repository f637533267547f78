"""ZO-GraSP: layer-wise sparsity ratios from forward passes only (DeepZero, Chen et al., ICLR 2024, Sec. 4).

GraSP (Wang et al., ICLR 2020) scores each weight by ``S = -theta * (H g)`` and prunes the highest scores
(the weights whose removal hurts gradient flow least). ZO-GraSP estimates both factors without backprop:

    g(theta)  = (1/q) sum_k (L(theta + mu z_k) - L(theta)) / mu * z_k          (RGE)
    H g      ~= (g(theta + nu g) - g(theta)) / nu                               (finite difference of RGEs)

with the SAME directions ``z_k`` in both RGEs: their noise is shared and largely cancels in the difference.
The scores only set how sparse each tensor is (the share of its coordinates among the globally pruned ones);
training then draws random masks at those ratios (see :class:`zoo.torch.DeepZero`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from zoo.estimators.formulas import two_point
from zoo.torch.batched import ForwardLoss
from zoo.torch.perturb import derive_seed, direction, perturb, restore


def _rge(closure, params, seeds, mu) -> tuple[list[torch.Tensor], int]:
    zs = [direction(params, s) for s in seeds]
    if isinstance(closure, ForwardLoss) and closure.batched:
        f0 = float(closure.base_loss())
        deltas = [torch.stack(col).mul(mu) for col in zip(*zs)]
        values = closure.direction_losses(params, deltas).tolist()
    else:
        f0 = float(closure())
        values = []
        for s in seeds:
            patches = perturb(params, s, mu)
            try:
                values.append(float(closure()))
            finally:
                restore(params, s, mu, patches)
    # the forward two-point formula of the estimate core, summed in place over the regenerated directions
    coef, _ = two_point.coefficients(np.array([[f0, *values]], dtype=np.float64), mu, "forward")
    g = [torch.zeros_like(p) for p in params]

    def add(j: int, c: float) -> None:
        for gi, zi in zip(g, zs[j]):
            gi.add_(zi, alpha=c)

    two_point.accumulate(coef[0], add)
    return g, len(seeds) + 1


@torch.no_grad()
def zo_grasp_sparsity(
    closure: ForwardLoss | Callable[[], torch.Tensor],
    params: Sequence[torch.Tensor],
    sparsity: float,
    *,
    n_directions: int = 64,
    mu: float = 5e-3,
    nu: float = 1e-2,
    seed: int = 0,
) -> tuple[list[float], int]:
    """Per-tensor sparsity ratios whose coordinate-weighted mean is ``sparsity``; returns (ratios, queries).

    Each tensor keeps at least one coordinate (ratio <= 1 - 1/numel). The parameters are left unchanged.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity!r}")
    params = list(params)
    if sparsity == 0.0:
        return [0.0] * len(params), 0
    seeds = [derive_seed(seed, 7919, k) for k in range(n_directions)]
    g0, q0 = _rge(closure, params, seeds, mu)
    saved = [p.detach().clone() for p in params]
    try:
        for p, g in zip(params, g0):
            p.add_(g, alpha=nu)
        g1, q1 = _rge(closure, params, seeds, mu)
    finally:
        for p, s in zip(params, saved):
            p.copy_(s)
    scores = torch.cat([(-p * (b - a) / nu).reshape(-1) for p, a, b in zip(params, g0, g1)]).double()
    n_prune = round(sparsity * scores.numel())
    pruned = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    pruned[torch.argsort(scores, descending=True, stable=True)[:n_prune]] = True
    ratios, start = [], 0
    for p in params:
        n = p.numel()
        share = float(pruned[start : start + n].float().mean())
        ratios.append(min(share, 1.0 - 1.0 / n))
        start += n
    return ratios, q0 + q1
