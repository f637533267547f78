"""method="auto": the choice rule, delegation, overrides and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.population.auto import choose

pytest.importorskip("cma", reason="auto picks pycma-based methods for d <= 1000 (bench extra)")


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def rotated(X):
    """A non-separable quadratic (coordinates coupled): the separable phase stops on its test."""
    Z = np.asarray(X) - 0.5
    return np.sum(Z**2, axis=1) + 0.9 * np.sum(Z[:, 1:] * Z[:, :-1], axis=1)


def test_plan_by_dimension_budget_feedback_and_batching():
    from zoo.population.auto import MODEL_EVALS_PER_DIM, plan

    stages = plan(10, 100_000)
    assert [s[0] for s in stages] == ["separable-step", "bobyqa", "cma-bipop"]
    assert stages[0][1] == {"max_evals": 50_000}  # at most half the budget
    assert stages[1][1] == {"max_evals": MODEL_EVALS_PER_DIM * 10}
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


def test_auto_runs_the_portfolio_and_says_so():
    opt = zoo.make("auto", x0=np.zeros(4), seed=0, budget=5000)
    assert opt.chosen == "separable-step" and opt.stages == ["separable-step", "bobyqa", "cma-bipop"]
    res = zoo.minimize(rotated, np.zeros(4), "auto", budget=5000, seed=0, vectorized=True)
    assert res.fun < 1e-8 and res.nfev <= 5000 and res.method == "auto"
    ran = res.stop["auto"]
    assert ran.startswith("separable-step (") and "-> bobyqa (" in ran and "-> cma-bipop (" in ran
    evals = [int(part.split("(")[1].split()[0]) for part in ran.split("->")]
    assert evals[0] <= 5 * 4 + 1, "the coordinates interact: the separable phase stops after its test"
    assert evals[1] < 200, "the trust region converges on a quadratic in a few dozen evaluations"
    assert res.optimizer.chosen == "cma-bipop" and res.optimizer.inner.nfev == evals[2]


def test_auto_solves_a_separable_multimodal_function_in_its_first_stage():
    def rastrigin(X):
        Z = np.asarray(X) - 1.3
        return 10 * Z.shape[1] + np.sum(Z**2 - 10 * np.cos(2 * np.pi * Z), axis=1)

    res = zoo.minimize(
        rastrigin, np.zeros(5), "auto", budget=5000, bounds=(-5, 5), seed=0, vectorized=True, f_target=1e-8
    )
    assert res.fun < 1e-8 and res.nfev < 1000
    assert res.stop["auto"] == f"separable-step ({res.nfev} evals)"  # solved before any other stage ran


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


def test_auto_reads_the_kind_of_the_first_ranking_answer():
    """Top-k and pair answers switch auto to the method the rule picks for them after the first batch (which
    the full-ranking choice asked); the run resumes exactly and says what it ran."""
    from zoo.core.rank_oracle import RankOracle
    from zoo.population.auto import answer_kind, plan, ranking_choice

    assert [s[0] for s in plan(10, 3000, feedback="ranking", answer="top-k")] == [ranking_choice(10, "top-k")]
    with pytest.raises(ValueError, match="answer"):
        ranking_choice(10, "votes")
    for kind, k in (("full", None), ("topk", 1), ("pairs", None)):
        oracle = RankOracle(sphere, dim=6, kind=kind, k=k, seed=0, budget=1500)
        opt = zoo.make("auto", x0=np.zeros(6), seed=1, budget=1500, feedback="ranking")
        first = opt.chosen
        X = opt.ask()
        answer = oracle(X)
        opt.tell(X, **answer.as_kwargs())
        expected = ranking_choice(6, answer_kind(answer))
        assert opt.state.answer == answer_kind(answer) and opt.chosen == expected
        assert opt.ran.startswith(first if expected == first else f"{first} ({len(X)} evals) -> {expected} (")
        sd = opt.state_dict()
        while not opt.stop():
            X = opt.ask()
            opt.tell(X, **oracle(X).as_kwargs())
        assert opt.nfev <= 1500 and np.sum((opt.best[0] - 0.5) ** 2) < 1e-2 * 6 * 0.25, kind
        again = zoo.make("auto", x0=np.zeros(6), seed=1, budget=1500, feedback="ranking")
        again.load_state_dict(sd)
        assert again.chosen == expected
    # a state saved before the answer kind was recorded resumes without switching mid-run
    old = {**sd, "state": {k: v for k, v in sd["state"].items() if k != "answer"}}
    again = zoo.make("auto", x0=np.zeros(6), seed=1, budget=1500, feedback="ranking")
    again.load_state_dict(old)
    chosen = again.chosen
    X = again.ask()
    again.tell(X, ranking=[0])  # a top-k answer
    assert again.chosen == chosen and again.state.answer == "top-k"


def test_wrappers_keep_the_inner_point_when_pairs_name_no_winner():
    """Disjoint pairs name no single best point: cma keeps its mean, the wrappers their inner's point (they
    stayed at x0 before)."""
    from zoo.core.rank_oracle import RankOracle

    for name, opts in (
        ("cma", {}),
        ("cma-bipop", {}),
        ("auto", {"feedback": "ranking", "choice": "rank-sgd"}),
    ):
        oracle = RankOracle(sphere, dim=4, kind="pairs", seed=0, budget=1200)
        opt = zoo.make(name, x0=np.zeros(4), seed=0, budget=1200, **opts)
        while not opt.stop():
            X = opt.ask()
            opt.tell(X, **oracle(X).as_kwargs())
        assert np.sum((opt.best[0] - 0.5) ** 2) < 0.1, name  # from 1.0 at x0
        if name == "auto":
            assert np.array_equal(opt.best[0], opt.inner.best[0])  # rank-sgd's iterate, not a batch point


def test_auto_choice_override_and_options():
    opt = zoo.make("auto", x0=np.zeros(3), seed=0, choice="cma", options={"popsize": 12})
    assert opt.chosen == "cma" and len(opt.ask()) == 12
    big = zoo.make("auto", x0=np.zeros(2000), seed=0, budget=10**6, batched=True)
    assert big.chosen == "rge" and big.inner.params.q == 16


def test_auto_round_trip_inside_the_trust_region_replays_it():
    opt = zoo.make("auto", x0=np.ones(3), seed=1, bounds=(-5, 5), budget=3000)
    for _ in range(5):  # the separable phase: its first batch, then its test fails
        X = opt.ask()
        opt.tell(X, rotated(X))
    assert opt.chosen == "bobyqa"
    sd = opt.state_dict()
    X = np.array(opt.ask())
    opt2 = zoo.make("auto", x0=np.ones(3), seed=42, bounds=(-5, 5), budget=3000)
    opt2.load_state_dict(sd)
    assert np.array_equal(opt2.ask(), X)


def test_auto_round_trip_keeps_the_inner_run():
    opt = zoo.make("auto", x0=np.ones(3), seed=1, bounds=(-5, 5), budget=3000)
    for _ in range(80):  # past the trust region's convergence, into the BIPOP stage
        X = opt.ask()
        opt.tell(X, rotated(X))
    assert opt.chosen == "cma-bipop"
    sd = opt.state_dict()
    assert sd["state"]["stage"] == 2 and "inner" in sd
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


def test_auto_delegating_the_whole_run_hands_the_chosen_method_the_users_seed():
    """A plan of one method runs it with the user's seed: auto(seed=s) asks and ends exactly as
    chosen(seed=s) (full rankings: cma-bipop below RANK_SGD_MIN_DIM, rank-sgd from it; a forced choice);
    another seed gives another run, and a portfolio's stages still draw their seeds."""
    from zoo.core.rank_oracle import RankOracle
    from zoo.population.auto import RANK_SGD_MIN_DIM

    def run(name, dim, seed, **opts):
        oracle = RankOracle(sphere, dim=dim, kind="full", seed=0, budget=400)
        opt = zoo.make(name, x0=np.zeros(dim), seed=seed, budget=400, **opts)
        asked = []
        while not opt.stop():
            X = opt.ask()
            asked.append(X.copy())
            opt.tell(X, **oracle(X).as_kwargs())
        return opt, np.concatenate(asked)

    for dim, method in ((6, "cma-bipop"), (RANK_SGD_MIN_DIM, "rank-sgd")):
        auto, auto_asked = run("auto", dim, 7, feedback="ranking")
        assert auto.chosen == method and auto.state.inner_seed == 7
        ref, ref_asked = run(method, dim, 7)
        np.testing.assert_array_equal(auto_asked, ref_asked)
        np.testing.assert_array_equal(auto.best[0], ref.best[0])
        _, other = run(method, dim, 8)
        assert other.shape != ref_asked.shape or not np.array_equal(other, ref_asked)
    forced, forced_asked = run("auto", 6, 11, choice="cma", feedback="ranking")
    np.testing.assert_array_equal(forced_asked, run("cma", 6, 11)[1])
    portfolio = zoo.make("auto", x0=np.zeros(4), seed=7, budget=5000)
    if len(portfolio.stages) > 1:
        assert portfolio.state.inner_seed != 7


def test_ranking_choice_old_budget_argument_is_deprecated_and_gives_the_same_pick():
    """The budget never entered the ranking rule: ranking_choice(dim, answer) is the call; the old
    (dim, budget, answer) form, positional or budget=, warns (DeprecationWarning) and picks the same."""
    from zoo.core import _deprecated
    from zoo.population.auto import ANSWER_KINDS, ranking_choice

    for dim in (10, 60):
        for answer in ANSWER_KINDS:
            new = ranking_choice(dim, answer)
            for args, kwargs in (((dim, 3000, answer), {}), ((dim, answer), {"budget": 3000})):
                _deprecated._warned.discard("ranking_choice(dim, budget, answer)")
                with pytest.warns(DeprecationWarning, match="ranking_choice"):
                    assert ranking_choice(*args, **kwargs) == new
    _deprecated._warned.discard("ranking_choice(dim, budget, answer)")
    with pytest.warns(DeprecationWarning):  # the old (dim, budget) form: full rankings
        assert ranking_choice(60, None) == ranking_choice(60) == "rank-sgd"
    with pytest.raises(TypeError, match="positional"):
        ranking_choice(10, "full", "pairs")


def test_a_budget_limited_auto_run_is_not_reported_converged():
    """``res.stop["auto"]`` says what ran; it is not a stopping rule, so a run the budget ended is status 1,
    success False (it made every auto run 'converged', status 0, whatever stopped it)."""
    res = zoo.minimize(
        zoo.functions.rosenbrock, np.full(10, 3.0), "auto", budget=500, seed=0, vectorized=True
    )
    assert set(res.stop) == {"budget", "auto"} and res.status == 1 and not res.success
    assert res.message.startswith("the query budget is spent")
    res = zoo.minimize(zoo.functions.rosenbrock, np.full(4, 3.0), "auto", budget=500, seed=0, f_target=1e-3)
    assert "f_target" in res.stop and res.status == 0 and res.success
