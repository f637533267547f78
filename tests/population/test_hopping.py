"""Consensus hopping: samples around c, hops to their consensus, sigma shrinks; bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.functions import rastrigin, sphere
from zoo.kernels.cbo import consensus_point


def test_hop_goes_to_the_consensus_of_the_samples_and_sigma_shrinks():
    opt = zoo.make(
        "consensus-hopping", x0=np.ones(4), seed=0, n_particles=20, sigma=0.5, sigma_factor=0.9, alpha=50.0
    )
    V = opt.ask()
    assert V.shape == (20, 4)
    np.testing.assert_allclose(V.mean(axis=0), np.ones(4), atol=0.5)
    v = sphere(V)
    opt.tell(V, v)
    c, _ = consensus_point(V, v, 50.0)
    np.testing.assert_array_equal(opt.state.c, c)
    assert opt.state.sigma == pytest.approx(0.45)
    V2 = opt.ask()
    assert 0.2 < np.std(V2 - c) < 0.7  # the next samples are spread around the new consensus


def test_minimizes_a_sphere_and_stops_at_sigma_min():
    opt = zoo.make("consensus-hopping", x0=np.full(5, 2.0), seed=1, sigma_factor=0.95, sigma_min=1e-4)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, sphere(X))
    assert opt.stop() == {"sigma_min": 1e-4}
    assert opt.best[1] < 1e-4
    assert np.abs(opt.state.c).max() < 1e-2


def test_hopping_beats_the_start_on_rastrigin():
    x0 = np.full(5, 2.5)
    res = zoo.minimize(
        rastrigin, x0, "consensus-hopping", budget=20_000, seed=0, vectorized=True, options={"sigma": 2.0}
    )
    assert res.fun < 0.25 * rastrigin(x0[None])[0]


def test_best_is_the_best_sample():
    opt = zoo.make("consensus-hopping", dim=3, seed=0)
    seen_x, seen_f = [], []
    for _ in range(10):
        X = opt.ask()
        f = rastrigin(X)
        seen_x.append(np.array(X))
        seen_f.append(f)
        opt.tell(X, f)
    f = np.concatenate(seen_f)
    assert opt.best[1] == f.min()
    np.testing.assert_array_equal(opt.best[0], np.concatenate(seen_x)[np.argmin(f)])


def test_samples_stay_in_bounds():
    opt = zoo.make("consensus-hopping", x0=[0.9, 0.1], bounds=([0, 0], [1, 1]), seed=0, sigma=5.0)
    for _ in range(5):
        X = opt.ask()
        assert X.min() >= 0 and X.max() <= 1
        opt.tell(X, sphere(X - 3.0))


def test_all_nan_values_keep_the_consensus_and_are_counted():
    opt = zoo.make("consensus-hopping", x0=np.zeros(3), seed=0)
    X = opt.ask()
    opt.tell(X, np.full(len(X), np.nan))
    assert opt.state.n_skipped == 1 and np.array_equal(opt.state.c, np.zeros(3))
    assert opt.n_nonfinite == len(X) and np.all(np.isfinite(opt.ask()))


@pytest.mark.parametrize("n", [0, 1])
def test_population_below_two_is_a_clear_error(n):
    with pytest.raises(ValueError, match="n_particles"):
        zoo.make("consensus-hopping", dim=3, n_particles=n)


def test_dimension_zero_and_bounds_excluding_x0_are_errors():
    with pytest.raises(ValueError, match="at least one coordinate"):
        zoo.make("consensus-hopping", x0=np.array([]))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("consensus-hopping", x0=[2.0], bounds=([-1], [1]))


@pytest.mark.parametrize("bad", [{"sigma": 0.0}, {"sigma_factor": 1.5}, {"alpha": -1.0}, {"sigma_min": -1.0}])
def test_bad_options_are_clear_errors(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        zoo.make("consensus-hopping", dim=3, **bad)
