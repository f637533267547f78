"""method="auto": the choice rule, delegation, overrides and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.population.auto import choose

pytest.importorskip("cma", reason="auto picks pycma-based methods for d <= 1000 (bench extra)")


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def test_choice_rule_by_dimension_budget_and_batching():
    assert choose(10, 100_000)[0] == "cma-bipop"
    name, opts = choose(500, 500_000)
    assert name == "cma-ipop" and opts["inner_options"]["cma_options"] == {"CMA_diagonal": True}
    assert choose(5000, 10**6) == ("rge", {})
    assert choose(5000, 10**6, batched=True) == ("rge", {"q": 16})
    assert choose(10, 50)[0] == "rge"  # fewer than 10 d queries: no room for a population method
    with pytest.raises(ValueError, match="dimension"):
        choose(0, 100)


def test_auto_delegates_and_minimizes():
    opt = zoo.make("auto", x0=np.zeros(4), seed=0, budget=5000)
    assert opt.chosen == "cma-bipop" and opt.inner.name == "cma-bipop"
    res = zoo.minimize(sphere, np.zeros(4), "auto", budget=5000, seed=0, vectorized=True)
    assert res.fun < 1e-8 and res.nfev <= 5000 and res.method == "auto"


def test_auto_choice_override_and_options():
    opt = zoo.make("auto", x0=np.zeros(3), seed=0, choice="cma", options={"popsize": 12})
    assert opt.chosen == "cma" and len(opt.ask()) == 12
    big = zoo.make("auto", x0=np.zeros(2000), seed=0, budget=10**6, batched=True)
    assert big.chosen == "rge" and big.inner.params.q == 16


def test_auto_round_trip_keeps_the_inner_run():
    opt = zoo.make("auto", x0=np.ones(3), seed=1, bounds=(-5, 5), budget=3000)
    for _ in range(5):
        X = opt.ask()
        opt.tell(X, sphere(X))
    sd = opt.state_dict()
    assert sd["state"]["chosen"] == "cma-bipop" and "inner" in sd
    X = np.array(opt.ask())
    opt2 = zoo.make("auto", x0=np.ones(3), seed=42, bounds=(-5, 5), budget=3000)
    opt2.load_state_dict(sd)
    assert np.array_equal(opt2.ask(), X)


def test_auto_bad_input():
    with pytest.raises(ValueError, match="choose itself"):
        zoo.make("auto", x0=np.zeros(2), choice="auto")
    with pytest.raises(ValueError, match="unknown method"):
        zoo.make("auto", x0=np.zeros(2), choice="nope")
    with pytest.raises(TypeError, match="batched"):
        zoo.make("auto", x0=np.zeros(2), batched="yes")
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("auto", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("auto", x0=np.full(2, 3.0), bounds=(-1, 1))
