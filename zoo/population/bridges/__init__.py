"""Bridges to pycma and nevergrad behind the zoo ask/tell contract: ``"cma"`` and ``"ng:<Name>"``.

- :mod:`~zoo.population.bridges.replay`: the base (library seeding, exact resume by replaying the record,
  finite stand-ins for non-finite values);
- :mod:`~zoo.population.bridges.cma`: CMA-ES through pycma, with values or rankings;
- :mod:`~zoo.population.bridges.model_based`: BOBYQA (NLopt) and COBYQA, model-based trust regions, ask/tell in a thread;
- :mod:`~zoo.population.bridges.nevergrad`: any nevergrad optimizer;
- :mod:`~zoo.population.bridges.bounds`: reflection into the box and the adaptive boundary penalty.

Both libraries are imported lazily, inside the methods, so ``import zoo`` works without the ``bench`` extra.
The names of the former single module ``zoo.population.bridges`` are re-exported here.
"""

from __future__ import annotations

from zoo.population.bridges.bounds import AdaptivePenalty, mirror_into_box
from zoo.population.bridges.cma import CMA, CMAParams, default_cma_popsize
from zoo.population.bridges.model_based import BOBYQA, COBYQA, TrustRegionParams
from zoo.population.bridges.nevergrad import NevergradBridge, NevergradParams, nevergrad_method
from zoo.population.bridges.replay import ReplayBridge, ReplayState, finite_values

__all__ = [
    "CMA",
    "COBYQA",
    "BOBYQA",
    "TrustRegionParams",
    "AdaptivePenalty",
    "CMAParams",
    "NevergradBridge",
    "NevergradParams",
    "ReplayBridge",
    "ReplayState",
    "default_cma_popsize",
    "finite_values",
    "mirror_into_box",
    "nevergrad_method",
]
