"""zCDP accounting: conversions and compositions against known values, and a budget that is never exceeded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from zoo.synth import zcdp

# rho for (epsilon, 1e-5) from OpenDP's zCDP -> approx-DP conversion (smartnoise-synth 1.0.8's cdp_rho,
# which MST and AIM use; computed with opendp 0.14.2).
OPENDP_RHO = {0.3: 0.0033029865507935912, 1.0: 0.030556595197639556, 3.0: 0.2242491682463453}


@pytest.mark.parametrize("eps", sorted(OPENDP_RHO))
def test_rho_from_eps_matches_opendp(eps):
    assert zcdp.rho_from_eps(eps, 1e-5) == pytest.approx(OPENDP_RHO[eps], rel=1e-9)
    assert zcdp.rho_from_eps(eps, 1e-5) <= OPENDP_RHO[eps] * (1 + 1e-12)


def test_simple_bound_closed_form():
    # Bun & Steinke Prop. 1.3 at rho = 0.5, delta = 1e-5: 0.5 + 2 sqrt(0.5 ln 1e5)
    assert zcdp.eps_from_rho_simple(0.5, 1e-5) == pytest.approx(0.5 + 2 * math.sqrt(0.5 * math.log(1e5)))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("eps", [0.1, 1.0, 3.0])
def test_conversion_sandwich_for_the_gaussian_mechanism(sigma, eps):
    """Exact delta(eps) of the Gaussian mechanism (Balle & Wang 2018) <= zCDP delta <= Bun-Steinke bound."""
    exact = norm.cdf(0.5 / sigma - eps * sigma) - math.exp(eps) * norm.cdf(-0.5 / sigma - eps * sigma)
    rho = zcdp.gaussian_rho(sigma, 1.0)
    tight = zcdp.delta_from_rho(rho, eps)
    simple = math.exp(-((eps - rho) ** 2) / (4 * rho)) if eps > rho else 1.0
    assert exact <= tight * (1 + 1e-9) + 1e-300
    assert tight <= simple * (1 + 1e-9)


def test_roundtrip_and_monotone():
    for rho in (1e-3, 0.03, 0.5, 2.0):
        eps = zcdp.eps_from_rho(rho, 1e-6)
        assert zcdp.delta_from_rho(rho, eps) <= 1e-6 * (1 + 1e-9)
        assert zcdp.rho_from_eps(eps, 1e-6) == pytest.approx(rho, rel=1e-8)
        assert eps < zcdp.eps_from_rho_simple(rho, 1e-6)
    assert zcdp.eps_from_rho(0.1, 1e-5) < zcdp.eps_from_rho(0.2, 1e-5)


def test_gaussian_and_exponential_rho():
    assert zcdp.gaussian_sigma(0.5, 1.0) == pytest.approx(1.0)
    assert zcdp.gaussian_rho(zcdp.gaussian_sigma(0.02, 3.0), 3.0) == pytest.approx(0.02)
    assert zcdp.exponential_eps(0.125) == pytest.approx(1.0)  # eps^2 / 8


def test_composition_adds_and_budget_is_never_exceeded():
    acc = zcdp.Accountant(0.1)
    rng = np.random.Generator(np.random.PCG64(0))
    for i in range(4):
        acc.gaussian(np.zeros(3), 1.0, 0.02, rng, f"m{i}")
    acc.exponential(np.arange(5.0), 0.02, rng, "select")
    assert acc.spent == pytest.approx(0.1) and sum(r for _, r in acc.ledger) == pytest.approx(acc.spent)
    with pytest.raises(zcdp.BudgetExceeded, match="asks for rho"):
        acc.spend(1e-6, "one more")
    assert acc.spent == pytest.approx(0.1)


def test_exponential_mechanism_law():
    """Gumbel-max picks r with probability exp(eps s_r / 2) / sum: check the frequencies."""
    acc = zcdp.Accountant(1e9)
    rng = np.random.Generator(np.random.PCG64(1))
    scores = np.array([0.0, 1.0, 2.0])
    rho = 0.5  # eps = 2
    picks = np.bincount([acc.exponential(scores, rho, rng, "s") for _ in range(6000)], minlength=3) / 6000
    p = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(picks, p, atol=0.02)


@pytest.mark.parametrize(
    "eps, delta", [(0, 1e-5), (-1, 1e-5), (float("nan"), 1e-5), (1, 0), (1, 1), (1, -0.1), (1, 1.5)]
)
def test_bad_epsilon_delta(eps, delta):
    with pytest.raises(ValueError, match="epsilon|delta"):
        zcdp.rho_from_eps(eps, delta)
