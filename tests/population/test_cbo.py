"""CBO: M runs x N particles in one array, per-run stopping, the options, and the bad-input cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.functions import rastrigin, sphere
from zoo.kernels import cbo as kernel


def _run(opt, fun, steps=None):
    seen_f, seen_x = [], []
    while not opt.stop() and (steps is None or opt.nit < steps):
        X = opt.ask()
        v = fun(X)
        seen_f.append(v)
        seen_x.append(np.array(X))
        opt.tell(X, v)
    return np.concatenate(seen_x), np.concatenate(seen_f)


def test_ask_is_all_runs_flattened_and_values_map_back_per_run():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=4, n_particles=6)
    X = opt.ask()
    assert X.shape == (24, 3)
    np.testing.assert_array_equal(X.reshape(4, 6, 3), opt.state.X)


def test_runs_are_independent():
    """Run 0's step does not depend on the values of run 1 (each run has its own consensus and noise)."""
    a = zoo.make("cbo", dim=4, seed=3, n_runs=2, n_particles=10)
    b = zoo.make("cbo", dim=4, seed=3, n_runs=2, n_particles=10)
    X = a.ask()
    v = sphere(X)
    w = v.copy()
    w[10:] = np.random.default_rng(0).random(10)  # different values for run 1 only
    a.tell(X, v)
    b.tell(b.ask(), w)
    np.testing.assert_array_equal(a.state.X[0], b.state.X[0])
    assert not np.array_equal(a.state.X[1], b.state.X[1])


def test_each_run_stops_on_its_own_and_stop_says_when_all_have():
    opt = zoo.make("cbo", dim=2, seed=1, n_runs=5, n_particles=8, alpha_schedule="multiplicative", tol_x=1e-3)
    sizes = []
    while not opt.stop():
        X = opt.ask()
        sizes.append(len(X))
        opt.tell(X, sphere(X))
    s = opt.state
    assert opt.stop() == {"runs_converged": 5}
    assert not s.active.any()
    assert len(set(s.steps.tolist())) > 1, "runs should stop at different steps"
    assert sizes[0] == 40 and sizes[-1] < 40 and sizes == sorted(sizes, reverse=True)
    assert opt.nfev == 8 * int(s.steps.sum())
    assert np.all(s.spread <= 1e-3 * (1 + np.abs(s.consensus).max(axis=1)))


def test_stopped_run_is_not_asked_and_does_not_move():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=3, n_particles=5)
    opt.state.active[1] = False
    X_before = opt.state.X.copy()
    X = opt.ask()
    assert X.shape == (10, 3)
    np.testing.assert_array_equal(X, X_before[[0, 2]].reshape(-1, 3))
    opt.tell(X, sphere(X))
    np.testing.assert_array_equal(opt.state.X[1], X_before[1])
    assert opt.state.steps.tolist() == [1, 0, 1]


def test_max_steps_stops_every_run():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=2, max_steps=7)
    _run(opt, sphere)
    assert opt.nit == 7 and opt.stop() == {"runs_converged": 2}


def test_solves_rastrigin_d5_in_most_runs():
    d = 5
    opt = zoo.make("cbo", dim=d, seed=0, n_runs=20, init_bounds=(-3, 3), max_steps=1500)
    _run(opt, rastrigin)
    success = (np.abs(opt.state.consensus).max(axis=1) < 0.25).sum()
    assert success >= 18, success


def test_best_is_the_best_evaluated_particle():
    opt = zoo.make("cbo", dim=4, seed=2, n_runs=3, n_particles=10)
    X, f = _run(opt, rastrigin, steps=30)
    x_best, f_best = opt.best
    assert f_best == f.min()
    np.testing.assert_array_equal(x_best, X[np.argmin(f)])
    assert rastrigin(x_best)[0] == f_best
    # per run, too
    per_run = f.reshape(30, 3, 10).min(axis=(0, 2))
    np.testing.assert_array_equal(opt.state.run_best_f, per_run)


@pytest.mark.parametrize("noise", ["anisotropic", "isotropic"])
def test_both_noises_improve_a_sphere(noise):
    opt = zoo.make("cbo", dim=6, seed=0, noise=noise, sigma=0.5 if noise == "isotropic" else 10.1)
    _run(opt, lambda X: sphere(X - 0.3), steps=500)
    assert np.abs(opt.state.consensus[0] - 0.3).max() < 0.1


def test_multiplicative_alpha_grows_and_is_capped():
    opt = zoo.make(
        "cbo",
        dim=2,
        seed=0,
        n_runs=2,
        alpha=10.0,
        alpha_schedule="multiplicative",
        alpha_factor=2.0,
        alpha_max=50.0,
    )
    _run(opt, sphere, steps=3)
    np.testing.assert_array_equal(opt.state.alpha, [50.0, 50.0])
    opt2 = zoo.make(
        "cbo", dim=2, seed=0, alpha=10.0, alpha_schedule="multiplicative", alpha_factor=2.0, alpha_max=1e4
    )
    _run(opt2, sphere, steps=2)
    np.testing.assert_allclose(opt2.state.alpha, [40.0])


def test_ess_alpha_gives_the_target_effective_sample_size():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=3, n_particles=40, alpha_schedule="ess", ess_target=0.3)
    X = opt.ask()
    v = rastrigin(X)
    opt.tell(X, v)
    F = v.reshape(3, 40)
    for m in range(3):
        w = np.exp(-opt.state.alpha[m] * (F[m] - F[m].min()))
        ess = w.sum() ** 2 / (w * w).sum() / 40
        assert abs(ess - 0.3) < 1e-3


def test_batch_consensus_of_one_particle_is_that_particle():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=2, n_particles=10, batch_size=1)
    X = opt.ask()
    opt.tell(X, sphere(X))
    P = np.asarray(X).reshape(2, 10, 3)
    for m in range(2):
        assert any(np.array_equal(opt.state.consensus[m], p) for p in P[m])


def test_heaviside_asks_for_the_consensus_values_then_steps():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=2, n_particles=6, heaviside=True)
    X = opt.ask()
    opt.tell(X, sphere(X))
    C = opt.ask()
    assert C.shape == (2, 3) and opt.state.phase == "consensus"
    c_expected = [
        kernel.consensus_point(np.asarray(X)[6 * m : 6 * m + 6], sphere(X)[6 * m : 6 * m + 6], 30.0)[0]
        for m in range(2)
    ]
    np.testing.assert_allclose(C, np.array(c_expected), rtol=1e-12)
    X_before = opt.state.X.copy()
    opt.tell(C, sphere(C))
    assert opt.state.phase == "particles" and opt.nfev == 14
    assert not np.array_equal(opt.state.X, X_before)
    res = zoo.minimize(
        sphere, np.full(4, 1.0), "cbo", budget=5000, seed=0, vectorized=True, options={"heaviside": True}
    )
    assert res.fun < 0.1 and res.nfev <= 5000


def test_memory_keeps_personal_bests_and_uses_them():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=2, n_particles=8, memory=True)
    hist = []
    for _ in range(5):
        X = opt.ask()
        v = sphere(X)
        hist.append(v.reshape(2, 8))
        opt.tell(X, v)
    np.testing.assert_array_equal(opt.state.FY, np.min(hist, axis=0))
    np.testing.assert_array_equal(sphere(opt.state.Y.reshape(-1, 3)), opt.state.FY.reshape(-1))


@pytest.mark.parametrize(
    "options",
    [
        {"heaviside": True, "memory": True, "batch_size": 5, "alpha_schedule": "ess"},
        {"noise": "isotropic", "alpha_schedule": "multiplicative", "noise_source": "rng", "n_runs": 3},
    ],
)
def test_state_dict_round_trip_with_options(options):
    a = zoo.make("cbo", dim=3, seed=4, n_particles=7, **options)
    _run(a, rastrigin, steps=5)
    a.ask()
    sd = a.state_dict()
    b = zoo.make("cbo", dim=3, seed=0, n_particles=7, **options)
    b.load_state_dict(sd)
    Xa, fa = _run(a, rastrigin, steps=12)
    Xb, fb = _run(b, rastrigin, steps=12)
    np.testing.assert_array_equal(Xa, Xb)


@pytest.mark.parametrize(
    "options", [{}, {"noise": "isotropic", "heaviside": True, "memory": True, "batch_size": 4}]
)
def test_numpy_twin_gives_the_same_run(options):
    a = zoo.make("cbo", dim=3, seed=4, n_runs=2, n_particles=7, **options)
    b = zoo.make("cbo", dim=3, seed=4, n_runs=2, n_particles=7, use_numba=False, **options)
    Xa, _ = _run(a, rastrigin, steps=10)
    Xb, _ = _run(b, rastrigin, steps=10)
    np.testing.assert_allclose(Xa, Xb, rtol=1e-9, atol=1e-9)


def test_init_uniform_normal_and_bounds():
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.5, 3.0])
    X = zoo.make("cbo", seed=0, bounds=(lo, hi), n_particles=200).state.X[0]
    assert np.all(X >= lo) and np.all(X <= hi) and np.all(X.max(0) - X.min(0) > 0.8 * (hi - lo))
    X = zoo.make("cbo", x0=[5.0, 5.0], seed=0, init_bounds=(-3, 3), n_particles=200).state.X[0]
    assert np.all(np.abs(X) <= 3) and X.min() < -2.5
    X = zoo.make("cbo", x0=[5.0, -5.0], seed=0, init="normal", init_scale=0.1, n_particles=400).state.X[0]
    np.testing.assert_allclose(X.mean(0), [5.0, -5.0], atol=0.03)
    np.testing.assert_allclose(X.std(0), [0.1, 0.1], rtol=0.15)
    X = zoo.make("cbo", x0=[5.0], seed=0, init_scale=2.0, n_particles=200).state.X[0]
    assert 3.0 <= X.min() and X.max() <= 7.0


def test_particles_stay_in_bounds():
    opt = zoo.make("cbo", x0=[0.5, 0.5], bounds=([0, 0], [1, 1]), seed=0)
    X, _ = _run(opt, lambda X: sphere(X - 2.0), steps=50)
    assert X.min() >= 0.0 and X.max() <= 1.0


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("n", [1, 0])
def test_population_below_two_is_a_clear_error(n):
    with pytest.raises(ValueError, match="n_particles"):
        zoo.make("cbo", dim=3, n_particles=n)


def test_dimension_zero_is_a_clear_error():
    with pytest.raises(ValueError, match="dimension 0|at least one coordinate"):
        zoo.make("cbo", x0=np.array([]))
    with pytest.raises(ValueError, match="dim must be a positive int"):
        zoo.make("cbo", dim=0)


def test_bounds_that_exclude_x0_are_an_error():
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make("cbo", x0=[0.0, 5.0], bounds=([-1, -1], [1, 1]))


@pytest.mark.parametrize(
    "bad",
    [
        {"sigma": 0.0},
        {"dt": -1.0},
        {"alpha": math.inf},
        {"noise": "pink"},
        {"alpha_schedule": "cosine"},
        {"batch_size": 99},
        {"init": "sobol"},
        {"ess_target": 1.5},
        {"n_runs": 0},
    ],
)
def test_bad_options_are_clear_errors(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        zoo.make("cbo", dim=3, **bad)


def test_all_nan_population_skips_the_step_and_is_counted():
    opt = zoo.make("cbo", dim=3, seed=0, n_runs=2, n_particles=5)
    X = opt.ask()
    before = opt.state.X.copy()
    v = np.full(10, np.nan)
    v[5:] = sphere(X[5:])  # run 1 has finite values, run 0 none
    opt.tell(X, v)
    s = opt.state
    np.testing.assert_array_equal(s.X[0], before[0])  # run 0 skipped
    assert not np.array_equal(s.X[1], before[1])
    assert s.n_skipped.tolist() == [1, 0] and s.steps.tolist() == [1, 1] and opt.n_nonfinite == 5
    assert np.all(np.isfinite(s.X)) and np.all(np.isfinite(s.consensus)) and s.active.all()
    X = opt.ask()
    opt.tell(X, np.full(10, np.nan))
    assert opt.state.n_skipped.tolist() == [2, 1] and np.all(np.isfinite(opt.ask()))


def test_diverging_particles_never_put_inf_or_nan_in_the_state():
    """Isotropic noise with sigma^2 d >> 2 lambda blows the particles up; overflowing updates keep the old
    coordinate and an overflowing consensus skips the step, so the state stays finite."""
    opt = zoo.make("cbo", dim=20, seed=0, n_runs=2, noise="isotropic", sigma=30.0, max_steps=400)
    with np.errstate(over="ignore", invalid="ignore"):
        _run(opt, lambda X: np.sum(np.asarray(X) ** 2, axis=1))
    s = opt.state
    assert np.all(np.isfinite(s.X)) and np.all(np.isfinite(s.consensus))
    assert np.abs(s.X).max() > 1e100  # it did diverge
    assert np.all(np.isfinite(opt.ask()))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([0.0, np.nan, np.inf, -np.inf]), min_size=12, max_size=12), st.booleans())
def test_any_pattern_of_non_finite_values_keeps_the_state_finite(pattern, memory):
    opt = zoo.make("cbo", dim=2, seed=0, n_runs=2, n_particles=6, memory=memory)
    for _ in range(3):
        X = opt.ask()
        v = sphere(X) + np.asarray(pattern)  # finite where the pattern is 0, non-finite elsewhere
        opt.tell(X, v)
    s = opt.state
    assert np.all(np.isfinite(s.X)) and np.all(np.isfinite(s.consensus))
    assert opt.n_nonfinite == 3 * sum(not np.isfinite(p) for p in pattern)
    run_all_bad = [all(not np.isfinite(p) for p in pattern[6 * m : 6 * m + 6]) for m in range(2)]
    assert [int(k) for k in s.n_skipped] == [3 * int(b) for b in run_all_bad]
