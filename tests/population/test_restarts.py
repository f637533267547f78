"""IPOP / BIPOP restart wrappers: population schedule, budget hand-on, generic inner methods, resume."""

from __future__ import annotations

import numpy as np
import pytest

import zoo

pytest.importorskip("cma", reason="the default inner method 'cma' needs pycma (bench extra)")


def rastrigin(X):
    X = np.atleast_2d(X)
    return 10 * X.shape[1] + np.sum(X**2 - 10 * np.cos(2 * np.pi * X), axis=1)


def _drive(opt, budget_steps=100_000):
    """Run to the end, recording (restart index, inner popsize, inner budget, outer nfev at start)."""
    seen = []
    while not opt.stop():
        s = opt.state
        if not seen or seen[-1][0] != s.restarts:
            seen.append((s.restarts, s.inner_popsize, s.inner_budget, opt.nfev, s.regime))
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    return seen


def test_ipop_doubles_the_population_and_hands_on_the_remaining_budget():
    opt = zoo.make("cma-ipop", x0=np.full(3, 2.0), seed=1, bounds=(-5, 5), budget=6000)
    seen = _drive(opt)
    assert len(seen) >= 3, "rastrigin should trigger restarts"
    lam0 = 4 + int(3 * np.log(3))
    assert [p for _, p, *_ in seen] == [lam0 * 2**k for k in range(len(seen))]
    for _, _, inner_budget, start, _ in seen:
        assert inner_budget == 6000 - start
    assert opt.nfev <= 6000
    assert np.all(np.abs(opt.inner.x0) <= 4)  # restarts start in the central 80% of the box


def test_bipop_uses_both_regimes_with_small_populations_and_step_sizes():
    opt = zoo.make("cma-bipop", x0=np.full(3, 2.0), seed=3, bounds=(-5, 5), budget=8000)
    seen = []
    while not opt.stop():
        s = opt.state
        if not seen or seen[-1][0] != s.restarts:
            seen.append((s.regime, s.inner_popsize, s.inner_sigma))
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    regimes = {r for r, _, _ in seen}
    assert regimes == {"first", "large", "small"} and seen[0][0] == "first"
    lam_def, sigma_def = seen[0][1], seen[0][2]
    assert sigma_def == pytest.approx(2.0)  # cma's sigma0 from the bounds [-5, 5]
    for regime, lam, sig in seen:
        if regime == "small":
            assert 2 <= lam and 0.01 * sigma_def <= sig <= sigma_def
        elif regime == "large":
            assert sig == sigma_def and lam >= lam_def
    s = opt.state
    assert s.evals_large + s.evals_small <= opt.nfev


def _bipop_schedule(seed, budget=20_000, dim=3, inner_options=None):
    """(regime, popsize, inner budget, outer nfev at start, evaluations it used) of every BIPOP run."""
    extra = {} if inner_options is None else {"inner_options": inner_options}
    opt = zoo.make("cma-bipop", x0=np.full(dim, 2.0), seed=seed, bounds=(-5, 5), budget=budget, **extra)
    runs = []
    while not opt.stop():
        s = opt.state
        if not runs or runs[-1][0] != s.restarts:
            runs.append([s.restarts, s.regime, s.inner_popsize, s.inner_budget, opt.nfev, 0])
        X = opt.ask()
        opt.tell(X, rastrigin(X))
        runs[-1][5] = opt.nfev - runs[-1][4]
    return [tuple(r[1:]) for r in runs], opt


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bipop_schedule_follows_hansens_budget_accounting(seed):
    """Hansen's code (pycma's fmin, bipop=True): the first run counts in the small share, so the first restart
    is large; then small while evals_small < evals_large; a small run gets at most half the large regime's
    evaluations so far, and lambda_def <= lambda_s <= the latest large population."""
    runs, opt = _bipop_schedule(seed)
    lam_def = runs[0][1]
    assert runs[0][0] == "first" and runs[1][0] == "large" and runs[1][1] == 2 * lam_def
    assert any(r[0] == "small" for r in runs)
    small, large, lam_last = runs[0][4], 0, lam_def
    for k, (regime, lam, inner_budget, start, used) in enumerate(runs[1:], 1):
        assert regime == ("small" if small < max(1, large) else "large"), (k, runs)
        if regime == "small":
            assert lam_def <= lam <= lam_last
            assert inner_budget == min(20_000 - start, max(large // 2, lam))
            assert used <= inner_budget
            small += used
        else:
            assert lam == 2 * lam_last and inner_budget == 20_000 - start
            lam_last = lam
            large += used
    last = runs[-1]  # the run the budget ended is not yet in the state's totals
    small -= last[4] if last[0] == "small" else 0
    large -= last[4] if last[0] == "large" else 0
    assert (opt.state.evals_small, opt.state.evals_large) == (small, large)
    assert opt.nfev <= 20_000
    assert _bipop_schedule(seed)[0] == runs  # the seed fixes the schedule


def test_bipop_small_run_at_its_cap_restarts_instead_of_ending():
    """A small run that reaches its cap (a budget below what is left) is followed by a restart; only the whole
    budget ends the wrapper. A slowly converging inner (tolx / tolfun off) makes every small run end on its cap."""
    opts = {"cma_options": {"tolx": 0, "tolfun": 0, "tolfunhist": 0, "tolstagnation": 10**9}}
    runs, opt = _bipop_schedule(0, inner_options=opts)
    at_cap = [
        k
        for k, (regime, lam, cap, start, used) in enumerate(runs)
        if regime == "small" and cap < 20_000 - start and used > cap - lam
    ]
    assert at_cap and at_cap[0] < len(runs) - 1  # a restart followed the capped run
    assert opt.nfev > 20_000 - 2 * max(r[1] for r in runs)  # the whole budget was used (r[1]: the popsize)


def test_wrapper_is_generic_over_inner_methods():
    opt = zoo.make(
        "ipop",
        x0=np.full(2, 1.0),
        seed=0,
        bounds=(-3, 3),
        budget=4000,
        inner="cbo",
        inner_options={"max_steps": 15, "popsize": 20},
    )
    seen = _drive(opt)
    assert len(seen) >= 2 and [p for _, p, *_ in seen[:3]] == [20, 40, 80][: min(3, len(seen))]
    assert opt.nfev <= 4000
    ga = zoo.make("cma-ipop", x0=np.zeros(2), seed=0, inner="ga", budget=500)
    assert len(ga.ask()) == ga.inner.params.popsize


def test_state_round_trip_after_a_restart_is_exact():
    def make():
        return zoo.make("cma-bipop", x0=np.full(2, 2.0), seed=7, bounds=(-5, 5), budget=5000)

    opt = make()
    while opt.state.restarts < 2:
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    opt.ask()
    sd = opt.state_dict()
    assert "inner" in sd and sd["inner"]["method"] == "cma"
    rest = []
    for _ in range(8):
        X = opt.ask()
        rest.append(np.array(X))
        opt.tell(X, rastrigin(X))
    opt2 = make()
    opt2.load_state_dict(sd)
    for x in rest:
        X = opt2.ask()
        assert np.array_equal(X, x)
        opt2.tell(X, rastrigin(X))


def test_without_budget_restarts_are_capped():
    opt = zoo.make("cma-ipop", x0=np.full(2, 2.0), seed=0, max_restarts=2)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    assert opt.stop() == {"restarts": 2}


def test_restart_bad_input():
    with pytest.raises(ValueError, match="no population-size option"):
        zoo.make("cma-ipop", x0=np.zeros(3), inner="rge")
    with pytest.raises(ValueError, match="popsize must be >= 2"):
        zoo.make("cma-ipop", x0=np.zeros(3), inner_options={"popsize": 1})
    with pytest.raises(ValueError, match="popsize_factor"):
        zoo.make("cma-bipop", x0=np.zeros(3), popsize_factor=1.0)
    with pytest.raises(ValueError, match="restart wrapper"):
        zoo.make("cma-ipop", x0=np.zeros(3), inner="cma-bipop")
    with pytest.raises(ValueError, match="unknown method"):
        zoo.make("cma-ipop", x0=np.zeros(3), inner="no-such-method")
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("cma-ipop", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("cma-bipop", x0=np.full(3, 9.0), bounds=(-5, 5))
    with pytest.raises(ValueError, match="not an option"):
        zoo.make("cma-ipop", x0=np.zeros(3), popsize_option="lambda_size")


def test_first_sigma0_sets_the_first_run_only():
    opt = zoo.make("cma-bipop", x0=np.full(3, 2.0), seed=3, bounds=(-5, 5), budget=6000, first_sigma0=0.01)
    assert opt.inner.initial_sigma == pytest.approx(0.01)
    default = zoo.make("cma-bipop", x0=np.full(3, 2.0), seed=3, bounds=(-5, 5)).inner.initial_sigma
    sigmas = set()
    while not opt.stop():
        if opt.state.restarts > 0 and opt.state.regime == "large":
            sigmas.add(opt.inner.initial_sigma)
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    assert opt.state.restarts > 0 and sigmas and max(abs(s - default) for s in sigmas) < 1e-12  # the default
    wide = zoo.make("cma-ipop", x0=np.zeros(3), bounds=(-5, 5), first_sigma0=1e9)
    assert wide.inner.initial_sigma == pytest.approx(default)  # never wider than the default
    with pytest.raises(ValueError, match="first_sigma0"):
        zoo.make("cma-ipop", x0=np.zeros(3), first_sigma0=-1.0)


@pytest.mark.parametrize("sigma", [None, (0.3, 0.2, 0.1)])
def test_bipop_shrinks_the_step_of_ga_with_derived_or_per_coordinate_widths(sigma):
    """ga's step option is ``sigma`` (None: widths from the box / x0; a tuple: one per coordinate): the small
    regime scales those widths (it used to find no step option, and a tuple failed float())."""
    opts = {"popsize": 10} if sigma is None else {"popsize": 10, "sigma": sigma}
    opt = zoo.make("cma-bipop", x0=np.full(3, 2.0), seed=3, bounds=(-5, 5), budget=4000, inner="ga",
                   inner_options={**opts, "max_iter": 5})  # fmt: skip
    default = np.array([0.5, 0.5, 0.5]) if sigma is None else np.array(sigma)  # 0.05 x the box width 10
    np.testing.assert_allclose(opt.inner.initial_sigma, default)
    seen = []
    while not opt.stop():
        s = opt.state
        if not seen or seen[-1][0] != s.restarts:
            seen.append((s.restarts, s.regime, np.asarray(opt.inner.initial_sigma)))
        X = opt.ask()
        opt.tell(X, rastrigin(X))
    small = [w for _, regime, w in seen if regime == "small"]
    large = [w for _, regime, w in seen if regime == "large"]
    assert small and all(np.allclose(w, default) for w in large)
    for w in small:  # default x 10^(-2V), V ~ U[0, 1]: the same factor on every coordinate
        factor = w / default
        assert np.allclose(factor, factor[0]) and 0.01 <= factor[0] < 1.0
    restored = zoo.make("cma-bipop", x0=np.full(3, 2.0), seed=3, bounds=(-5, 5), budget=4000, inner="ga",
                        inner_options={**opts, "max_iter": 5})  # fmt: skip
    restored.load_state_dict(opt.state_dict())
    np.testing.assert_allclose(restored.inner.initial_sigma, opt.inner.initial_sigma)
