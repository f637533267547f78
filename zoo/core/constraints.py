"""Constraints ``g(x) <= 0`` around any registered method, through an augmented Lagrangian.

The method is told the augmented Lagrangian value instead of ``f`` (Powell-Hestenes-Rockafellar form, per
constraint ``i`` with multiplier ``lam_i >= 0`` and penalty ``mu_i > 0``)::

    L(x) = f(x) + sum_i  lam_i g_i + mu_i / 2 g_i^2      if mu_i g_i > -lam_i
                        -lam_i^2 / (2 mu_i)               otherwise

The coefficients ``lam, mu`` are set from the first batch and adapted after every batch from the batch's best
point by ``L`` (Atamna, Auger & Hansen 2016, "Augmented Lagrangian constraint handling for CMA-ES: case of a
single linear constraint", PPSN; Atamna et al. 2020, "Linearly convergent evolution strategies via augmented
Lagrangian constraint handling"). zoo does not rewrite those rules: the coefficient object is pycma's
``cma.constraints_handler.AugmentedLagrangian`` (the engine of ``cma.ConstrainedFitnessAL``), which only sees
values, so it works around any method here, with batches evaluated in parallel.

Constraints: a callable ``g(x)`` returning one number or a 1-D array (several constraints), or a list of such
callables; with ``vectorized=True`` each takes the batch ``(n, d)`` and returns ``(n,)`` or ``(n, m)``.
A NaN constraint value counts as violated (``+inf``: the point is infeasible and ranks worst); a wrong shape
is a ``ValueError``. The result reports ``constr`` (g at ``x``), ``maxcv`` (``max(0, max_i g_i)``) and
``feasible``; ``x`` is the best feasible point seen (by ``f``), or the least violating one if none was feasible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core.evaluate import BadValue


def as_constraints(constraints: Any) -> list[Callable] | None:
    """A list of callables from a callable, a list of callables, or None; a clear error otherwise."""
    if constraints is None:
        return None
    items = list(constraints) if isinstance(constraints, (list, tuple)) else [constraints]
    if not items:
        return None
    for i, g in enumerate(items):
        if not callable(g):
            raise TypeError(f"constraints must be callables g(x) <= 0; item {i} is {type(g).__name__}")
    return items


def eval_point(constraints: list[Callable], x: Any) -> np.ndarray:
    """All constraint values at one point as a 1-D array (NaN -> +inf, violated)."""
    parts = []
    for i, g in enumerate(constraints):
        v = np.asarray(g(x), dtype=np.float64)
        if v.ndim > 1:
            raise BadValue(
                f"constraint {i} must return a number or a 1-D array for one point, got shape {v.shape}"
            )
        parts.append(v.reshape(-1))
    out = np.concatenate(parts)
    return np.where(np.isnan(out), np.inf, out)


def eval_batch(constraints: list[Callable], X: Any, n: int) -> np.ndarray:
    """Vectorized constraints: each returns ``(n,)`` or ``(n, m)``; the result is ``(n, m_total)``."""
    parts = []
    for i, g in enumerate(constraints):
        v = np.asarray(g(X), dtype=np.float64)
        if v.ndim == 1 and v.shape == (n,):
            v = v[:, None]
        if v.ndim != 2 or v.shape[0] != n:
            raise BadValue(f"vectorized constraint {i} must return shape ({n},) or ({n}, m), got {v.shape}")
        parts.append(v)
    out = np.concatenate(parts, axis=1)
    return np.where(np.isnan(out), np.inf, out)


def violation(G: np.ndarray) -> np.ndarray:
    """``max(0, max_i g_i)`` per row (0 = feasible)."""
    G = np.atleast_2d(G)
    return np.maximum(G.max(axis=1), 0.0) if G.shape[1] else np.zeros(len(G))


class AugmentedLagrangian:
    """Turns ``(f, G)`` of a batch into the values a method is told, and tracks the best feasible point."""

    def __init__(self, dim: int) -> None:
        from cma.constraints_handler import AugmentedLagrangian as _AL

        class _Quiet(_AL):  # pycma's default logging creates ./outcmaes and writes outauglag* files there
            def _init_(self) -> None:
                self.logging = 0
                super()._init_()

        self._al = _Quiet(dim)
        self.best_x: np.ndarray | None = None
        self.best_f = math.inf
        self.best_g: np.ndarray | None = None
        self.best_cv = math.inf
        self.n_feasible = 0

    def values(self, Z: np.ndarray, f: np.ndarray, G: np.ndarray) -> np.ndarray:
        """The augmented Lagrangian of each row; adapts the coefficients from this batch afterwards."""
        f = np.asarray(f, dtype=np.float64)
        finite_g = np.where(np.isfinite(G), G, 1e300)  # pycma's coefficients must stay finite
        out = np.empty(len(f))
        for i in range(len(f)):
            terms = self._al(finite_g[i])
            out[i] = f[i] + float(np.sum(terms)) if np.isfinite(f[i]) and np.isfinite(G[i]).all() else np.inf
        self._track(Z, f, G)
        ok = np.isfinite(out)
        if ok.any():
            if not self._al.is_initialized and ok.all():
                self._al.set_coefficients(f.tolist(), finite_g.tolist())
            j = int(np.argmin(np.where(ok, out, np.inf)))
            self._al.update(float(f[j]), finite_g[j].tolist())
        return out

    def _track(self, Z: np.ndarray, f: np.ndarray, G: np.ndarray) -> None:
        cv = violation(G)
        for i in range(len(f)):
            if not np.isfinite(f[i]):
                continue
            feasible = cv[i] == 0
            self.n_feasible += int(feasible)
            better = (
                self.best_x is None
                or (feasible and (self.best_cv > 0 or f[i] < self.best_f))
                or (not feasible and self.best_cv > 0 and cv[i] < self.best_cv)
            )
            if better:
                self.best_x, self.best_f, self.best_g, self.best_cv = (
                    Z[i].copy(),
                    float(f[i]),
                    G[i].copy(),
                    cv[i],
                )

    @property
    def lam(self) -> np.ndarray | None:
        return None if self._al.lam is None else np.array(self._al.lam, dtype=np.float64)

    @property
    def mu(self) -> np.ndarray | None:
        return None if self._al.mu is None else np.array(self._al.mu, dtype=np.float64)
