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


#: the largest d whose full-coordinate probe is the broadcast sum ``x + E`` (above: copies of x, mu added on the
#: diagonals; the same rows, bit for bit). At d = 10 the sum is 0.84 us against 1.18, at 48 even, at 100 2.8 us
#: against 1.9, at 1000 260 against 75-130 (process time, this machine)
_SUM_MAX_DIM = 32


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
        if self.params.coordinates is not None:  # a subset of the coordinates: the copies of x, mu added at S
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
        # every displacement h_i = (x_i + mu) - x_i (forward; (x_i + mu) - (x_i - mu) central) is > 0 when mu >
        # 2^-53 |x_i| for every i (then x_i + mu rounds above x_i and x_i - mu below it) and no bound clips the
        # probe; |x_i| <= ||x|| (1 + 1e-14) for the norm tell kept, and 1.2e-16 > 2^-53 (1 + 1e-14). The
        # radius' floor, 1e-13 ||x|| / sqrt(d), keeps mu far above that: the estimate skips its test
        known = self._x_norm
        positive = known[0] is x and mu > 1.2e-16 * known[1] and self.bounds is None
        if d > _SUM_MAX_DIM:
            # all coordinates, large d: one copy of x per row, mu added on the diagonals (a strided view of each
            # d x d block's diagonal: O(d) work, not a second (n, d) pass)
            mu_ = np.array(mu)  # (a 0-d operand: the same number, without numpy's conversion)
            central = self.params.difference == "central"
            # (the ndarray method: np.repeat's Python-level dispatch costs as much as the copy at d=10)
            X = x[None, :].repeat(2 * d if central else d + 1, axis=0)
            if central:
                X[:d].reshape(-1)[:: d + 1] += mu_
                X[d:].reshape(-1)[:: d + 1] -= mu_
            else:  # X[1 + i, i] is entry d + i (d + 1) of the flat batch
                X.reshape(-1)[d :: d + 1] += mu_
        else:
            # all coordinates, small d: the same rows [x, x + mu e_i] (forward) / [x + mu e_i, x - mu e_i]
            # (central) as one broadcast sum x + E, E holding +-mu on its diagonals and -0.0 everywhere else:
            # x + (-0.0) is x bit for bit for every x (-0.0 and NaN included, where x + 0.0 would turn -0.0 into
            # 0.0), and x + (-mu) is x - mu, so each row is the copy of x with mu added or subtracted at its
            # coordinate; fewer numpy calls, but E is read in full (an (n, d) pass more: slower from d ~ 40)
            steps = self._steps
            if steps is None or steps[0].shape[1] != d:
                steps = self._steps = self._step_matrix(d)
            E, plus, minus = steps
            plus.fill(mu)
            if minus is not None:
                minus.fill(-mu)
            X = x + E
        self._positive = X if positive else None
        return X, {"mu": mu}

    #: the probe's step matrix and views of its diagonals (:meth:`_step_matrix`), built once per run
    _steps: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None
    #: the last batch whose displacements ``_probe`` has shown to be positive (the estimate then does not test
    #: them; keyed by the array itself: any other batch, e.g. after a resume, is tested)
    _positive: np.ndarray | None = None

    def _step_matrix(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(E, plus, minus)``: the ``(n, d)`` matrix of -0.0 that the probe adds to ``x`` and strided views of
        its diagonals ``E[1 + i, i]`` (forward; ``minus`` None) or ``E[i, i]`` and ``E[d + i, i]`` (central),
        which each ask fills with ``mu`` and ``-mu``."""
        central = self.params.difference == "central"
        E = np.full((2 * d if central else d + 1, d), -0.0)
        flat = E.reshape(-1)
        if central:  # entry i (d + 1) of each d x d block
            return E, flat[: d * d : d + 1], flat[d * d :: d + 1]
        return E, flat[d :: d + 1], None  # E[1 + i, i] is entry d + i (d + 1) of the flat matrix

    @draws_nothing
    def _estimate(self, state, X, values):
        d = X.shape[1]
        central = self.params.difference == "central"
        probe = state.probe
        S = probe["S"] if "S" in probe else None  # (a sparse probe's coordinates; absent for all of them)
        # the displacement actually queried (x + mu - x is not exactly mu in floating point; clipped by bounds)
        if S is None:  # X[i, i] - X[d + i, i] (central), X[1 + i, i] - X[0, i] (forward): X's own diagonals
            h = X.diagonal() - X.diagonal(-d) if central else X.diagonal(-1) - X[0]
        else:
            k, rows = len(S), np.arange(len(S))
            h = X[rows, S] - X[k + rows, S] if central else X[1 + rows, S] - X[0, S]
        finite = self.finite_values(values)  # (tell has scanned them: not again)
        # one row: the formula without a batch axis (the same numbers, no views of a batch of one)
        g_S, ok = coordinate.estimate(values, h, self.params.difference, finite, X is self._positive)
        if not ok:
            return None
        if S is None:
            return g_S
        g = np.zeros(d)
        g[S] = g_S
        return g
