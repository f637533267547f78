"""Box constraints around a sampler that knows nothing of them: reflection and an adaptive penalty.

:class:`AdaptivePenalty` is the boundary handling of Hansen, Niederberger, Guzzella & Koumoutsakos, "A method for
handling uncertainty in evolutionary optimization with an application to feedback control of combustion",
IEEE TEC 13(1), 2009, Sec. IV-B (pycma's ``BoundPenalty``, written here on arrays). The objective is queried at
the projection ``clip(x)`` and the sampler ranks

    f(clip(x)) + (1/d) sum_i gamma_i (x_i - clip(x)_i)^2.

The weights start at 0 and are only switched on (``gamma_i = 2 * dfit``, ``dfit`` the median of recent
``IQR(f) / mean(sigma^2 C_ii)``) when the *mean* leaves the box; afterwards ``gamma_i`` grows only while the mean
lies more than ``3 max(1, sqrt(d) / mu_eff)`` standard deviations outside in coordinate ``i``. So an optimum on
the boundary (a linear slope, a corner) is reached as fast as without bounds (BBOB f5 in d = 10: 120-130
evaluations, pycma unbounded 110), while a mean that drifts over a plateau outside the box is pulled back.

Why not pycma's ``BoundPenalty`` itself: through ask/tell pycma computes the penalty on the points it returned,
which are already clipped, so the penalty is 0 and the mean drifts away over the plateau.
"""

from __future__ import annotations

import math

import numpy as np


def mirror_into_box(X: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Reflect points into ``[lower, upper]`` coordinate-wise (a triangle wave of period ``2 (upper - lower)``).

    The optimizer then sees ``f(mirror(x))``: continuous, no plateau outside the box, identical inside it.
    One-sided bounds reflect once (``lower + |x - lower|``); infinite ones leave the coordinate as it is.
    """
    lo = np.broadcast_to(lower, X.shape)
    hi = np.broadcast_to(upper, X.shape)
    width = hi - lo
    both = np.isfinite(lo) & np.isfinite(hi) & (width > 0)
    out = X.copy()
    with np.errstate(invalid="ignore", over="ignore"):
        period = np.where(both, 2.0 * width, 1.0)
        y = np.mod(X - np.where(both, lo, 0.0), period)
        y = np.where(y > width, period - y, y)
        out = np.where(both, lo + y, out)
    only_lo = np.isfinite(lo) & ~np.isfinite(hi)
    only_hi = ~np.isfinite(lo) & np.isfinite(hi)
    out = np.where(only_lo, lo + np.abs(X - np.where(only_lo, lo, 0.0)), out)
    out = np.where(only_hi, hi - np.abs(np.where(only_hi, hi, 0.0) - X), out)
    out = np.where(np.isfinite(lo) & np.isfinite(hi) & (width == 0), lo, out)
    return np.clip(out, lower, upper)  # rounding at the edges


class AdaptivePenalty:
    """The coordinate-wise penalty weights of Hansen et al. (2009) (see the module docstring).

    Call :meth:`update` once per generation, before :meth:`penalty`, with the generation's values (without
    penalty), the sampler's mean, its per-coordinate standard deviations ``sigma sqrt(C_ii)``, ``mu_eff`` and
    the population size. Deterministic: the weights follow from the told sequence (a replay rebuilds them).
    """

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.dim = self.lower.size
        self.gamma: np.ndarray | None = None  # None: off until the mean leaves the box
        self.hist: list[float] = []  # recent IQR(f) / mean variance, newest first
        self.generation = 0

    def update(
        self, values: np.ndarray, mean: np.ndarray, stds: np.ndarray, mueff: float, popsize: int
    ) -> None:
        self.generation += 1
        d = self.dim
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            varis = np.asarray(stds, dtype=np.float64) ** 2
            dmean = (mean - np.clip(mean, self.lower, self.upper)) / np.sqrt(varis)
            q25, q75 = np.percentile(values, [25, 75])
            val = float((q75 - q25) / np.mean(varis))
        if math.isfinite(val) and val > 0:
            self.hist.insert(0, val)
        elif val == math.inf and self.hist:
            self.hist.insert(0, max(self.hist))
        if len(self.hist) > 20 + (3 * d) / popsize:
            self.hist.pop()
        if not self.hist:
            return
        dfit = float(np.median(self.hist))
        damp = min(1.0, mueff / 10.0 / d)
        outside = bool(np.any(np.nan_to_num(dmean) != 0))
        if outside and (self.gamma is None or self.generation == 2):
            self.gamma = np.full(d, 2.0 * dfit)
        if self.gamma is not None:
            edist = np.abs(np.nan_to_num(dmean)) - 3.0 * max(1.0, math.sqrt(d) / mueff)
            # grow a weight while the mean is far outside in that coordinate; shrink the large ones back
            self.gamma = self.gamma * np.exp((edist > 0) * np.tanh(edist / 3.0) / 2.0) ** damp
            self.gamma = np.where(
                self.gamma > 5.0 * dfit, self.gamma * math.exp(-1.0 / 3.0) ** damp, self.gamma
            )

    def penalty(self, S: np.ndarray) -> np.ndarray:
        """``(1/d) sum_i gamma_i (x_i - clip(x)_i)^2`` for each row of the unclipped samples ``S``."""
        if self.gamma is None:
            return np.zeros(len(S))
        with np.errstate(over="ignore", invalid="ignore"):
            dist2 = (S - np.clip(S, self.lower, self.upper)) ** 2
            return np.nan_to_num(dist2 @ self.gamma / self.dim, nan=0.0, posinf=np.finfo(np.float64).max)
