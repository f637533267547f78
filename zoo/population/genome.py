"""The compact seed-chain genome of a Deep GA (Such et al. 2017, "Deep Neuroevolution").

A genome is a short list of integers, one per generation of the member's lineage::

    genome = [g_0, g_1, ..., g_t]
    x      = init(g_0)                                   (generation 0)
    x      = clip(x + w_k * table[g_k : g_k + d])        (generation k >= 1; g_k = -1: copied unchanged)

``init(g_0)`` is ``clip(x0 + w_init * table[g_0 : g_0 + d])`` (``init="gaussian"``, ``g_0`` a table
offset) or ``lo + (hi - lo) * U_d(g_0)`` (``init="uniform"``, ``g_0`` the seed of a PCG64 generator drawing
``d`` uniforms). ``w_k = sigma_decay ** (k - 1) * w``, elementwise, where ``w`` is the per-coordinate width
of :func:`mutation_widths` (``sigma=None``: derived from the box and ``x0``; a float: that absolute width on
every coordinate; a sequence: one absolute width per coordinate). ``table`` is the shared noise table
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

#: ``sigma=None`` widths: this fraction of a finite box side (the box is the problem's scale) ...
BOX_FRACTION = 0.05
#: ... or of ``|x0_j|`` on a coordinate without a finite box (x0 is then the only scale the problem gives)
X0_FRACTION = 0.1


def mutation_widths(sigma: Any, x0: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None) -> np.ndarray:
    """Per-coordinate mutation widths ``w`` (shape ``(d,)``) of the GA's option ``sigma``.

    ``sigma`` a float: ``w_j = sigma`` (absolute, the behaviour before ``sigma=None`` existed); a sequence:
    ``w_j = sigma[j]``. ``sigma=None`` (the default) reads the scale off the problem, so that the same problem
    stated in metres or in micrometres gets the same search, coordinate by coordinate:

        w_j = BOX_FRACTION * (hi_j - lo_j)       where both bounds of coordinate j are finite
        w_j = X0_FRACTION * |x0_j|               elsewhere, when x0_j != 0
        w_j = median of the widths above         elsewhere (x0_j = 0: zero says nothing about the scale, so
                                                 the other coordinates' scale is the best guess)
        w_j = X0_FRACTION                        when no coordinate gives a scale (x0 = 0, no finite box:
                                                 the absolute 0.1 of before, so such runs are unchanged)
    """
    d = x0.shape[0]
    if sigma is not None:
        return np.broadcast_to(np.asarray(sigma, dtype=np.float64), (d,)).copy()
    w = np.full(d, np.nan)
    if lo is not None and hi is not None:
        box = np.isfinite(lo) & np.isfinite(hi)
        w[box] = BOX_FRACTION * (hi[box] - lo[box])
    free = np.isnan(w) & (x0 != 0)
    w[free] = X0_FRACTION * np.abs(x0[free])
    known = ~np.isnan(w) & (w > 0)  # a zero-width box side (lo = hi) gives no scale
    fallback = float(np.median(w[known])) if known.any() else X0_FRACTION
    w[np.isnan(w) | (w <= 0)] = fallback
    return w


def sigma_at(generation: int, sigma: Any, sigma_decay: float = 1.0) -> Any:
    """Mutation width used at ``generation >= 1``: ``sigma * sigma_decay ** (generation - 1)`` (a float or
    the per-coordinate widths, elementwise)."""
    decay = float(sigma_decay) ** (generation - 1)
    if np.ndim(sigma) == 0:
        return float(sigma) * decay
    return np.asarray(sigma, dtype=np.float64) * decay


def init_member(
    g0: int,
    x0: np.ndarray,
    *,
    init: str,
    sigma_init: Any,
    lo: np.ndarray | None,
    hi: np.ndarray | None,
) -> np.ndarray:
    """Generation 0 of a lineage from its first gene ``g0`` (``sigma_init``: a float or ``(d,)`` widths)."""
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
    sigma: Any = None,
    sigma_init: float | None = None,
    sigma_decay: float = 1.0,
    bounds: Any = None,
    init: str = "gaussian",
) -> np.ndarray:
    """Replay a seed-chain genome into its parameter vector (see the module docstring for the formula).

    Pass the GA's options as given (``sigma=None``: the widths are derived from ``x0`` and ``bounds`` by
    :func:`mutation_widths`, as the optimizer did)."""
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
    widths = mutation_widths(sigma, x0, lo, hi)
    x = init_member(
        genome[0], x0, init=init, sigma_init=widths if sigma_init is None else float(sigma_init), lo=lo, hi=hi
    )
    for k, g in enumerate(genome[1:], start=1):
        if g < 0:
            continue
        x = x + sigma_at(k, widths, sigma_decay) * table_slice(table, g, d)
        if lo is not None:
            x = np.minimum(np.maximum(x, lo), hi)
    return x
