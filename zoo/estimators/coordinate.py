"""Coordinatewise gradient estimate (CGE) as a method, as in DeepZero (Chen et al., ICLR 2024) and ZOO (Chen et
al. 2017). The formula lives in the estimate core, :mod:`zoo.estimators.formulas.coordinate`.

Forward form over a coordinate set S (cost |S| + 1 queries)::

    g_i = (f(x + mu e_i) - f(x)) / mu        for i in S,   g_i = 0 otherwise

Central form (cost 2|S|): ``g_i = (f(x + mu e_i) - f(x - mu e_i)) / (2 mu)``; its error is O(mu^2), so on a
smooth function it matches the analytic gradient to ~1e-8 relative error.

``coordinates``: None (all d, the default), an int k (a fresh random subset of k coordinates every step: the
sparse CGE of DeepZero), or a fixed sequence of indices. DeepZero uses mu = 5e-3; zoo's default ``mu=None``
follows the step length, and the step is the success-based control of :mod:`zoo.estimators.base` (``lr=`` a
number for DeepZero's fixed SGD rate). A non-finite value zeroes its coordinate; a non-finite f(x) (forward
form) undoes the step that led there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core.registry import register
from zoo.core.validate import check_choice
from zoo.estimators.base import GradientMethod, GradientParams, GradientState, draws_nothing
from zoo.estimators.formulas import coordinate, probes


@dataclasses.dataclass(frozen=True)
class CGEParams(GradientParams):
    mu: float | None = None
    update: str = "sgd"
    difference: str = "forward"
    coordinates: Any = None

    def check(self, dim: int) -> None:
        super().check(dim)
        check_choice(self.difference, "difference", ("forward", "central"))
        c = self.coordinates
        if c is None:
            return
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not 1 <= c <= dim:
                raise ValueError(f"coordinates={c}: a random subset size must be in 1..{dim}")
            return
        idx = np.asarray(c)
        if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
            raise ValueError("coordinates must be None, an int, or a non-empty 1-D sequence of int indices")
        if idx.min() < 0 or idx.max() >= dim or len(np.unique(idx)) != idx.size:
            raise ValueError(f"coordinates must be distinct indices in 0..{dim - 1}")


@register("cge")
class CGE(GradientMethod):
    """Coordinatewise gradient estimate + an update rule (default SGD)."""

    Params = CGEParams

    @property
    def deterministic(self) -> bool:
        c = self.params.coordinates
        return c is None or not isinstance(c, (int, np.integer))

    def _subset_size(self) -> int:
        c = self.params.coordinates
        if c is None:
            return self.dim
        if isinstance(c, (int, np.integer)):
            return int(c)
        return len(c)

    def _batch_size(self, state: GradientState) -> int:
        k = self._subset_size()
        return 2 * k if self.params.difference == "central" else k + 1

    def _centre_row(self, state: GradientState) -> int | None:
        return 0 if self.params.difference == "forward" else None  # rows [x, x + mu e_i] / [x +- mu e_i]

    def _probe(self, x, rng):
        d = x.shape[0]
        mu = self._mu(self.state)
        if self.params.coordinates is None:
            mu_ = np.array(
                mu
            )  # (a 0-d operand: the same number, without numpy's conversion at each operation)
            # all coordinates: one copy of x per row, mu added on the diagonals
            central = self.params.difference == "central"
            # (the ndarray method: np.repeat's Python-level dispatch costs as much as the copy at d=10)
            X = x[None, :].repeat(2 * d if central else d + 1, axis=0)
            # (a strided view of each d x d block's diagonal: O(d) work, not a second (n, d) pass)
            if central:
                X[:d].reshape(-1)[:: d + 1] += mu_
                X[d:].reshape(-1)[:: d + 1] -= mu_
            else:  # X[1 + i, i] is entry d + i (d + 1) of the flat batch
                X.reshape(-1)[d :: d + 1] += mu_
            return X, {"mu": mu}
        S = probes.coordinates(rng, d, self.params.coordinates)
        k = len(S)
        rows = np.arange(k)
        if self.params.difference == "central":
            X = np.repeat(x[None, :], 2 * k, axis=0)
            X[rows, S] += mu
            X[k + rows, S] -= mu
        else:
            X = np.repeat(x[None, :], k + 1, axis=0)
            X[1 + rows, S] += mu
        return X, {"S": S, "mu": mu}

    @draws_nothing
    def _estimate(self, state, X, values):
        d = X.shape[1]
        central = self.params.difference == "central"
        S = state.probe.get("S")
        # the displacement actually queried (x + mu - x is not exactly mu in floating point; clipped by bounds)
        if S is None:
            h = X[:d].diagonal() - X[d:].diagonal() if central else X[1:].diagonal() - X[0]
        else:
            k, rows = len(S), np.arange(len(S))
            h = X[rows, S] - X[k + rows, S] if central else X[1 + rows, S] - X[0, S]
        finite = self.finite_values(values)  # (tell has scanned them: not again)
        g_S, ok = coordinate.estimate(values[None, :], h[None, :], self.params.difference, finite)
        if not ok[0]:
            return None
        if S is None:
            return g_S[0]
        g = np.zeros(d)
        g[S] = g_S[0]
        return g
