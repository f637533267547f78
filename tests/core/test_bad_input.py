"""Bad input gets a clear error naming what was expected, or a recorded handling; never a silent wrong answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.core.oracle import ObjectiveError, ValueOracle


def sphere(X):
    return np.sum(np.asarray(X) ** 2, axis=1)


@pytest.mark.parametrize("x0", [[np.nan, 1.0], [0.0, np.inf], [-np.inf]])
def test_non_finite_x0_is_rejected(x0):
    with pytest.raises(ValueError, match="x0 must be finite"):
        zoo.make("rge", x0=x0, seed=0)


@pytest.mark.parametrize("x0", [np.zeros((2, 2)), np.zeros(0)])
def test_x0_of_wrong_shape(x0):
    with pytest.raises(ValueError, match="x0"):
        zoo.make("rge", x0=x0, seed=0)


def test_x0_not_numbers():
    with pytest.raises(TypeError, match="x0 must be a 1-D array of numbers"):
        zoo.make("rge", x0=["a", "b"], seed=0)


@pytest.mark.parametrize("budget", [0, -5])
def test_zero_or_negative_budget(budget):
    with pytest.raises(ValueError, match="budget must be a positive int"):
        zoo.minimize(sphere, np.ones(3), "rge", budget=budget, vectorized=True)


def test_non_integer_budget():
    with pytest.raises(TypeError, match="budget must be a positive int"):
        zoo.minimize(sphere, np.ones(3), "rge", budget=10.5, vectorized=True)


def test_bounds_with_lower_above_upper():
    with pytest.raises(ValueError, match="lower <= upper"):
        zoo.minimize(sphere, np.zeros(3), "rge", bounds=([0, 1, 0], [1, 0, 1]), vectorized=True)


def test_bounds_that_exclude_x0():
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("rge", x0=np.full(3, 5.0), bounds=(-1, 1), seed=0)


def test_bounds_are_never_left():
    seen = []

    def f(X):
        seen.append(np.array(X))
        return sphere(X - 3.0)  # the optimum lies outside the box

    res = zoo.minimize(
        f, np.zeros(4), "rge", bounds=(-1, 1), budget=400, seed=0, vectorized=True, options={"q": 3}
    )
    allx = np.concatenate(seen)
    assert allx.min() >= -1 and allx.max() <= 1
    np.testing.assert_allclose(res.x, 1.0, atol=0.05)


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(TypeError, match="valid options: .*'q'"):
        zoo.minimize(sphere, np.ones(3), "rge", vectorized=True, options={"qq": 2})


@pytest.mark.parametrize(
    "bad",
    [
        {"q": 0},
        {"mu": -1.0},
        {"lr": 0.0},
        {"directions": "cauchy"},
        {"difference": "backward"},
        {"update": "rmsprop"},
    ],
)
def test_out_of_range_options(bad):
    with pytest.raises(ValueError):
        zoo.make("rge", x0=np.ones(3), seed=0, **bad)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown method 'nope'.*registered methods"):
        zoo.minimize(sphere, np.ones(2), "nope")


def test_vectorized_objective_with_wrong_output_shape():
    with pytest.raises(ValueError, match=r"must return shape \(5,\)"):
        zoo.minimize(
            lambda X: np.zeros((len(X), 3)), np.ones(3), "zo-adam", vectorized=True, options={"q": 4}
        )


def test_per_point_objective_returning_a_vector():
    with pytest.raises(ValueError, match="must return a scalar"):
        zoo.minimize(lambda x: x, np.ones(3), "rge")


def test_objective_that_raises_keeps_the_point_and_the_state():
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        if calls["n"] == 7:
            raise ArithmeticError("simulator crashed")
        return float(np.sum(x**2))

    with pytest.raises(ObjectiveError, match="ArithmeticError: simulator crashed") as info:
        zoo.minimize(f, np.ones(3), "rge", budget=100, seed=0, options={"q": 2})
    err = info.value
    assert isinstance(err.__cause__, ArithmeticError)
    assert err.x.shape == (3,) and np.any(np.all(err.batch == err.x, axis=1))
    opt = err.optimizer
    before = opt.state_dict()
    assert before["pending"] is not None  # the failed batch is still pending, nothing was told
    # the run resumes from where it stopped
    res = zoo.minimize(f, None, opt, budget=100)
    assert res.nfev <= 100 and res.fun < 3.0


def test_vectorized_objective_that_raises_attaches_the_batch():
    def f(X):
        raise RuntimeError("boom")

    with pytest.raises(ObjectiveError) as info:
        zoo.minimize(f, np.ones(3), "rge", vectorized=True, options={"q": 1})
    assert info.value.x.shape == (3, 3)  # rge's metric batch [x, x + mu v, x - mu v]


def test_nan_values_are_recorded_and_counted_in_the_result():
    def f(X):
        v = sphere(X)
        v[X[:, 0] > 0.9] = np.nan  # a region where the simulator fails
        return v

    res = zoo.minimize(f, np.ones(3) * 0.5, "rge", budget=300, seed=0, vectorized=True, options={"q": 4})
    assert np.isfinite(res.fun) and np.all(np.isfinite(res.x))
    assert res.n_nonfinite >= 0


def test_all_nan_objective_reports_failure():
    res = zoo.minimize(lambda X: np.full(len(X), np.nan), np.ones(2), "rge", budget=50, vectorized=True)
    assert not res.success and res.status == 4 and res.n_nonfinite == res.nfev
    assert "no finite" in res.message


def test_tell_takes_exactly_one_kind_of_feedback():
    opt = zoo.make("rge", x0=np.ones(2), seed=0)
    X = opt.ask()
    with pytest.raises(TypeError, match="exactly one"):
        opt.tell(X)
    with pytest.raises(TypeError, match="needs objective values"):
        opt.tell(X, ranking=[0, 1])


def test_oracle_refuses_a_batch_past_the_budget_before_evaluating():
    calls = []
    oracle = ValueOracle(lambda X: calls.append(1) or sphere(X), dim=2, vectorized=True, budget=5)
    oracle(np.zeros((3, 2)))
    with pytest.raises(zoo.BudgetExhausted):
        oracle(np.zeros((3, 2)))
    assert oracle.nfev == 3 and len(calls) == 1


def test_seed_must_be_a_non_negative_int():
    for bad in (-1, 1.5, "0"):
        with pytest.raises(TypeError, match="seed"):
            zoo.make("rge", x0=np.ones(2), seed=bad)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.sampled_from([np.nan, np.inf, -np.inf, 1.0, -2.0, 0.5]), min_size=3, max_size=3))
def test_any_mix_of_non_finite_values_never_poisons_the_iterate(values):
    opt = zoo.make("rge", x0=np.ones(4), seed=0, q=1)  # the metric's batch: [x, x + mu v, x - mu v]
    X = opt.ask()
    opt.tell(X, np.array(values))
    assert np.all(np.isfinite(opt.x)) and np.all(np.isfinite(opt.ask()))
    assert opt.n_nonfinite == sum(not np.isfinite(v) for v in values)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 12), cols=st.integers(1, 6))
def test_tell_with_any_wrong_shape_is_refused_and_changes_nothing(n, cols):
    opt = zoo.make("rge", x0=np.ones(4), seed=0, q=1)  # 3 rows: [x, x + mu v, x - mu v]
    X = opt.ask()
    before = opt.state_dict()["state"]["x"].copy()
    bad = np.zeros((n, cols))
    if bad.shape in ((3, 1), (1, 3)):  # a column or row of the right length is accepted as the values
        return
    with pytest.raises(ValueError):
        opt.tell(X, bad)
    assert np.array_equal(opt.state_dict()["state"]["x"], before) and opt.pending is X
