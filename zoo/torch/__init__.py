"""Forward-only training of torch networks (extra ``zoo-dfo[torch]``): ``import zoo.torch``.

    opt = zoo.torch.ZOSGD(model.parameters(), lr=1e-3, estimator="spsa", mu=1e-3, seed=0)
    loss = opt.step(closure)          # closure() returns the loss; it runs under torch.no_grad()

- :class:`ZOSGD`, :class:`ZOAdam` (:class:`ZOOptimizer`): estimators ``spsa`` (MeZO), ``rge``, ``cge``.
- :class:`ForwardLoss`: a closure that also evaluates many perturbed parameter sets in one batched call.
- :class:`DeepZero`: sparse CGE with ZO-GraSP layer ratios and feature reuse.

The names load on first use (PEP 562), so that ``zoo.torch.cli`` (the ``zoo train`` parser) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DeepZero": "zoo.torch.deepzero",
    "ForwardLoss": "zoo.torch.batched",
    "Stages": "zoo.torch.stages",
    "ZOAdam": "zoo.torch.optim",
    "ZOOptimizer": "zoo.torch.optim",
    "ZOSGD": "zoo.torch.optim",
    "zo_grasp_sparsity": "zoo.torch.grasp",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo.torch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
