"""Deep-GA ("ga") and random search: selection, elitism, re-evaluation, crossover, genomes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.kernels.noise import TABLE_SIZE
from zoo.population import genome as genome_mod
from zoo.population.genetic import GA
from zoo.population.random_search import RandomSearch

rastrigin = zoo.functions.rastrigin


def _sphere(X):
    return np.sum(np.asarray(X) ** 2, axis=1)


def _run(opt, steps, f=_sphere):
    for _ in range(steps):
        X = opt.ask()
        opt.tell(X, f(X))
    return opt


# ------------------------------------------------------------ selection
def test_truncation_selects_the_best_sorted_and_the_elite_first():
    opt = zoo.make("ga", x0=np.zeros(3), seed=0, popsize=10, truncation=3)
    X = np.array(opt.ask())
    values = np.array([5.0, 1.0, 7.0, 0.5, 9.0, 3.0, 2.0, 8.0, 6.0, 4.0])
    opt.tell(X, values)
    assert np.array_equal(opt.parents, X[[3, 1, 6]])
    assert np.array_equal(opt.state.parent_f, [0.5, 1.0, 2.0])
    x_elite, f_elite, n_evals = opt.elite
    assert np.array_equal(x_elite, X[3]) and f_elite == 0.5 and n_evals == 1


def test_children_are_mutants_of_the_parents_and_the_elite_is_not_asked_again():
    opt = _run(zoo.make("ga", x0=np.zeros(4), seed=1, popsize=12, truncation=2), 1)
    X = opt.ask()
    assert len(X) == 11  # P - 1 children; the elite keeps its value
    parents = opt.parents
    dist = np.linalg.norm(X[:, None, :] - parents[None], axis=2).min(axis=1)
    assert np.all(dist > 0) and np.all(dist < 2.0)  # sigma=0.1 steps away from one of the parents


def test_default_truncation_follows_deep_ga():
    assert zoo.make("ga", x0=np.zeros(2), popsize=1000).params.n_parents == 20
    assert zoo.make("ga", x0=np.zeros(2), popsize=10).params.n_parents == 2
    assert zoo.make("ga", x0=np.zeros(2), popsize=2).params.n_parents == 1


# ------------------------------------------------------------ elitism
def test_elite_survives_unchanged_when_every_child_is_worse():
    opt = _run(zoo.make("ga", x0=np.ones(5), seed=2, popsize=8, truncation=3), 3)
    x_elite, f_elite, _ = opt.elite
    X = opt.ask()
    opt.tell(X, np.full(len(X), 1e9))
    x_after, f_after, _ = opt.elite
    assert np.array_equal(x_after, x_elite) and f_after == f_elite


def test_elite_value_never_gets_worse_on_a_deterministic_objective():
    opt = zoo.make("ga", x0=np.full(10, 3.0), seed=3, popsize=30, sigma=0.3)
    seen = []
    for _ in range(25):
        X = opt.ask()
        opt.tell(X, rastrigin(X))
        seen.append(opt.elite[1])
    assert all(b <= a for a, b in zip(seen, seen[1:]))
    assert seen[-1] < seen[0]
    assert seen[-1] == opt.best[1]


# ------------------------------------------------------------ re-evaluation
def test_reevaluated_elite_is_averaged_and_replaced_when_its_mean_loses():
    opt = zoo.make("ga", x0=np.zeros(2), seed=4, popsize=5, truncation=2, reevaluate_elite=True)
    X0 = np.array(opt.ask())
    opt.tell(X0, np.array([4.0, 1.0, 6.0, 7.0, 8.0]))  # elite: X0[1] with f = 1
    X1 = opt.ask()
    assert len(X1) == 5 and np.array_equal(X1[0], X0[1])  # row 0: the elite, asked again unchanged
    opt.tell(X1, np.array([3.0, 2.5, 9.0, 9.0, 9.0]))  # mean (1 + 3) / 2 = 2 < 2.5: the elite stays
    x, f, n = opt.elite
    assert np.array_equal(x, X0[1]) and f == 2.0 and n == 2
    X2 = opt.ask()
    assert np.array_equal(X2[0], X0[1])
    opt.tell(X2, np.array([7.0, 2.75, 2.5, 9.0, 9.0]))  # mean (1 + 3 + 7) / 3 = 11/3 > 2.5: replaced
    x, f, n = opt.elite
    assert np.array_equal(x, X2[2]) and f == 2.5 and n == 1
    assert np.array_equal(opt.state.parent_f, [2.5, 2.75])


def test_reevaluation_tie_keeps_the_elite():
    opt = zoo.make("ga", x0=np.zeros(2), seed=5, popsize=4, truncation=1, reevaluate_elite=True)
    X0 = np.array(opt.ask())
    opt.tell(X0, np.array([1.0, 5.0, 5.0, 5.0]))
    X1 = opt.ask()
    opt.tell(X1, np.array([1.0, 1.0, 1.0, 3.0]))
    assert np.array_equal(opt.elite[0], X0[0]) and opt.elite[2] == 2


def test_non_finite_reevaluation_makes_the_elite_lose():
    opt = zoo.make("ga", x0=np.zeros(2), seed=5, popsize=4, truncation=2, reevaluate_elite=True)
    X0 = np.array(opt.ask())
    opt.tell(X0, np.array([1.0, 5.0, 6.0, 7.0]))
    X1 = np.array(opt.ask())
    opt.tell(X1, np.array([np.nan, 9.0, 8.0, np.nan]))
    x, f, n = opt.elite
    assert np.array_equal(x, X1[2]) and f == 8.0 and n == 1
    assert opt.n_skipped_generations == 0


# ------------------------------------------------------------ crossover
def test_uniform_crossover_mixes_two_parents_coordinate_wise():
    d = 12
    opt = zoo.make(
        "ga", x0=np.zeros(d), seed=6, popsize=40, truncation=2, p_crossover=1.0, sigma=1e-9, sigma_init=1.0
    )
    _run(opt, 1)
    P = opt.parents
    X = opt.ask()
    gap = np.abs(X[:, None, :] - P[None, :, :])  # (children, parents, d)
    assert np.all(gap.min(axis=1) < 1e-6)  # every coordinate comes from one of the parents
    from_first = gap[:, 0, :] < 1e-6
    mixed = from_first.any(axis=1) & (~from_first).any(axis=1)
    assert mixed.sum() >= 35  # the mate is the other parent: nearly every child mixes both
    with pytest.raises(ValueError, match="p_crossover=0"):
        opt.genome(0)


def test_no_crossover_by_default_children_come_from_one_parent():
    opt = zoo.make("ga", x0=np.zeros(6), seed=7, popsize=20, truncation=2, sigma=1e-9, sigma_init=1.0)
    _run(opt, 1)
    P, X = opt.parents, opt.ask()
    gap = np.abs(X[:, None, :] - P[None]).max(axis=2)
    assert np.all(gap.min(axis=1) < 1e-6)


# ------------------------------------------------------------ genomes
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"reevaluate_elite": True},
        {"sigma_decay": 0.9, "sigma_init": 2.0},
        {"bounds": (-0.3, 0.4), "sigma": 0.2},
        {"bounds": (-5.12, 5.12), "init": "uniform", "sigma": 0.2},
    ],
)
def test_rebuilt_genome_equals_the_member_bit_for_bit(options):
    options = dict(options)
    bounds = options.pop("bounds", None)
    opt = zoo.make("ga", x0=np.full(30, 0.1), seed=8, popsize=16, truncation=4, bounds=bounds, **options)
    _run(opt, 9, rastrigin)
    for i in range(4):
        g = opt.genome(i)
        assert len(g) == opt.state.generation == 9  # one gene per generation told
        assert np.array_equal(opt.rebuild(g), opt.parents[i])
    X = opt.ask()
    for i in range(len(X)):
        assert np.array_equal(opt.rebuild(opt.batch_genome(i)), X[i])
    p = opt.params
    module_level = genome_mod.rebuild(
        opt.genome(0),
        opt.x0,
        sigma=p.sigma,
        sigma_init=p.sigma_init,
        sigma_decay=p.sigma_decay,
        bounds=opt.bounds,
        init=p.init,
    )
    assert np.array_equal(module_level, opt.parents[0])


def test_genome_of_a_million_parameters_is_a_few_integers_and_rebuilds_exactly():
    d = 1_000_000
    opt = zoo.make("ga", x0=np.zeros(d), seed=9, popsize=3, truncation=1, sigma=0.01)
    _run(opt, 5)
    g = opt.genome(0)
    assert len(g) == 5 and all(isinstance(v, int) for v in g)
    assert np.array_equal(opt.rebuild(g), opt.parents[0])
    X = opt.ask()
    assert np.array_equal(opt.rebuild(opt.batch_genome(1)), X[1])


def test_genomes_survive_a_state_dict_round_trip():
    opt = _run(zoo.make("ga", x0=np.zeros(8), seed=10, popsize=10), 4)
    opt2 = zoo.make("ga", x0=np.zeros(8), seed=0, popsize=10)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.genome(0) == opt.genome(0)
    assert np.array_equal(opt2.rebuild(opt2.genome(0)), opt.parents[0])


def test_genome_errors_are_clear():
    opt = zoo.make("ga", x0=np.zeros(3), seed=0, popsize=4)
    with pytest.raises(RuntimeError, match="first generation"):
        opt.genome(0)
    with pytest.raises(RuntimeError, match="ask"):
        opt.batch_genome(0)
    _run(opt, 1)
    with pytest.raises(IndexError):
        opt.genome(99)
    with pytest.raises(ValueError, match="generation-0"):
        opt.rebuild([])


def test_numba_kernel_and_numpy_twin_give_the_same_run():
    runs = []
    for use_numba in (True, False):
        opt = zoo.make(
            "ga", x0=np.zeros(7), seed=11, popsize=12, p_crossover=0.5, bounds=(-1, 1), use_numba=use_numba
        )
        runs.append([np.array(X) for X in (_run(opt, 1).ask(),)] + [opt.parents])
        _run(opt, 5, rastrigin)
        runs[-1].append(np.array(opt.ask()))
    assert all(np.array_equal(a, b) for a, b in zip(*runs))


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"popsize": 1}, "popsize"),
        ({"popsize": 0}, "popsize"),
        ({"popsize": 2.5}, "popsize"),
        ({"popsize": 10, "truncation": 11}, "truncation"),
        ({"truncation": 0}, "truncation"),
        ({"sigma": 0.0}, "sigma"),
        ({"sigma": float("nan")}, "sigma"),
        ({"sigma_decay": 1.5}, "sigma_decay"),
        ({"p_crossover": 1.5}, "p_crossover"),
        ({"init": "sobol"}, "init"),
    ],
)
def test_bad_options_are_clear_errors(options, match):
    with pytest.raises(ValueError, match=match):
        zoo.make("ga", x0=np.zeros(3), seed=0, **options)


@pytest.mark.parametrize("name", ["ga", "random-search"])
def test_dimension_zero_is_an_error(name):
    with pytest.raises(ValueError, match="dimension 0|at least one coordinate"):
        zoo.make(name, x0=np.zeros(0), seed=0)
    with pytest.raises(ValueError, match="positive int"):
        zoo.make(name, dim=0, seed=0)


@pytest.mark.parametrize("name", ["ga", "random-search"])
def test_bounds_that_exclude_x0_are_an_error(name):
    with pytest.raises(ValueError, match="outside bounds"):
        zoo.make(name, x0=np.full(3, 2.0), bounds=(-1.0, 1.0), seed=0)


def test_uniform_init_needs_finite_bounds():
    with pytest.raises(ValueError, match="finite bounds"):
        zoo.make("ga", x0=np.zeros(3), init="uniform")
    with pytest.raises(ValueError, match="finite bounds"):
        zoo.make("random-search", x0=np.zeros(3), sampling="uniform", bounds=(-1, np.inf))


def test_dimension_beyond_the_noise_table_is_a_clear_error():
    with pytest.raises(ValueError, match="noise table"):
        zoo.make("ga", dim=TABLE_SIZE + 1, seed=0)


# ------------------------------------------------------------ NaN policy
def test_all_nan_first_generation_is_drawn_again_and_counted():
    opt = zoo.make("ga", x0=np.zeros(4), seed=12, popsize=6)
    X0 = np.array(opt.ask())
    opt.tell(X0, np.full(6, np.nan))
    assert opt.n_skipped_generations == 1 and len(opt.parents) == 0 and opt.n_nonfinite == 6
    X1 = opt.ask()
    assert len(X1) == 6 and not np.array_equal(X0, X1) and np.all(np.isfinite(X1))


@pytest.mark.parametrize("reevaluate", [False, True])
def test_all_nan_generation_keeps_the_previous_parents(reevaluate):
    opt = zoo.make("ga", x0=np.zeros(4), seed=13, popsize=8, truncation=3, reevaluate_elite=reevaluate)
    _run(opt, 3)
    before = (opt.parents, opt.elite[1], opt.elite[2], opt.state.generation)
    X = opt.ask()
    opt.tell(X, np.full(len(X), np.nan))
    assert np.array_equal(opt.parents, before[0])
    assert (opt.elite[1], opt.elite[2], opt.state.generation) == before[1:]
    assert opt.n_skipped_generations == 1
    _run(opt, 1)
    assert opt.state.generation == before[3] + 1


def test_nan_children_rank_worst():
    opt = zoo.make("ga", x0=np.zeros(3), seed=14, popsize=10, truncation=4)
    X = np.array(opt.ask())
    values = np.array([np.nan, 3.0, np.inf, 1.0, -np.inf, 2.0, np.nan, 4.0, 5.0, 6.0])
    opt.tell(X, values)
    assert np.array_equal(opt.parents, X[[3, 5, 1, 7]])


# ------------------------------------------------------------ bounds, solving
def test_ga_points_stay_inside_the_bounds():
    opt = zoo.make("ga", x0=np.zeros(5), seed=15, popsize=20, sigma=3.0, bounds=(-1.0, 0.5))
    for _ in range(5):
        X = opt.ask()
        assert X.min() >= -1.0 and X.max() <= 0.5
        opt.tell(X, _sphere(X))


def test_ga_with_sigma_decay_solves_a_sphere():
    res = zoo.minimize(
        _sphere,
        np.ones(10),
        "ga",
        budget=20_000,
        seed=0,
        vectorized=True,
        options={"popsize": 50, "sigma": 0.3, "sigma_decay": 0.97},
    )
    assert res.fun < 1e-3 and res.nfev <= 20_000


# ------------------------------------------------------------ random search
def test_random_search_is_uniform_in_the_bounds_without_x0():
    lo, hi = np.array([-5.0, 0.0, 10.0]), np.array([5.0, 1.0, 12.0])
    opt = zoo.make("random-search", bounds=(lo, hi), seed=0, popsize=4000)
    assert isinstance(opt, RandomSearch) and not isinstance(opt, GA)
    X = opt.ask()
    assert np.all(X >= lo) and np.all(X <= hi)
    np.testing.assert_allclose(X.mean(axis=0), (lo + hi) / 2, atol=0.1)
    np.testing.assert_allclose(X.std(axis=0), (hi - lo) / np.sqrt(12), rtol=0.05)


def test_random_search_gaussian_around_x0_and_twin():
    x0 = np.array([1.0, -2.0])
    opt = zoo.make("random-search", x0=x0, seed=1, popsize=4000, sigma=0.5)
    X = np.array(opt.ask())
    np.testing.assert_allclose(X.mean(axis=0), x0, atol=0.04)
    np.testing.assert_allclose(X.std(axis=0), 0.5, rtol=0.05)
    twin = zoo.make("random-search", x0=x0, seed=1, popsize=4000, sigma=0.5, use_numba=False).ask()
    assert np.array_equal(X, twin)


def test_random_search_minimize_with_bounds():
    f = zoo.functions.sphere
    res = zoo.minimize(
        f, None, "random-search", bounds=(-5.0, 5.0), dim=4, budget=5000, seed=2, vectorized=True
    )
    assert res.nfev == 5000 and res.fun < 2.0
    assert np.all(np.abs(res.x) <= 5.0)
    with pytest.raises(ValueError, match="popsize"):
        zoo.make("random-search", x0=np.zeros(2), popsize=0)


def test_population_demo_quick_writes_its_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from zoo.population.demo import demo

    demo(tmp_path, quick=True)
    out = capsys.readouterr().out
    assert "ga (P=200" in out and "rebuilt bit for bit: True" in out
    assert (tmp_path / "population_rastrigin.png").stat().st_size > 0
