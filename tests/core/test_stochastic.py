"""Stochastic objectives F(x; xi) with the sample chosen by the method (issue 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zoo
from zoo.core.oracle import ObjectiveError

DATA = np.random.default_rng(0).standard_normal((50, 4))


def loss(x, xi):  # one data point per sample: F(x; i) = |a_i . x - 1|
    return abs(float(DATA[xi] @ x) - 1.0)


def test_default_samples_are_one_per_batch_and_reproducible():
    a = zoo.make("rge", x0=np.ones(4), seed=3)
    b = zoo.make("rge", x0=np.ones(4), seed=3)
    assert a.samples is None  # nothing pending
    seen = []
    for _ in range(3):
        X = a.ask()
        b.ask()
        s = a.samples
        assert s.dtype == np.int64 and len(s) == len(X) and len(set(s.tolist())) == 1
        assert np.array_equal(s, b.samples)
        seen.append(int(s[0]))
        a.tell(X, np.sum(X**2, axis=1))
        b.tell(b.pending, np.sum(b.pending**2, axis=1))
    assert len(set(seen)) == 3  # a fresh sample per batch


def test_ask_tell_with_a_stochastic_objective():
    F = zoo.Stochastic(loss, samples=len(DATA))
    opt = zoo.make("gfm", x0=np.zeros(4), seed=0, batch=4)
    for _ in range(20):
        X = opt.ask()
        opt.tell(X, F.evaluate(X, opt.samples))
    assert F.report["ignores_sample"] is False and F.check_queries == 1
    xi = F.sample(np.array([7, 57], dtype=np.int64))
    assert xi.tolist() == [7, 7]  # samples=N: xi = seed % N


def test_minimize_counts_the_check_inside_the_budget():
    res = zoo.minimize(zoo.Stochastic(loss, samples=len(DATA)), np.zeros(4), "gfm+", budget=500, seed=0)
    assert res.nfev <= 500 and res.stochastic["check_queries"] == 1
    assert res.nfev == res.optimizer.nfev + 1


def test_an_objective_that_ignores_the_sample_is_detected():
    F = zoo.Stochastic(lambda x, xi: float(np.sum(x**2)))
    with pytest.warns(zoo.StochasticWarning, match="ignore xi"):
        res = zoo.minimize(F, np.ones(3), "rge", budget=200, seed=0)
    assert res.stochastic["ignores_sample"] is True and res.stochastic["check_queries"] == 3
    assert res.nfev <= 200


def test_a_sample_that_raises_is_an_objective_error_naming_it():
    def bad(x, xi):
        if xi == 13:
            raise RuntimeError("corrupt record")
        return loss(x, xi)

    with pytest.raises(ObjectiveError, match="at sample xi=13") as info:
        zoo.minimize(zoo.Stochastic(bad, samples=len(DATA)), np.zeros(4), "gfm", budget=3000, seed=0)
    assert info.value.sample == 13 and info.value.x.shape == (4,)
    assert info.value.optimizer is not None  # the run can resume


def test_a_sample_that_raises_is_a_recorded_fault_on_request():
    def bad(x, xi):
        if xi % 10 == 3:
            raise RuntimeError("corrupt record")
        return loss(x, xi)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the sample does matter
        res = zoo.minimize(zoo.Stochastic(bad, samples=len(DATA)), np.zeros(4), "gfm", budget=400, seed=0,
                           on_error="record")  # fmt: skip
    assert res.n_faults > 0 and all(f["sample"] % 10 == 3 for f in res.faults)
    assert "corrupt record" in res.faults[0]["message"] and res.nfev <= 400


def test_vectorized_stochastic_objective_gets_the_sample_array():
    got = []

    def F(X, xi):
        got.append(np.array(xi))
        return np.sum(X**2, axis=1) + 0.01 * (np.asarray(xi) % 5)

    res = zoo.minimize(zoo.Stochastic(F, vectorized=True), np.ones(3), "gfm+", budget=300, seed=0)
    assert got[0].dtype == np.int64 and len(got[0]) == 2 * 3  # refresh of b' = d pairs
    assert res.stochastic["samples"] == "seed"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"samples": 0}, "samples"), ({"samples": 2.5}, "samples"), ({"check": -1}, "check")],
)
def test_bad_stochastic_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        zoo.Stochastic(loss, **kwargs)


def test_stochastic_refuses_what_it_cannot_combine_with():
    with pytest.raises(TypeError, match="workers"):
        zoo.minimize(zoo.Stochastic(loss), np.zeros(4), "gfm", budget=10, workers=2)
    with pytest.raises(TypeError, match="needs a callable"):
        zoo.Stochastic(3)
