"""The compact seed-chain genome of a Deep GA (Such et al. 2017, "Deep Neuroevolution").

A genome is a short list of integers, one per generation of the member's lineage::

    genome = [g_0, g_1, ..., g_t]
    x      = init(g_0)                                   (generation 0)
    x      = clip(x + sigma_k * table[g_k : g_k + d])    (generation k >= 1; g_k = -1: copied unchanged)

``init(g_0)`` is ``clip(x0 + sigma_init * table[g_0 : g_0 + d])`` (``init="gaussian"``, ``g_0`` a table
offset) or ``lo + (hi - lo) * U_d(g_0)`` (``init="uniform"``, ``g_0`` the seed of a PCG64 generator drawing
``d`` uniforms). ``sigma_k = sigma * sigma_decay ** (k - 1)``. ``table`` is the shared noise table
(:func:`zoo.kernels.noise.noise_table`), read with wrap-around, so ``d`` may be up to its size (4 Mi).

So a member of a million parameters after 50 generations travels as 51 integers, and anyone holding ``x0``
and the options rebuilds it, bit for bit: the replay does the same float64 operations, in the same order,
as the offspring kernel that made it (:mod:`zoo.kernels.ga_offspring`). The chain exists only without
crossover (``p_crossover = 0``, the Deep GA setting): a crossed child has two lineages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.kernels.ga_offspring import table_slice
from zoo.kernels.noise import noise_table


def sigma_at(generation: int, sigma: float, sigma_decay: float = 1.0) -> float:
    """Mutation width used at ``generation >= 1``: ``sigma * sigma_decay ** (generation - 1)``."""
    return float(sigma) * float(sigma_decay) ** (generation - 1)


def init_member(
    g0: int,
    x0: np.ndarray,
    *,
    init: str,
    sigma_init: float,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
) -> np.ndarray:
    """Generation 0 of a lineage from its first gene ``g0``."""
    d = x0.shape[0]
    if init == "uniform":
        if lo is None or hi is None:
            raise ValueError("init='uniform' needs finite bounds")
        u = np.random.Generator(np.random.PCG64(int(g0))).random(d)
        return lo + (hi - lo) * u
    x = x0 + sigma_init * table_slice(noise_table(), int(g0), d)
    if lo is not None:
        x = np.minimum(np.maximum(x, lo), hi)
    return x


def rebuild(
    genome: Sequence[int],
    x0: Any,
    *,
    sigma: float,
    sigma_init: float | None = None,
    sigma_decay: float = 1.0,
    bounds: Any = None,
    init: str = "gaussian",
) -> np.ndarray:
    """Replay a seed-chain genome into its parameter vector (see the module docstring for the formula)."""
    genome = [int(g) for g in genome]
    if not genome:
        raise ValueError("a genome holds at least its generation-0 gene")
    if genome[0] < 0:
        raise ValueError(f"the generation-0 gene must be a non-negative offset/seed, got {genome[0]}")
    x0 = np.asarray(x0, dtype=np.float64)
    d = x0.shape[0]
    table = noise_table()
    if d > table.shape[0]:
        raise ValueError(f"genomes replay slices of the {table.shape[0]}-number noise table; d={d} is larger")
    lo = hi = None
    if bounds is not None:
        lo = np.broadcast_to(np.asarray(bounds[0], dtype=np.float64), (d,))
        hi = np.broadcast_to(np.asarray(bounds[1], dtype=np.float64), (d,))
    x = init_member(
        genome[0], x0, init=init, sigma_init=sigma if sigma_init is None else sigma_init, lo=lo, hi=hi
    )
    for k, g in enumerate(genome[1:], start=1):
        if g < 0:
            continue
        x = x + sigma_at(k, sigma, sigma_decay) * table_slice(table, g, d)
        if lo is not None:
            x = np.minimum(np.maximum(x, lo), hi)
    return x
