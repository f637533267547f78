"""Privacy accounting in rho-zCDP, the Gaussian and exponential mechanisms, and conversions to (epsilon, delta).

zCDP (Bun & Steinke 2016, "Concentrated Differential Privacy: Simplifications, Extensions, and Lower
Bounds", TCC) composes by adding: mechanisms with ``rho_1, rho_2, ...`` together are ``sum rho_i``-zCDP.

- Gaussian mechanism, L2 sensitivity ``Delta``, noise ``N(0, sigma^2)``: ``rho = Delta^2 / (2 sigma^2)``.
- Exponential mechanism with parameter ``epsilon`` (sensitivity-1 scores, ``P(r) ~ exp(epsilon s_r / 2)``)
  is ``epsilon``-DP and ``epsilon^2 / 8``-zCDP (Cesar & Rogers 2021, bounded range); run here as Gumbel-max.
- rho-zCDP implies (epsilon, delta)-DP with, for any ``alpha > 1`` (Canonne, Kamath, Steinke 2020, "The
  Discrete Gaussian for Differential Privacy", NeurIPS, Prop. 12)::

      delta = exp((alpha - 1)(alpha rho - epsilon)) / (alpha - 1) * (1 - 1/alpha)^alpha

  minimized over ``alpha`` (the log is convex; its derivative ``(2 alpha - 1) rho - epsilon + log(1 - 1/alpha)``
  is increasing, so its root is found by bisection). This is tighter than Bun & Steinke's Prop. 1.3,
  ``epsilon = rho + 2 sqrt(rho log(1/delta))`` (:func:`eps_from_rho_simple`).

The conversions round toward privacy: :func:`rho_from_eps` returns a ``rho`` whose (epsilon, delta) is
at most the one asked for, and the :class:`Accountant` refuses any spend past its total.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class BudgetExceeded(RuntimeError):
    """A mechanism asked for more rho than the accountant has left."""


def _check_eps_delta(epsilon: Any, delta: Any) -> tuple[float, float]:
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.integer, np.floating)):
        raise TypeError(f"epsilon must be a number > 0, got {epsilon!r}")
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}")
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
        raise TypeError(f"delta must be a number in (0, 1), got {delta!r}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in the open interval (0, 1), got {delta!r}")
    return float(epsilon), float(delta)


def _check_rho(rho: Any) -> float:
    if isinstance(rho, bool) or not isinstance(rho, (int, float, np.integer, np.floating)) or not rho > 0:
        raise ValueError(f"rho must be a number > 0, got {rho!r}")
    if not math.isfinite(rho):
        raise ValueError(f"rho must be finite, got {rho!r}")
    return float(rho)


def delta_from_rho(rho: float, epsilon: float) -> float:
    """The delta of rho-zCDP at ``epsilon`` (Canonne, Kamath, Steinke 2020, Prop. 12)."""
    rho = _check_rho(rho)
    if epsilon < 0:
        raise ValueError(f"epsilon must be >= 0, got {epsilon!r}")
    lo, hi = 1.0 + 1e-12, max(2.0, (epsilon + 1.0) / (2.0 * rho) + 2.0)
    for _ in range(200):  # root of the increasing derivative of log delta(alpha)
        mid = 0.5 * (lo + hi)
        if (2 * mid - 1) * rho - epsilon + math.log1p(-1.0 / mid) < 0:
            lo = mid
        else:
            hi = mid
    alpha = 0.5 * (lo + hi)
    log_delta = (alpha - 1) * (alpha * rho - epsilon) + alpha * math.log1p(-1.0 / alpha) - math.log(alpha - 1)
    return min(1.0, math.exp(log_delta))


def eps_from_rho(rho: float, delta: float) -> float:
    """The smallest epsilon such that rho-zCDP gives (epsilon, delta)-DP (tight conversion, bisection)."""
    rho = _check_rho(rho)
    _check_eps_delta(1.0, delta)
    lo, hi = 0.0, eps_from_rho_simple(rho, delta)  # the simple bound is always valid, hence an upper end
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if delta_from_rho(rho, mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def eps_from_rho_simple(rho: float, delta: float) -> float:
    """Bun & Steinke 2016, Prop. 1.3: ``epsilon = rho + 2 sqrt(rho log(1/delta))``."""
    return float(rho) + 2.0 * math.sqrt(float(rho) * math.log(1.0 / float(delta)))


def rho_from_eps(epsilon: float, delta: float) -> float:
    """The largest rho whose tight conversion gives at most (epsilon, delta): the budget of a run."""
    epsilon, delta = _check_eps_delta(epsilon, delta)
    lo, hi = 0.0, epsilon + 1.0  # eps_from_rho(rho) >= rho, so rho <= epsilon
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid > 0 and delta_from_rho(mid, epsilon) <= delta:
            lo = mid
        else:
            hi = mid
    return lo


def gaussian_sigma(rho: float, l2: float) -> float:
    """Noise scale of the Gaussian mechanism that spends ``rho``: ``sigma = Delta / sqrt(2 rho)``."""
    return float(l2) / math.sqrt(2.0 * _check_rho(rho))


def gaussian_rho(sigma: float, l2: float) -> float:
    """``rho = Delta^2 / (2 sigma^2)``."""
    return float(l2) ** 2 / (2.0 * float(sigma) ** 2)


def exponential_eps(rho: float) -> float:
    """The exponential mechanism's epsilon that spends ``rho = epsilon^2 / 8``."""
    return math.sqrt(8.0 * _check_rho(rho))


class Accountant:
    """Adds up rho as mechanisms run; refuses (``BudgetExceeded``) any spend past ``total``."""

    def __init__(self, total: float) -> None:
        self.total = _check_rho(total)
        self.spent = 0.0
        self.ledger: list[tuple[str, float]] = []

    @property
    def remaining(self) -> float:
        return max(0.0, self.total - self.spent)

    def spend(self, rho: float, what: str) -> None:
        rho = _check_rho(rho)
        if self.spent + rho > self.total * (1 + 1e-12):
            raise BudgetExceeded(
                f"{what} asks for rho={rho:.6g}, but only {self.remaining:.6g} of {self.total:.6g} is left"
            )
        self.spent += rho
        self.ledger.append((what, rho))

    def gaussian(
        self, counts: np.ndarray, l2: float, rho: float, rng: np.random.Generator, what: str
    ) -> np.ndarray:
        """``counts + N(0, sigma^2 I)`` with ``sigma = l2 / sqrt(2 rho)``; spends ``rho``."""
        self.spend(rho, what)
        return np.asarray(counts, dtype=np.float64) + gaussian_sigma(rho, l2) * rng.standard_normal(
            np.shape(counts)
        )

    def exponential(self, scores: np.ndarray, rho: float, rng: np.random.Generator, what: str) -> int:
        """Index ``r`` with probability ``~ exp(epsilon s_r / 2)`` for sensitivity-1 scores; spends ``rho``.

        Gumbel-max: ``argmax_r (epsilon s_r / 2 + G_r)`` with ``G_r ~ Gumbel(0, 1)`` has exactly that law.
        """
        self.spend(rho, what)
        eps = exponential_eps(rho)
        scores = np.asarray(scores, dtype=np.float64)
        return int(np.argmax(0.5 * eps * scores + rng.gumbel(size=scores.shape)))
