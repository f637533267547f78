"""The record GA keeps zoo's ask/tell contract: seeds, state_dict, budgets, checked options."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.synth import RecordGA

SIZES = (3, 0, 5, 0)


def _obj(X):
    T = np.asarray(X).reshape(len(X), -1, 4)
    return np.abs(T[:, :, 0] - 1).sum(axis=1) + np.abs(T[:, :, 1] - 0.25).sum(axis=1)


def _run(opt, gens):
    for _ in range(gens):
        X = opt.ask()
        opt.tell(X, _obj(X))
    return opt


def test_children_stay_in_the_domain_and_improve():
    opt = _run(RecordGA(sizes=SIZES, n_records=30, seed=0, popsize=16, rows=2), 300)
    T = opt.best_table
    assert T.shape == (30, 4)
    assert np.all(T[:, [0, 2]] == np.round(T[:, [0, 2]])) and T[:, 0].max() <= 2 and T[:, 2].max() <= 4
    assert np.all((T[:, [1, 3]] >= 0) & (T[:, [1, 3]] <= 1))
    first = _obj(opt.x0[None])[0]
    assert opt.best[1] < 0.3 * first


def test_same_seed_same_numbers_and_resume_bit_for_bit():
    a = _run(RecordGA(sizes=SIZES, n_records=20, seed=7, popsize=8), 40)
    b = _run(RecordGA(sizes=SIZES, n_records=20, seed=7, popsize=8), 40)
    np.testing.assert_array_equal(a.best_table, b.best_table)
    c = _run(RecordGA(sizes=SIZES, n_records=20, seed=8, popsize=8), 40)
    assert not np.array_equal(a.best_table, c.best_table)
    half = _run(RecordGA(sizes=SIZES, n_records=20, seed=7, popsize=8), 20)
    half.ask()  # a pending batch survives the round trip too
    sd = half.state_dict()
    resumed = RecordGA(sizes=SIZES, n_records=20, seed=0, popsize=8)
    resumed.load_state_dict(sd)
    X = resumed.ask()
    resumed.tell(X, _obj(X))
    _run(resumed, 19)
    np.testing.assert_array_equal(resumed.best_table, a.best_table)
    assert resumed.best[1] == a.best[1] and resumed.nfev == a.nfev


def test_budget_is_a_hard_limit():
    opt = RecordGA(sizes=SIZES, n_records=10, seed=0, popsize=8, budget=50)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, _obj(X))
    assert opt.nfev <= 50 and opt.nfev == 1 + 8 * 6


def test_bad_options_and_x0():
    with pytest.raises(ValueError, match="popsize"):
        RecordGA(sizes=SIZES, n_records=10, popsize=0)
    with pytest.raises(ValueError, match="p_crossover"):
        RecordGA(sizes=SIZES, n_records=10, p_crossover=2.0)
    with pytest.raises(TypeError, match="unknown option"):
        RecordGA(sizes=SIZES, n_records=10, sigma=1.0)
    bad = np.zeros((10, 4))
    bad[3, 2] = 7  # category 7 of a 5-category attribute
    with pytest.raises(ValueError, match=r"attribute\(s\) \[2\] out of range"):
        RecordGA(bad.reshape(-1), sizes=SIZES, n_records=10)
