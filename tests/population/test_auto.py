"""method="auto": the choice rule, delegation, overrides and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.population.auto import choose

pytest.importorskip("cma", reason="auto picks pycma-based methods for d <= 1000 (bench extra)")


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def test_plan_by_dimension_budget_feedback_and_batching():
    from zoo.population.auto import MODEL_EVALS_PER_DIM, plan

    stages = plan(10, 100_000)
    assert [s[0] for s in stages] == ["bobyqa", "cma-bipop"]
    assert stages[0][1] == {"max_evals": MODEL_EVALS_PER_DIM * 10}
    assert choose(10, 100_000)[0] == "cma-bipop"  # the last stage
    name, opts = choose(500, 500_000)
    assert name == "cma-ipop" and opts["inner_options"]["cma_options"] == {"CMA_diagonal": True}
    assert choose(5000, 10**6) == ("rge", {})
    assert choose(5000, 10**6, batched=True) == ("rge", {"q": 16})
    assert [s[0] for s in plan(10, 50)] == ["bobyqa"]  # fewer than 10 d queries: the trust region alone
    assert [s[0] for s in plan(10, 3000, feedback="ranking")] == ["cma-bipop"]
    assert [s[0] for s in plan(100, 3000, feedback="ranking")] == ["rank-sgd"]
    with pytest.raises(ValueError, match="dimension"):
        choose(0, 100)


def test_auto_runs_the_trust_region_then_bipop_and_says_so():
    opt = zoo.make("auto", x0=np.zeros(4), seed=0, budget=5000)
    assert opt.chosen == "bobyqa" and opt.stages == ["bobyqa", "cma-bipop"]
    res = zoo.minimize(sphere, np.zeros(4), "auto", budget=5000, seed=0, vectorized=True)
    assert res.fun < 1e-8 and res.nfev <= 5000 and res.method == "auto"
    ran = res.stop["auto"]
    assert ran.startswith("bobyqa (") and "-> cma-bipop (" in ran
    first = int(ran.split("(")[1].split()[0])
    assert first < 200, "the trust region converges on a sphere in a few dozen evaluations"
    assert res.optimizer.chosen == "cma-bipop" and res.optimizer.inner.nfev == res.nfev - first


def test_auto_with_rankings_runs_cma_from_the_order_only():
    x0 = np.zeros(5)
    opt = zoo.make("auto", x0=x0, seed=3, budget=2000, feedback="ranking")
    assert opt.chosen == "cma-bipop"
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, ranking=np.argsort(sphere(X))[:3])  # top-3 answers
    assert np.sum((opt.best[0] - 0.5) ** 2) < 1e-3
    with pytest.raises(ValueError, match="feedback"):
        zoo.make("auto", x0=x0, feedback="votes")


def test_auto_choice_override_and_options():
    opt = zoo.make("auto", x0=np.zeros(3), seed=0, choice="cma", options={"popsize": 12})
    assert opt.chosen == "cma" and len(opt.ask()) == 12
    big = zoo.make("auto", x0=np.zeros(2000), seed=0, budget=10**6, batched=True)
    assert big.chosen == "rge" and big.inner.params.q == 16


def test_auto_round_trip_inside_the_trust_region_replays_it():
    opt = zoo.make("auto", x0=np.ones(3), seed=1, bounds=(-5, 5), budget=3000)
    for _ in range(5):
        X = opt.ask()
        opt.tell(X, sphere(X))
    assert opt.chosen == "bobyqa"
    sd = opt.state_dict()
    X = np.array(opt.ask())
    opt2 = zoo.make("auto", x0=np.ones(3), seed=42, bounds=(-5, 5), budget=3000)
    opt2.load_state_dict(sd)
    assert np.array_equal(opt2.ask(), X)


def test_auto_round_trip_keeps_the_inner_run():
    opt = zoo.make("auto", x0=np.ones(3), seed=1, bounds=(-5, 5), budget=3000)
    for _ in range(60):  # past the trust region's convergence, into the BIPOP stage
        X = opt.ask()
        opt.tell(X, sphere(X))
    assert opt.chosen == "cma-bipop"
    sd = opt.state_dict()
    assert sd["state"]["stage"] == 1 and "inner" in sd
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
