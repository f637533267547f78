"""The GA's mutation widths on the problem's scale: ``sigma=None`` (per-coordinate, from the box and x0),
float (absolute), sequence (one per coordinate); genome replay, state_dict, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.population import genome
from zoo.population.genome import mutation_widths

INF = np.inf


def _run(opt, generations, f=zoo.functions.rastrigin):
    for _ in range(generations):
        X = opt.ask()
        opt.tell(X, f(X))
    return opt


def test_the_width_rule_coordinate_by_coordinate():
    x0 = np.array([0.0, 3.0, -2000.0, 0.0, 0.5])
    lo = np.array([-1e-3, -INF, -INF, -INF, 0.5])
    hi = np.array([1e-3, INF, INF, 1.0, 0.5])  # coordinate 3 is half-bounded, 4 a zero-width box
    w = mutation_widths(None, x0, lo, hi)
    box, x03, x02 = 0.05 * 2e-3, 0.1 * 3.0, 0.1 * 2000.0
    expected = [box, x03, x02, np.median([box, x03, x02]), np.median([box, x03, x02])]
    np.testing.assert_allclose(w, expected, rtol=1e-15)
    assert np.array_equal(mutation_widths(None, np.zeros(4), None, None), np.full(4, 0.1))  # as before
    assert np.array_equal(mutation_widths(0.3, x0, lo, hi), np.full(5, 0.3))  # a float stays absolute
    assert np.array_equal(mutation_widths((1, 2, 3, 4, 5), x0, lo, hi), [1, 2, 3, 4, 5.0])


def test_the_default_search_is_the_same_in_metres_and_micrometres():
    def run(s):
        f = lambda X: zoo.functions.sphere(np.asarray(X) / s - 1.3)  # noqa: E731
        x0 = s * np.linspace(-4, 4, 6)
        return zoo.minimize(f, x0, "ga", budget=1500, seed=4, bounds=(-5 * s, 5 * s), vectorized=True)

    small, big = run(1e-6), run(1e3)
    np.testing.assert_allclose(small.x / 1e-6, big.x / 1e3, rtol=1e-6)
    assert small.fun == pytest.approx(big.fun, rel=1e-6)
    # the old absolute default is not: 0.1 is a hundred thousand box widths at s = 1e-6
    old = zoo.minimize(lambda X: zoo.functions.sphere(np.asarray(X) / 1e-6 - 1.3), 1e-6 * np.linspace(-4, 4, 6),
                       "ga", budget=1500, seed=4, bounds=(-5e-6, 5e-6), vectorized=True, options={"sigma": 0.1})  # fmt: skip
    assert old.fun > 10 * small.fun


@pytest.mark.parametrize("sigma", [None, (0.1, 1e-3, 5.0, 0.2, 2e3, 1.0)])
@pytest.mark.parametrize("use_numba", [True, False])
def test_per_coordinate_widths_replay_bit_for_bit(sigma, use_numba):
    x0 = np.array([0.0, 1e-3, 5.0, -0.2, 2e3, 0.0])
    bounds = (np.array([-1, -INF, -INF, -INF, -INF, -3.0]), np.array([1, INF, INF, INF, INF, 1e4]))
    opt = zoo.make("ga", x0=x0, seed=2, popsize=12, truncation=3, bounds=bounds, sigma=sigma,
                   sigma_decay=0.95, use_numba=use_numba)  # fmt: skip
    _run(opt, 6, zoo.functions.sphere)
    for i in range(3):
        assert np.array_equal(opt.rebuild(opt.genome(i)), opt.parents[i])
        alone = genome.rebuild(opt.genome(i), x0, sigma=sigma, sigma_decay=0.95, bounds=bounds)
        assert np.array_equal(alone, opt.parents[i])
    X = opt.ask()
    assert all(np.array_equal(opt.rebuild(opt.batch_genome(i)), X[i]) for i in range(len(X)))


def test_numba_and_numpy_ga_agree_with_per_coordinate_widths():
    runs = [
        _run(zoo.make("ga", x0=np.array([1e3, 0.0, 1e-3]), seed=5, popsize=10, use_numba=u), 5).parents
        for u in (True, False)
    ]
    assert np.array_equal(*runs)


@pytest.mark.parametrize("sigma", [None, [0.5, 0.1, 2.0, 1.0]])
def test_state_dict_round_trip_resumes_bit_for_bit(sigma):
    x0 = np.array([10.0, 0.0, -3.0, 1.0])
    opt = _run(zoo.make("ga", x0=x0, seed=3, popsize=8, sigma=sigma), 3)
    sd = opt.state_dict()
    other = zoo.make("ga", x0=x0, seed=0, popsize=8, sigma=sigma)
    other.load_state_dict(sd)
    _run(opt, 3)
    _run(other, 3)
    assert np.array_equal(opt.parents, other.parents)
    assert np.array_equal(other.rebuild(other.genome(0)), other.parents[0])


def test_a_state_saved_before_widths_were_stored_still_resumes():
    opt = _run(zoo.make("ga", x0=np.ones(3), seed=1, popsize=6, sigma=0.1), 2)
    sd = opt.state_dict()
    del sd["state"]["widths"]
    other = zoo.make("ga", x0=np.ones(3), seed=1, popsize=6, sigma=0.1)
    other.load_state_dict(sd)
    assert np.array_equal(_run(other, 2).parents, _run(opt, 2).parents)


@pytest.mark.parametrize(
    ("sigma", "match"),
    [
        (0.0, "sigma"),
        (-1.0, "sigma"),
        (float("nan"), "sigma"),
        (float("inf"), "sigma"),
        ("wide", "sigma"),
        ((0.1, 0.2), "one width per coordinate: expected 3, got 2"),
        (np.ones(4), "expected 3, got 4"),
        ((0.1, float("nan"), 0.1), r"sigma\[1\]"),
        ([0.1, 0.0, 0.1], r"sigma\[1\]"),
    ],
)
def test_bad_sigma_is_a_clear_error(sigma, match):
    with pytest.raises((ValueError, TypeError), match=match):
        zoo.make("ga", x0=np.zeros(3), seed=0, sigma=sigma)
