"""Torch twins of the update rules in :mod:`zoo.updates`, applied in place to one parameter tensor.

The hyper-parameters, their validation and the step-size schedules come from the rule dataclasses of
:mod:`zoo.updates` (``make_rule``); only the arithmetic is repeated here, on tensors and in place, so that it runs
on the parameter's device without a round trip through numpy. The formulas are the ones of the numpy rules:

- SGD: ``p <- p - lr_t g``
- Momentum: ``v <- beta v + g``; ``p <- p - lr_t v`` (Nesterov: ``p <- p - lr_t (g + beta v)``)
- Adam: ``m <- b1 m + (1-b1) g``; ``v <- b2 v + (1-b2) g^2``;
  ``p <- p - lr_t (m / (1-b1^(t+1))) / (sqrt(v / (1-b2^(t+1))) + eps)``
- Sign: ``p <- p - lr_t sign(g)``
"""

from __future__ import annotations

from typing import Any

import torch

from zoo.updates import SGD, Adam, Momentum, Sign, UpdateRule


def rule_state(rule: UpdateRule, p: torch.Tensor) -> dict[str, torch.Tensor]:
    """The per-parameter state of ``rule`` (tensors shaped like ``p``)."""
    if isinstance(rule, Momentum):
        return {"v": torch.zeros_like(p)}
    if isinstance(rule, Adam):
        return {"m": torch.zeros_like(p), "v": torch.zeros_like(p)}
    return {}


def apply_rule(rule: UpdateRule, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], t: int) -> None:
    """One step of ``rule`` on ``p`` (in place) with the estimate ``g``; ``state`` is updated in place."""
    lr = rule.rate(t)
    if isinstance(rule, Sign):
        p.add_(torch.sign(g), alpha=-lr)
    elif isinstance(rule, Momentum):
        v = state["v"]
        v.mul_(rule.beta).add_(g)
        p.add_(g + rule.beta * v if rule.nesterov else v, alpha=-lr)
    elif isinstance(rule, Adam):
        m, v = state["m"], state["v"]
        m.mul_(rule.b1).add_(g, alpha=1.0 - rule.b1)
        v.mul_(rule.b2).addcmul_(g, g, value=1.0 - rule.b2)
        m_hat_scale = 1.0 / (1.0 - rule.b1 ** (t + 1))
        v_hat_scale = 1.0 / (1.0 - rule.b2 ** (t + 1))
        denom = (v * v_hat_scale).sqrt_().add_(rule.eps)
        p.addcdiv_(m, denom, value=-lr * m_hat_scale)
    elif type(rule) is SGD:
        p.add_(g, alpha=-lr)
    else:
        raise TypeError(
            f"no torch twin for update rule {type(rule).__name__}; use one of sgd, momentum, adam, sign"
        )


def is_plain_sgd(rule: UpdateRule) -> bool:
    """SGD needs no materialized gradient: spsa then adds the regenerated direction straight into ``p``."""
    return type(rule) is SGD
