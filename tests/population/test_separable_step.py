"""separable-step: STEP along every coordinate, the separability test, its stops and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.population.separable_step import _easiest_midpoint, _parabola_vertex


def _run(opt, f):
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, f(X))
    return opt


def rastrigin(X):
    """Separable and multimodal (about 10 local minima per coordinate in [-5, 5]), minimum 0 at 1.3."""
    Z = np.asarray(X) - 1.3
    return 10 * Z.shape[1] + np.sum(Z**2 - 10 * np.cos(2 * np.pi * Z), axis=1)


def test_solves_a_separable_rastrigin_that_local_methods_do_not():
    opt = _run(
        zoo.make("separable-step", x0=np.zeros(8), bounds=(-5, 5), budget=4000, f_target=1e-8), rastrigin
    )
    assert opt.best[1] < 1e-8 and opt.nfev < 2000
    assert np.allclose(opt.best[0], 1.3, atol=1e-4)
    assert opt.state.tested  # a combined point matched its prediction


def test_coupled_coordinates_fail_the_test_and_stop_early():
    def coupled(X):
        Z = np.asarray(X) - 0.5
        return np.sum(Z**2, axis=1) + 0.9 * np.sum(Z[:, 1:] * Z[:, :-1], axis=1)

    d = 6
    opt = _run(zoo.make("separable-step", x0=np.zeros(d), bounds=(-5, 5), budget=10_000), coupled)
    assert opt.stop()["separable_step"] == "not_separable"
    assert opt.nfev <= 2 * d + 1 + (opt.params.confirm_sweeps + 1) * (d + 1)


def test_linear_slope_ends_in_the_corner_at_once():
    w = np.array([1.0, -2.0, 3.0])
    opt = _run(
        zoo.make("separable-step", x0=np.zeros(3), bounds=(-5, 5), budget=100, f_target=-30 + 1e-9),
        lambda X: np.asarray(X) @ w,
    )
    assert np.array_equal(opt.best[0], [-5.0, 5.0, -5.0])
    assert opt.nfev == 2 * 3 + 1 + 4  # x0 and both ends of each line, then the combined point (one batch)


def test_stalls_and_stops_on_its_own_without_a_target():
    opt = _run(zoo.make("separable-step", x0=np.zeros(3), bounds=(-5, 5), budget=100_000), rastrigin)
    assert opt.stop()["separable_step"] == "stalled" and opt.nfev < 20_000
    assert opt.best[1] < 1e-10


def test_zero_width_coordinates_are_kept_and_unbounded_lines_span_x0():
    lo, hi = np.array([-5.0, 2.0, -5.0]), np.array([5.0, 2.0, 5.0])
    opt = zoo.make("separable-step", x0=np.array([0.0, 2.0, 0.0]), bounds=(lo, hi), budget=500)
    while not opt.stop():
        X = opt.ask()
        assert np.all(X[:, 1] == 2.0)
        opt.tell(X, rastrigin(X))
    free = zoo.make("separable-step", x0=np.array([0.0, 3.0]), budget=50)
    X = free.ask()  # no bounds: each line spans x0_i +- 2 max(1, |x0|_inf)
    assert X.min() == -6.0 and X.max() == 9.0


def test_max_evals_caps_the_run():
    opt = _run(zoo.make("separable-step", x0=np.zeros(4), bounds=(-5, 5), max_evals=60), rastrigin)
    assert opt.nfev <= 60 and "max_evals" in opt.stop()


def test_the_step_rules():
    # STEP: the wide interval next to a low value is the easiest; the parabola's vertex is exact
    p, v = np.array([0.0, 1.0, 4.0]), np.array([1.0, 0.0, 5.0])
    assert _easiest_midpoint(p, v) == 2.5
    assert _parabola_vertex(np.array([0.0, 1.0, 3.0]), np.array([4.0, 1.0, 1.0])) == pytest.approx(2.0)
    assert _parabola_vertex(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0])) is None  # concave
    assert _easiest_midpoint(np.array([0.0, 1e-20]), np.array([1.0, 2.0])) is None  # nothing left to split


def test_bad_options():
    with pytest.raises(ValueError, match="rtol"):
        zoo.make("separable-step", x0=np.zeros(2), rtol=0.0)
    with pytest.raises(ValueError, match="width"):
        zoo.make("separable-step", x0=np.zeros(2), width=-1.0)
    with pytest.raises(ValueError, match="patience"):
        zoo.make("separable-step", x0=np.zeros(2), patience=0)


def test_a_nan_at_x0_stops_after_the_first_batch_keeping_the_finite_best():
    def nan_at_origin(X):
        v = rastrigin(X)
        return np.where(np.all(np.asarray(X) == 0, axis=1), np.nan, v)

    opt = _run(zoo.make("separable-step", x0=np.zeros(3), bounds=(-5, 5), budget=1000), nan_at_origin)
    assert opt.stop()["separable_step"] == "nonfinite_base" and opt.nfev == 7
    assert np.isfinite(opt.best[1]) and opt.n_nonfinite == 1
