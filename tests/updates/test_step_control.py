"""The success-based step-size control (issue 16): the rule itself, and what it guarantees every gradient method."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import zoo
from zoo.updates import SuccessStep, length_scale, make_rule

VALUE_METHODS = ["rge", "zo-sgd", "zo-signsgd", "spsa", "cge"]


def _sphere(scale: float = 1.0, centre: float = 1.0):
    return lambda X: scale * np.sum((np.atleast_2d(X) - centre) ** 2, axis=1)


# ------------------------------------------------------------------------------------------------ the rule
def test_a_worse_centre_is_undone_and_the_step_shrunk_a_better_one_grows_it():
    ctl = SuccessStep(make_rule("sgd", 1.0))
    x0 = np.array([1.0, 2.0])
    s = ctl.init(x0, scale=1.0)
    r0 = s["r"]
    step, s = ctl.update(np.array([1.0, 0.0]), s, x0, value=5.0)  # first value: the reference, then a step
    np.testing.assert_allclose(step, [-r0, 0.0])
    x1 = x0 + step
    step, s2 = ctl.update(np.array([1.0, 0.0]), s, x1, value=7.0)  # worse: back to x0
    np.testing.assert_allclose(x1 + step, x0)
    assert s2["r"] == pytest.approx(0.5 * r0) and s2["n_undone"] == 1
    step, s3 = ctl.update(np.array([0.0, 2.0]), s, x1, value=4.0)  # better: accepted, grown, stepped
    assert s3["r"] == pytest.approx(1.25 * r0) and s3["n_success"] == 1 and s3["f_ref"] == 4.0
    np.testing.assert_allclose(step, [0.0, -1.25 * r0])


def test_the_update_never_writes_into_the_state_it_was_given():
    ctl = SuccessStep(make_rule("adam", 1.0))
    x = np.ones(3)
    s = ctl.init(x)
    _, s = ctl.update(np.ones(3), s, x, value=1.0)
    snapshot = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items() if k != "inner"}
    ctl.update(np.ones(3), s, x + 0.1, value=math.nan)
    for k, v in snapshot.items():
        assert np.array_equal(s[k], v) if isinstance(v, np.ndarray) else s[k] == v or math.isnan(v)


def test_bad_options_name_what_was_expected():
    with pytest.raises(ValueError, match="grow"):
        SuccessStep(make_rule("sgd", 1.0), grow=1.0)
    with pytest.raises(ValueError, match="shrink"):
        SuccessStep(make_rule("sgd", 1.0), shrink=1.5)
    with pytest.raises(TypeError, match="transform"):
        SuccessStep("adam")


def test_length_scale_from_bounds_x0_or_one():
    assert length_scale(np.zeros(3), (np.full(3, -2.0), np.full(3, 2.0))) == pytest.approx(1.0)
    assert length_scale(np.full(4, 3.0)) == pytest.approx(3.0)
    assert length_scale(np.zeros(4)) == 1.0
    assert length_scale(np.full(4, 1e300)) == pytest.approx(1e300)  # no overflow
    # zero-width coordinates do not count (they are fixed, not part of the scale)
    assert length_scale(np.zeros(2), (np.array([0.0, -4.0]), np.array([0.0, 4.0]))) == pytest.approx(2.0)


# ------------------------------------------------------------------------------------------------ methods
@pytest.mark.parametrize("name", VALUE_METHODS + ["rank-sgd"])
@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_same_defaults_on_a_function_scaled_by_1e_minus3_and_1e3(name, scale):
    f = _sphere(scale)
    x0 = np.random.default_rng(0).standard_normal(6)
    res = zoo.minimize(f, x0, name, budget=3000, seed=0, vectorized=True)
    assert res.fun < 1e-6 * f(x0)[0], res.message
    # the budget or the convergence test (f at its rounding floor) ended it; not flagged as worse than the
    # start (status 6)
    assert res.status in (0, 1), res.message


@pytest.mark.parametrize("name", VALUE_METHODS)
def test_no_divergence_where_the_old_fixed_rates_diverged(name):
    # Rosenbrock d=30 from N(0, I): spsa, zo-sgd and cge with lr=1e-3 reached |x| ~ 1e19-1e26 (issue 16)
    f = zoo.functions.rosenbrock
    x0 = np.random.default_rng(1).standard_normal(30)
    res = zoo.minimize(f, x0, name, budget=3000, seed=1, vectorized=True)
    x_end = res.optimizer.x
    assert np.all(np.abs(x_end) < 10) and f(x_end)[0] <= f(x0)[0]
    assert res.status == 1 and res.fun < f(x0)[0]


@pytest.mark.parametrize("name", ["rge", "zo-sgd", "cge"])
def test_a_nan_centre_is_left_for_the_last_finite_one_no_freeze(name):
    # forward differences used to skip every step after one NaN centre (1,993 of 2,000 skipped)
    def f(X):
        X = np.atleast_2d(X)
        return np.where(X[:, 0] > 0.5, np.nan, np.sum((X - 1.0) ** 2, axis=1))

    x0 = np.zeros(5)
    res = zoo.minimize(f, x0, name, budget=2000, seed=0, vectorized=True)
    opt = res.optimizer
    assert np.isfinite(f(opt.x)[0]) and f(opt.x)[0] < 0.5 * f(x0)[0]
    assert res.step_control["n_undone"] > 0 and res.step_control["n_steps"] > 0.2 * res.nit  # no freeze


def test_an_objective_nan_at_x0_starts_from_the_first_finite_probe():
    def f(X):
        X = np.atleast_2d(X)
        v = np.sum((X - 1.0) ** 2, axis=1)
        return np.where(np.all(X == 0.0, axis=1), np.nan, v)

    res = zoo.minimize(f, np.zeros(4), "rge", budget=1000, seed=0, vectorized=True)
    assert res.status in (0, 1) and res.fun < 1e-3, res.message  # converged (f = 0 reached) or the budget
    assert "not finite at x0" in res.message


@pytest.mark.parametrize("name", VALUE_METHODS)
def test_zero_width_bounds_keep_those_coordinates_fixed(name):
    lo = np.array([0.5, -5.0, 2.0, -5.0])
    hi = np.array([0.5, 5.0, 2.0, 5.0])
    x0 = np.array([0.5, 3.0, 2.0, -3.0])
    res = zoo.minimize(_sphere(), x0, name, budget=2000, seed=0, vectorized=True, bounds=(lo, hi))
    assert res.x[0] == 0.5 and res.x[2] == 2.0
    np.testing.assert_allclose(res.x[[1, 3]], 1.0, atol=1e-3)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_x0_at_extreme_scales(scale):
    # x0 of size 1e-300: the first step is that small and grows geometrically faster with each success;
    # 1e300: a function that stays finite there is minimized from there, one that overflows says so
    x0 = np.full(4, scale)
    res = zoo.minimize(_sphere(centre=0.0), x0, "rge", budget=2000, seed=0, vectorized=True)
    if scale < 1:
        assert res.fun <= 4 * scale**2
    else:
        assert not res.success and "no finite objective value" in res.message
    g = lambda X: np.sum(np.log1p(np.abs(np.atleast_2d(X))), axis=1)  # noqa: E731 - finite at 1e300
    res = zoo.minimize(g, x0, "rge", budget=2000, seed=0, vectorized=True)
    assert res.status in (0, 1) and res.fun < g(x0)[0]  # converged or the budget, not worse than the start


def test_a_run_that_ends_worse_than_it_started_says_so():
    # a fixed learning rate far too large on a noisy function: the guard keeps it finite, but the last centre
    # can end worse than f(x0); the result must say so
    rng = np.random.default_rng(0)

    def f(X):
        X = np.atleast_2d(X)
        return np.sum(X**2, axis=1) + 5.0 * rng.standard_normal(len(X))

    res = zoo.minimize(f, np.full(3, 0.1), "zo-sgd", budget=400, seed=0, vectorized=True, options={"lr": 1.0})
    worse = res.step_control["f_last"] > res.step_control["f_first"]
    assert (res.status == 6) is worse and not res.success
    if worse:
        assert "worse than it started" in res.message


def test_fixed_learning_rates_stay_available_and_are_guarded():
    f = _sphere()
    x0 = np.full(5, 3.0)
    a = zoo.minimize(f, x0, "zo-sgd", budget=600, seed=0, vectorized=True, options={"lr": 0.05})
    assert a.fun < 1e-3 and a.step_control["mode"] == "fixed"
    # a rate that diverges without the guard: every much-worse step is undone and the rate halved
    b = zoo.minimize(f, x0, "zo-sgd", budget=600, seed=0, vectorized=True, options={"lr": 5.0})
    f_end = f(b.optimizer.x)[0]
    assert (
        np.isfinite(f_end) and f_end <= 2 * f(x0)[0]
    )  # bounded: never beyond f_best + max(f_best, progress)
    assert b.step_control["n_undone"] > 0 and b.step_control["lr_factor"] < 1
    assert (b.status == 6) == bool(f_end > f(x0)[0])


def test_cge_prints_no_runtime_warnings():
    f = zoo.functions.rosenbrock
    x0 = np.random.default_rng(0).standard_normal(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.minimize(f, x0, "cge", budget=4000, seed=0, vectorized=True)


def test_same_seed_same_numbers_and_state_dict_resumes_the_control():
    f = _sphere()
    x0 = np.full(4, 2.0)
    a = zoo.make("rge", x0=x0, seed=3)
    for _ in range(30):
        X = a.ask()
        a.tell(X, f(X))
    b = zoo.make("rge", x0=x0, seed=3)
    b.load_state_dict(a.state_dict())
    for _ in range(30):
        X, Y = a.ask(), b.ask()
        np.testing.assert_array_equal(X, Y)
        a.tell(X, f(X))
        b.tell(Y, f(Y))
    np.testing.assert_array_equal(a.x, b.x)


# ------------------------------------------------------------------------------------------------ noise
def _noisy_sphere(sigma: float, seed: int):
    rng = np.random.default_rng(seed)
    return lambda X: np.sum((np.atleast_2d(X) - 1.0) ** 2, axis=1) + sigma * rng.standard_normal(len(X))


@pytest.mark.parametrize("name", VALUE_METHODS)
def test_on_a_noisy_sphere_no_run_ends_worse_than_it_started(name):
    # issue 16: cge ended 4 of 5 runs on an unjudged trial step 2-7x worse than f(x0); spsa froze on a lucky
    # first value. (rank-sgd is not here: from rankings alone its line search still collapses under noise on
    # one seed of three in this setting; see benchmarks/RESULTS.md, issue 16)
    clean = _sphere()
    for seed in range(3):
        x0 = np.random.default_rng(seed).standard_normal(6)
        res = zoo.minimize(_noisy_sphere(0.1, seed), x0, name, budget=1500, seed=seed, vectorized=True)
        f0 = clean(x0)[0]
        assert clean(res.x)[0] < f0 and clean(res.optimizer.x)[0] < f0, (seed, res.message)


def test_a_re_measured_centre_is_averaged_into_the_reference_not_judged():
    ctl = SuccessStep(make_rule("sgd", 1.0))
    x0 = np.array([1.0, 2.0])
    s = ctl.init(x0, scale=1.0)
    step, s = ctl.update(np.array([1.0, 0.0]), s, x0, value=5.0)  # reference 5 (a lucky value, say)
    back, s = ctl.update(np.array([1.0, 0.0]), s, x0 + step, value=6.0)  # worse: undone, back at x0
    r = s["r"]
    _, s = ctl.update(np.array([1.0, 0.0]), s, x0 + step + back, value=7.0)  # x0 again: re-measured
    assert s["f_ref"] == pytest.approx(6.0) and s["n_ref"] == 2 and s["n_undone"] == 1 and s["r"] == r
    assert s["noise2"] > 0  # two values of one point differ: the function is noisy
    # a deterministic value re-measured any number of times leaves the reference exact, the noise 0
    d = ctl.init(x0, scale=1.0)
    step, d = ctl.update(np.array([1.0, 0.0]), d, x0, value=0.1)
    back, d = ctl.update(np.array([1.0, 0.0]), d, x0 + step, value=0.2)
    for _ in range(5):
        _, d = ctl.update(np.array([1.0, 0.0]), d, x0, value=0.1)  # the undo's re-measurement
        back, d = ctl.update(np.array([1.0, 0.0]), d, x0 + step, value=0.2)  # and a worse trial again
    assert d["f_ref"] == 0.1 and d["noise2"] == 0.0 and d["n_undone"] == 6


def test_the_iterate_is_the_last_accepted_centre_not_the_pending_trial():
    f = _sphere()
    opt = zoo.make("rge", x0=np.full(3, 2.0), seed=0)
    X = opt.ask()
    opt.tell(X, f(X))  # the first centre value: x0 accepted, a trial step pending
    np.testing.assert_array_equal(opt.x, np.full(3, 2.0))
    assert not np.array_equal(opt.state.x, opt.x)
