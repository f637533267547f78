"""Federated problems: built-ins agree with their vectorized forms, and bad input is a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.federated import FederatedProblem, Simulator, problems


def test_quadratic_minimum_is_exact():
    p = problems.quadratic(dim=30, n_clients=5, heterogeneity=0.5, seed=1)
    g = p.batched
    w = p.weights
    x_star = (w @ (g.curvature * g.center)) / (w @ g.curvature)
    assert p.global_value(x_star) == pytest.approx(p.f_min, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(5):  # no point does better than the closed-form minimum
        assert p.global_value(x_star + 0.1 * rng.standard_normal(30)) > p.f_min


@pytest.mark.parametrize("make", [problems.quadratic, problems.ackley, problems.levy])
def test_batched_equals_one_client_at_a_time(make):
    p = make(dim=12, n_clients=4, seed=3)
    X = np.random.default_rng(1).standard_normal((4, 5, 12))
    fast = p.batched(np.arange(4), X)
    slow = np.stack([p.objectives[i](X[i]) for i in range(4)])
    np.testing.assert_array_equal(fast, slow)


def test_heterogeneity_zero_gives_identical_curvatures():
    p = problems.quadratic(dim=10, n_clients=3, heterogeneity=0.0, seed=0)
    assert np.allclose(p.batched.curvature, p.batched.curvature[0])
    with pytest.raises(ValueError, match="heterogeneity"):
        problems.quadratic(heterogeneity=1.0)


def test_empty_client_list_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one client"):
        FederatedProblem([], dim=3)


@pytest.mark.parametrize("weights", [[0.0, 0.0], [1.0, -1.0], [np.nan, 1.0], [1.0]])
def test_weights_must_sum_to_a_positive_number(weights):
    f = lambda X: np.sum(X**2, axis=1)  # noqa: E731
    with pytest.raises(ValueError, match="weights"):
        FederatedProblem([f, f], weights, dim=3)


def test_dimension_mismatch_between_clients_is_named():
    good = lambda X: np.sum(X**2, axis=1)  # noqa: E731
    bad = lambda X: np.sum((X @ np.ones((5, 1))) ** 2, axis=1)  # expects d = 5  # noqa: E731
    p = FederatedProblem([good, bad], dim=3)
    with pytest.raises(ValueError, match="client 1 failed on x0 of dimension 3"):
        Simulator(p, "fedzo", seed=0)


def test_non_callable_objective_is_rejected():
    with pytest.raises(TypeError, match="client objective 0"):
        FederatedProblem([3.0], dim=2)


def test_attack_problem_builds_caches_and_is_black_box(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path))
    p = problems.attack(n_clients=4, epsilon=0.2, seed=0)
    assert (tmp_path / "federated" / "digits-4clients-seed0.npz").exists()
    assert p.dim == 64 and p.n_clients == 4
    assert np.all(p.bounds[0] == -0.2) and np.all(p.bounds[1] == 0.2)
    # at delta = 0 every classifier is right: positive margins, no success
    assert all(float(f.margins(p.x0)[0]) > 0 for f in p.objectives)
    assert not p.success(p.x0)
    again = problems.attack(n_clients=4, epsilon=0.2, seed=0)  # from the cache: same numbers
    D = np.random.default_rng(0).uniform(-0.2, 0.2, (3, 64))
    np.testing.assert_array_equal(p.objectives[1](D), again.objectives[1](D))
    with pytest.raises(ValueError, match="64 coordinates"):
        p.objectives[0](np.zeros((1, 10)))
