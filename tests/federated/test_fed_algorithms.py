"""Federated algorithms: they make progress, their surrogates are right, bad options are clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoo.federated import FZooS, Scaffold, Simulator, make_algorithm, problems
from zoo.federated.algorithms.surrogate import gp_mean_gradient, nearest, rff_basis, rff_fit, rff_gradient


@pytest.mark.parametrize("name", ["fedzo", "fedprox", "scaffold", "scaffold1", "fzoos"])
def test_every_algorithm_decreases_F(name):
    p = problems.quadratic(dim=20, n_clients=3, heterogeneity=0.3, seed=0)
    h = Simulator(p, make_algorithm(name, local_steps=5), seed=0).run(8)
    assert h.gap()[-1] < 0.5 * h.gap()[0]


def test_gp_gradient_of_a_linear_function_in_the_data_span():
    rng = np.random.default_rng(0)
    d = 6
    a = rng.standard_normal(d)
    x = rng.standard_normal(d)
    Z = x + 0.05 * rng.standard_normal((40, d))  # more points than dimensions: the span is everything
    g = gp_mean_gradient(x, Z, Z @ a + 3.0, lengthscale=5.0, noise=1e-10)
    np.testing.assert_allclose(g, a, rtol=1e-3, atol=1e-3)


def test_rff_gradient_is_the_derivative_of_the_rff_function():
    d, M = 5, 50
    W, b = rff_basis(3, M, d, lengthscale=1.5)
    nu = np.random.default_rng(1).standard_normal(M)
    f = lambda z: math.sqrt(2.0 / M) * np.cos(W @ z + b) @ nu  # noqa: E731
    x = np.random.default_rng(2).standard_normal(d)
    h = 1e-6
    fd = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(d)])
    np.testing.assert_allclose(rff_gradient(W, b, nu, x), fd, rtol=1e-6, atol=1e-8)
    again = rff_basis(3, M, d, lengthscale=1.5)  # the shared seed rebuilds the same features
    assert np.array_equal(again[0], W) and np.array_equal(again[1], b)


def test_rff_fit_recovers_a_function_in_its_span():
    d, M = 3, 40
    W, b = rff_basis(0, M, d, 1.0)
    nu_true = np.random.default_rng(0).standard_normal(M)
    X = np.random.default_rng(1).standard_normal((200, d))
    y = math.sqrt(2.0 / M) * np.cos(X @ W.T + b) @ nu_true + 7.0
    nu = rff_fit(W, b, X, y, noise=1e-10)
    x = np.zeros(d)
    np.testing.assert_allclose(rff_gradient(W, b, nu, x), rff_gradient(W, b, nu_true, x), rtol=0.03, atol=0.01)


def test_nearest_picks_the_closest_points():
    X = np.arange(10.0)[:, None] * np.ones((1, 2))
    assert sorted(nearest(np.array([3.1, 3.1]), X, 3).tolist()) == [2, 3, 4]
    assert len(nearest(np.zeros(2), X[:2], 5)) == 2


def test_fzoos_sends_nu_and_corrects_after_the_lengthscale_is_shared():
    p = problems.quadratic(dim=10, n_clients=3, seed=0)
    algo = FZooS(local_steps=2, n_features=32)
    sim = Simulator(p, algo, seed=0)
    sim.run(3)
    assert sim.server["rff_ls"][0] > 0 and np.any(sim.server["nu"] != 0)
    assert "rff_ls" in algo.broadcast({**sim.server, "ls_round": 0}, 1)
    assert "rff_ls" not in algo.broadcast(sim.server, 3)


def test_scaffold_option_1_pays_for_its_fresh_estimate():
    p = problems.quadratic(dim=10, n_clients=2, seed=0)
    one = Simulator(p, Scaffold(option=1, local_steps=2, q=3), seed=0).run(1)
    two = Simulator(p, Scaffold(option=2, local_steps=2, q=3), seed=0).run(1)
    assert one.rounds[1]["queries"] == two.rounds[1]["queries"] + 2 * (3 + 1)


@pytest.mark.parametrize(
    ("name", "options", "error", "match"),
    [
        ("fedzo", {"qq": 3}, TypeError, "unknown option"),
        ("fedzo", {"q": 0}, ValueError, "q must be"),
        ("fedzo", {"mu": -1.0}, ValueError, "mu"),
        ("fedprox", {"prox": -0.1}, ValueError, "prox"),
        ("scaffold", {"option": 3}, ValueError, "option"),
        ("fzoos", {"n_features": 0}, ValueError, "n_features"),
        ("fzoos", {"update": "newton"}, ValueError, "unknown update rule"),
    ],
)
def test_bad_options(name, options, error, match):
    with pytest.raises(error, match=match):
        make_algorithm(name, **options)
