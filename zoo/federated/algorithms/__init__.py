"""Federated ZO algorithms under one switch: ``make_algorithm("fzoos" | "fedzo" | "fedprox" | "scaffold")``."""

from __future__ import annotations

from typing import Any

from zoo.federated.algorithms.base import FederatedAlgorithm
from zoo.federated.algorithms.fedzo import FedProx, FedZO
from zoo.federated.algorithms.fzoos import FZooS
from zoo.federated.algorithms.scaffold import Scaffold

ALGORITHMS: dict[str, type[FederatedAlgorithm]] = {
    "fedzo": FedZO,
    "fedprox": FedProx,
    "scaffold": Scaffold,
    "fzoos": FZooS,
}


def make_algorithm(name: str, **options: Any) -> FederatedAlgorithm:
    """``make_algorithm("scaffold", option=1)``; ``"scaffold1"`` / ``"scaffold2"`` pick the option."""
    key = name.lower().replace("_", "-")
    if key in ("scaffold1", "scaffold-1", "scaffold2", "scaffold-2"):
        return Scaffold(option=int(key[-1]), **options)
    if key not in ALGORITHMS:
        raise ValueError(f"unknown federated algorithm {name!r}; choose one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[key](**options)


__all__ = ["ALGORITHMS", "FZooS", "FedProx", "FedZO", "FederatedAlgorithm", "Scaffold", "make_algorithm"]
