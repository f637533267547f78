"""The pycma and nevergrad bridges: seeding, exact resume by replay, bad input, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import zoo

pytest.importorskip("cma", reason="the cma bridge needs the bench extra (pycma)")


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def _run(opt, steps):
    out = []
    for _ in range(steps):
        X = opt.ask()
        out.append(np.array(X))
        opt.tell(X, sphere(X))
    return out


def test_import_zoo_does_not_import_cma_or_nevergrad():
    code = "import sys, zoo; zoo.methods(); print('cma' in sys.modules, 'nevergrad' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_cma_seeded_and_never_touches_the_global_rng():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is untouched
    a = _run(zoo.make("cma", x0=np.zeros(4), seed=5), 5)
    b = _run(zoo.make("cma", x0=np.zeros(4), seed=5), 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    after = np.random.get_state()[1]  # noqa: NPY002
    assert np.array_equal(before, after), "pycma must not read numpy's global RNG"


def test_cma_defaults_and_sigma_from_bounds():
    opt = zoo.make("cma", x0=np.zeros(10), seed=0, bounds=(-5, 5))
    assert opt.popsize == 4 + int(3 * np.log(10)) and opt.initial_sigma == pytest.approx(2.0)
    assert len(opt.ask()) == opt.popsize
    X = opt.ask()
    assert np.all(X >= -5) and np.all(X <= 5)
    assert zoo.make("cma", x0=np.zeros(3), seed=0).initial_sigma == 0.5


def test_mirror_into_box_reflects_and_keeps_inside_points():
    from zoo.population.bridges import mirror_into_box

    lo, hi = np.full(6, -5.0), np.full(6, 5.0)
    X = np.array([[0.0, 6.0, -7.0, 16.0, 5.0, -5.0]])
    assert np.array_equal(mirror_into_box(X, lo, hi), [[0.0, 4.0, -3.0, -4.0, 5.0, -5.0]])
    one_sided = mirror_into_box(
        np.array([[-3.0, 3.0, 7.0]]), np.array([0, -np.inf, -np.inf]), np.array([np.inf, 1.0, np.inf])
    )
    assert np.array_equal(one_sided, [[3.0, -1.0, 7.0]])
    rng = np.random.default_rng(0)
    Y = mirror_into_box(rng.normal(0, 20, (200, 6)), lo, hi)
    assert np.all((Y >= lo) & (Y <= hi))


@pytest.mark.parametrize("handling", ["penalty", "mirror", "clip", "pycma"])
def test_cma_bound_handlings_stay_in_the_box_and_make_progress(handling):
    res = zoo.minimize(
        sphere,
        np.zeros(3),
        "cma",
        budget=600,
        seed=0,
        vectorized=True,
        bounds=(-1, 0.2),
        options={"bound_handling": handling},
    )
    # the optimum 0.5 lies outside the box: the best point is the corner 0.2, f = 3 * 0.3^2
    assert res.fun == pytest.approx(0.27, abs=1e-6)
    assert res.nfev <= 600
    with pytest.raises(ValueError, match="bound_handling"):
        zoo.make("cma", x0=np.zeros(2), bound_handling="wrap")


def test_cma_solves_a_sphere_and_stops_on_its_own():
    res = zoo.minimize(sphere, np.zeros(5), "cma", budget=20_000, seed=0, vectorized=True)
    assert res.fun < 1e-10
    assert any(k.startswith("cma_") for k in res.stop), res.stop  # pycma's tolfun / tolx ended it


def test_cma_resume_with_bounds_and_pending_batch_is_exact():
    opt = zoo.make("cma", x0=np.ones(3), seed=2, bounds=(-2, 2), popsize=6)
    _run(opt, 4)
    opt.ask()
    sd = opt.state_dict()
    rest = _run(opt, 5)
    opt2 = zoo.make("cma", x0=np.ones(3), seed=0, bounds=(-2, 2), popsize=6)
    opt2.load_state_dict(sd)
    assert all(np.array_equal(x, y) for x, y in zip(rest, _run(opt2, 5)))


def test_cma_bad_input():
    with pytest.raises(ValueError, match="popsize must be >= 2"):
        zoo.make("cma", x0=np.zeros(3), popsize=1)
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("cma", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("cma", x0=np.full(3, 4.0), bounds=(-1, 1))
    with pytest.raises(ValueError, match="sigma0"):
        zoo.make("cma", x0=np.zeros(3), sigma0=-1.0)
    with pytest.raises(ValueError, match="set by zoo"):
        zoo.make("cma", x0=np.zeros(3), cma_options={"seed": 3})


ng = pytest.importorskip("nevergrad", reason="the ng: bridge needs the bench extra (nevergrad)")


@pytest.mark.parametrize("name", ["OnePlusOne", "DE", "CMA", "PSO"])
def test_nevergrad_seeded_and_resumes_exactly(name):
    a = _run(zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200), 4)
    b = _run(zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200), 4)
    assert all(x.shape == (4, 3) for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    opt = zoo.make(f"ng:{name}", x0=np.zeros(3), seed=4, num_workers=4, budget=200)
    _run(opt, 3)
    sd = opt.state_dict()
    rest = _run(opt, 3)
    opt2 = zoo.make(f"ng:{name}", x0=np.zeros(3), seed=9, num_workers=4, budget=200)
    opt2.load_state_dict(sd)
    assert all(np.array_equal(x, y) for x, y in zip(rest, _run(opt2, 3)))


def test_nevergrad_minimize_and_bounds():
    res = zoo.minimize(
        sphere, np.zeros(4), "ng:OnePlusOne", budget=400, seed=0, vectorized=True, bounds=(-1, 1)
    )
    assert res.fun < sphere(np.zeros((1, 4)))[0] and res.nfev <= 400
    assert res.method == "ng:OnePlusOne"


def test_nevergrad_unknown_name_says_how_to_list_names():
    with pytest.raises(ValueError, match=r"ng\.optimizers\.registry") as info:
        zoo.make("ng:NoSuchOptimizer", x0=np.zeros(2))
    assert "unknown nevergrad optimizer" in str(info.value)
    with pytest.raises(ValueError, match="Close names"):
        zoo.make("ng:oneplus", x0=np.zeros(2))


def test_nevergrad_bad_input():
    with pytest.raises(ValueError, match="num_workers"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(2), num_workers=0)
    with pytest.raises(ValueError, match="dimension 0"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(0))
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("ng:OnePlusOne", x0=np.full(2, 3.0), bounds=(-1, 1))
    with pytest.raises(TypeError, match="unknown option"):
        zoo.make("ng:OnePlusOne", x0=np.zeros(2), popsize_factor=3)


# ----------------------------------------------------------------------------------------------- issue 10 / 16
def test_non_finite_values_rank_worst_even_alone():
    from zoo.population.bridges import finite_values

    # one point per batch (nevergrad's single worker): the stand-in is above every value of the run
    assert finite_values(np.array([np.nan]), worst_seen=5.0)[0] > 5.0
    assert finite_values(np.array([np.inf]))[0] >= 1e300
    out = finite_values(np.array([3.0, np.nan, -1.0]), worst_seen=10.0)
    assert out[1] > 10.0 and out[0] == 3.0


def test_nevergrad_single_worker_avoids_a_nan_half_space():
    """Before: NaN was told as 1.0, so ng:OnePlusOne put 97% of its queries in the NaN half."""

    def f(x):
        return np.nan if x[0] > 0 else float(np.sum((x + 1.0) ** 2) + 10.0)

    opt = zoo.make("ng:OnePlusOne", x0=np.full(3, -0.5), seed=0, budget=300)
    in_nan = 0
    while not opt.stop():
        X = opt.ask()
        in_nan += int(np.sum(X[:, 0] > 0))
        opt.tell(X, [f(x) for x in X])
    assert in_nan < 0.2 * opt.nfev
    assert opt.best[1] < 10.5 and opt.n_nonfinite == in_nan


def test_nevergrad_failure_is_named_with_the_numpy_hint(monkeypatch):
    from zoo.population.bridges import nevergrad as ngb

    opt = zoo.make("ng:OnePlusOne", x0=np.zeros(2), seed=0, budget=50)

    def broken():
        raise TypeError(ngb._NUMPY_SCALAR_ERROR)

    monkeypatch.setattr(opt._backend, "ask", broken)
    with pytest.raises(RuntimeError, match="nevergrad .*OnePlusOne failed after 0 evaluations.*numpy"):
        opt.ask()


def test_cma_with_huge_finite_bounds_does_not_overflow():
    """Before: bounds=(-1e160, 1e160) raised OverflowError (sigma0 = 0.2 x width, squared)."""
    res = zoo.minimize(
        lambda x: float(np.sum((x - 1.0) ** 2)),
        np.zeros(3),
        "cma",
        bounds=(-1e160, 1e160),
        budget=1500,
        seed=0,
    )
    assert res.optimizer.initial_sigma == 0.5 and res.fun < 1e-6


def test_cma_reaches_a_corner_optimum_as_fast_as_unbounded():
    """A linear slope with its optimum at a corner of the box (BBOB f5): the adaptive penalty stays off while
    the mean is inside, so CMA-ES steps to the corner (before: 2,500-10,000 evaluations on f5)."""

    def slope(x):
        return float(np.sum(5.0 - np.clip(x, -5, 5)))

    res = zoo.minimize(slope, np.zeros(10), "cma", bounds=(-5, 5), budget=3000, seed=1, f_target=1e-8)
    assert res.fun <= 1e-8 and res.nfev <= 500
    assert np.all(res.x <= 5.0)


def test_cma_penalty_pulls_back_a_mean_that_drifts_over_the_plateau():
    """Optimum inside the box next to a face: clipped queries make a plateau outside, the penalty keeps the
    mean near the box so the run converges (pycma's BoundPenalty through ask/tell does not: its penalty is
    computed on the already clipped points)."""
    c = np.full(6, 4.9)
    res = zoo.minimize(
        lambda x: float(np.sum((x - c) ** 2)), np.zeros(6), "cma", bounds=(-5, 5), budget=4000, seed=2
    )
    assert res.fun < 1e-8


def _cma_run(tell, n_rounds=12, **kw):
    opt = zoo.make("cma", x0=np.full(6, 1.0), seed=4, **kw)
    asked = []
    for _ in range(n_rounds):
        X = opt.ask()
        asked.append(np.array(X))
        tell(opt, X, np.sum((X - 0.2) ** 2 * np.logspace(0, 2, 6), axis=1))
    return opt, asked


def test_cma_from_a_full_ranking_is_cma_from_values():
    """CMA-ES uses only the order: the same seed told values or the ranking they imply asks the same points."""
    _, by_values = _cma_run(lambda o, X, v: o.tell(X, v))
    _, by_ranking = _cma_run(lambda o, X, v: o.tell(X, ranking=np.argsort(v)))
    assert all(np.array_equal(a, b) for a, b in zip(by_values, by_ranking))


def _tied_ranking(v):
    """The ranking of ``v`` best first, equal values as one list of tied indices."""
    items = []
    for value in np.unique(v):
        members = [int(i) for i in np.flatnonzero(v == value)]
        items.append(members if len(members) > 1 else members[0])
    return items


def test_cma_from_a_ranking_with_ties_is_cma_from_equal_values():
    """A tie is an equal value: told ``[[3, 0], 7, ...]`` CMA-ES asks what it asks when told values with
    v[3] == v[0] (before, the tie became the strict order 3 beats 0)."""
    coarse = lambda v: np.floor(v / np.median(v) * 2.0)  # noqa: E731  (a few values shared by several points)
    _, by_values = _cma_run(lambda o, X, v: o.tell(X, coarse(v)))
    n_tied = []

    def tell_ties(o, X, v):
        items = _tied_ranking(coarse(v))
        n_tied.append(sum(isinstance(i, list) for i in items))
        o.tell(X, ranking=items)

    _, by_ties = _cma_run(tell_ties)
    assert min(n_tied) >= 1  # every answer holds a tie
    assert all(np.array_equal(a, b) for a, b in zip(by_values, by_ties))
    strict = _cma_run(lambda o, X, v: o.tell(X, ranking=np.argsort(coarse(v), kind="stable")))[1]
    assert not all(np.array_equal(a, b) for a, b in zip(strict, by_ties)), "ties must differ from an order"


@pytest.mark.parametrize("name", ["cma", "cma-ipop", "cma-bipop"])
def test_cma_and_restart_wrappers_take_pairs_with_ties(name):
    opt = zoo.make(name, x0=np.zeros(3), seed=0, budget=1500)
    while not opt.stop():
        X = opt.ask()
        v = np.round(np.sum((X - 1.0) ** 2, axis=1), 1)  # close points tie
        pairs = [(i, "=", i + 1) if v[i] == v[i + 1] else ((i, i + 1) if v[i] < v[i + 1] else (i + 1, i))
                 for i in range(len(v) - 1)]  # fmt: skip
        opt.tell(X, pairs=pairs)
    assert np.sum((opt.best[0] - 1.0) ** 2) < 0.1  # from |x0 - 1|^2 = 3


def test_cma_from_top_k_and_pairs_makes_progress_and_resumes_exactly():
    def f(X):
        return np.sum((X - 0.2) ** 2 * np.logspace(0, 2, 6), axis=1)

    for tell in (
        lambda o, X, v: o.tell(X, ranking=np.argsort(v)[:1]),  # top-1
        lambda o, X, v: o.tell(
            X, pairs=[(i, i + 1) if v[i] < v[i + 1] else (i + 1, i) for i in range(0, len(v) - 1, 2)]
        ),
    ):
        opt, _ = _cma_run(tell, n_rounds=150)
        # pairs name no single best point, so judge the next batch (the median of its values)
        assert np.median(f(opt.ask())) < 1e-2 * f(np.ones((1, 6)))[0]
        assert not any(k.startswith("cma_tolfun") for k in opt.stop()), "value-based stops ignored for ranks"
        sd = opt.state_dict()
        X = np.array(opt.ask())
        again = zoo.make("cma", x0=np.full(6, 1.0), seed=99)
        again.load_state_dict(sd)
        assert np.array_equal(again.ask(), X)


def test_restart_wrappers_accept_rankings_and_bad_rankings_are_named():
    opt = zoo.make("cma-bipop", x0=np.zeros(3), seed=0, budget=3000, bounds=(-5, 5))
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, ranking=np.argsort(np.sum((X - 1.0) ** 2, axis=1)))
    assert np.sum((opt.best[0] - 1.0) ** 2) < 1e-6
    opt = zoo.make("cma", x0=np.zeros(3), seed=0)
    X = opt.ask()
    with pytest.raises(ValueError, match="outside the batch"):
        opt.tell(X, ranking=[0, 99])
    with pytest.raises(TypeError, match="exactly one"):
        opt.tell(X, np.zeros(len(X)), ranking=[0])
    with pytest.raises(TypeError, match="needs objective values"):
        cbo = zoo.make("cbo", x0=np.zeros(3), seed=0)
        cbo.tell(cbo.ask(), ranking=[0])


def test_bobyqa_zero_width_bounds_nan_at_x0_and_budget():
    calls = []

    def f(x):
        calls.append(x.copy())
        return np.nan if len(calls) == 1 else float(np.sum((x - 0.3) ** 2))

    res = zoo.minimize(
        f,
        np.array([0.0, 0.5, 0.0, 0.0]),
        "bobyqa",
        bounds=([-1, 0.5, -1, -1], [1, 0.5, 1, 1]),
        budget=200,
        seed=0,
    )
    assert len(calls) == res.nfev <= 200 and res.n_nonfinite == 1
    assert all(c[1] == 0.5 for c in calls), "the zero-width coordinate stays fixed"
    # the NaN at x0 is told as a finite stand-in above every value (recorded in n_nonfinite): it bends the
    # first quadratic model, so the trust region ends early; it still ends below the start's true value
    assert np.isfinite(res.fun) and res.fun < 0.31 and res.x[1] == 0.5
    res = zoo.minimize(
        lambda x: f(x) if len(calls) > 1 else 0.31,
        np.array([0.0, 0.5, 0.0, 0.0]),
        "bobyqa",
        bounds=([-1, 0.5, -1, -1], [1, 0.5, 1, 1]),
        budget=200,
        seed=0,
    )
    assert res.fun < 0.04 + 1e-8, "with a finite start: the optimum with x[1] fixed at 0.5"
    opt = zoo.make("cobyqa", x0=np.zeros(2), seed=0, budget=80)
    res = zoo.minimize(lambda x: float(np.sum((x - 0.3) ** 2)), None, opt)
    assert res.fun < 1e-8 and "cobyqa_converged" in res.stop
    with pytest.raises(ValueError, match="initial_radius"):
        zoo.make("bobyqa", x0=np.zeros(2), initial_radius=-1.0)
