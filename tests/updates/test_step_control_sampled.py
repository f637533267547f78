"""The step control on stochastic objectives (issue 15): a trial is compared with the last accepted point at the
same sample, and the trials since it are judged together by a t-test. Before, rge / zo-sgd with their defaults
diverged (1e64+) on zoo.Stochastic objectives whose sample spread grows with |x|."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.updates import SuccessStep, make_rule


def _lad(d: int = 10, n: int = 400):
    """Least absolute deviations with one data row per sample: the sample spread grows with |x|."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d))
    b = A @ rng.standard_normal(d)

    def F(X, xi):
        return np.abs(np.einsum("nd,nd->n", X, A[xi]) - b[xi])

    return zoo.Stochastic(F, samples=n, vectorized=True), lambda x: float(np.mean(np.abs(A @ x - b)))


@pytest.mark.parametrize("method", ["rge", "zo-sgd", "spsa", "cge"])
def test_defaults_on_a_stochastic_objective_improve_and_stay_finite(method):
    F, loss = _lad()
    x0 = np.zeros(10)
    res = zoo.minimize(F, x0, method, budget=3000, seed=0)
    x = res.optimizer.x
    assert np.isfinite(x).all()
    assert loss(x) < 0.9 * loss(x0)  # before: |x| ~ 1e64 within 5,000 queries
    assert res.nfev <= 3000


@pytest.mark.parametrize("method", ["zo-adam", "rge"])
def test_each_trial_batch_ends_with_the_last_accepted_point_at_the_batch_sample(method):
    F, _ = _lad()
    opt = zoo.make(method, x0=np.zeros(10), seed=0, q=1)
    sizes = []
    for _ in range(30):
        X = opt.ask()
        seeds = opt.samples
        assert len(set(seeds.tolist())) == 1  # one sample for the whole batch: differences are at one sample
        rule = opt.state.rule
        if method == "rge" and not rule["plain"]:
            # rge's first batch is its metric's [x, x + mu v, x - mu v]: the samples are not known before it is
            # told, and from then on the plain rule runs (a second difference at two samples is noise)
            assert len(X) == 3 and not np.isfinite(rule["f_ref"])
        elif len(X) == 3:  # [x_trial, x_trial + mu u, x_ref]
            np.testing.assert_array_equal(X[-1], rule["x_ref"])
            assert not np.array_equal(X[0], rule["x_ref"])
        else:  # the first batch, and x_ref itself after an undo: no reference row
            assert len(X) == 2 and (not np.isfinite(rule["f_ref"]) or np.array_equal(X[0], rule["x_ref"]))
        sizes.append(len(X))
        opt.tell(X, F.evaluate(X, seeds))
    assert 3 in sizes and opt.state.sampled


@pytest.mark.parametrize("method, rows", [("zo-adam", 2), ("rge", 5)])
def test_a_deterministic_objective_gets_no_reference_row(method, rows):
    # zo-adam: [x, x + mu u]; rge (its metric, q = 2): [x, x + mu v_1, x + mu v_2, x - mu v_1, x - mu v_2]
    opt = zoo.make(method, x0=np.ones(5), seed=0)
    for _ in range(20):
        X = opt.ask()
        assert len(X) == rows
        opt.tell(X, np.sum(X**2, axis=1))
    assert not opt.state.sampled and opt.state.rule["w_n"] == 0


def test_the_window_accepts_a_clear_decrease_and_undoes_a_clear_increase():
    ctl = SuccessStep(make_rule("sgd", 1.0))
    x0 = np.zeros(2)
    g = np.array([-1.0, 0.0])
    step, s = ctl.update(g, ctl.init(x0, scale=1.0), x0, value=10.0, sampled=True)
    r0 = s["r"]
    x = x0 + step
    for k, d in enumerate([-1.0, -1.1, -0.9]):  # three trials: no verdict before window = 4 of them
        step, s = ctl.update(g, s, x, value=5.0 + d, reference=5.0, sampled=True)
        assert s["w_n"] == k + 1 and s["n_success"] == 0
        np.testing.assert_array_equal(s["x_ref"], x0)
        x = x + step
    step, s = ctl.update(g, s, x, value=5.0 - 1.05, reference=5.0, sampled=True)
    assert s["n_success"] == 1 and s["w_n"] == 0 and s["r"] == pytest.approx(1.25 * r0)
    np.testing.assert_array_equal(s["x_ref"], x)  # accepted: the last trial is the new reference point
    x_acc = x
    x = x + step
    for d in [1.0, 1.2, 0.8]:
        step, s = ctl.update(g, s, x, value=5.0 + d, reference=5.0, sampled=True)
        x = x + step
    step, s = ctl.update(g, s, x, value=6.1, reference=5.0, sampled=True)
    assert s["n_undone"] == 1 and s["recheck"]
    np.testing.assert_allclose(x + step, x_acc)  # back to the accepted point
    assert s["r"] == pytest.approx(0.5 * r0)  # shrink * min(r, r_ok), r_ok the length that succeeded


def test_an_undecided_window_is_undone_and_the_next_one_is_longer():
    ctl = SuccessStep(make_rule("sgd", 1.0))
    x0 = np.zeros(2)
    g = np.array([-1.0, 0.0])
    step, s = ctl.update(g, ctl.init(x0, scale=1.0), x0, value=10.0, sampled=True)
    x = x0 + step
    for d in [1.0, -1.0, 0.5]:
        step, s = ctl.update(g, s, x, value=5.0 + d, reference=5.0, sampled=True)
        x = x + step
    step, s = ctl.update(g, s, x, value=4.5, reference=5.0, sampled=True)  # mean 0: no verdict, cap reached
    np.testing.assert_allclose(x + step, x0)
    assert s["n_undone"] == 1 and s["w_cap"] == 8 and s["n_success"] == 0
    # after the undo x_ref is measured again at a new sample: the new reference, unjudged, not a noise sample
    _, s = ctl.update(g, s, x0, value=7.0, sampled=True)
    assert s["f_ref"] == 7.0 and s["noise2"] == 0.0 and s["mu_n"] == 0.0 and not s["recheck"]


def test_a_non_finite_trial_is_undone_at_once():
    ctl = SuccessStep(make_rule("sgd", 1.0))
    x0 = np.zeros(2)
    step, s = ctl.update(np.ones(2), ctl.init(x0, scale=1.0), x0, value=1.0, sampled=True)
    step, s = ctl.update(np.ones(2), s, x0 + step, value=np.inf, reference=1.0, sampled=True)
    assert s["n_undone"] == 1 and s["w_n"] == 0


def test_window_option_is_checked():
    with pytest.raises(ValueError, match="window"):
        SuccessStep(make_rule("sgd", 1.0), window=1)


def test_the_sampled_flag_survives_state_dict():
    F, _ = _lad()
    opt = zoo.make("rge", x0=np.zeros(10), seed=0)
    for _ in range(5):
        X = opt.ask()
        opt.tell(X, F.evaluate(X, opt.samples))
    sd = opt.state_dict()
    other = zoo.make("rge", x0=np.zeros(10), seed=0)
    other.load_state_dict(sd)
    assert other.state.sampled
    assert other._batch_size(other.state) == opt._batch_size(opt.state)


def test_a_sample_that_raises_at_the_reference_row_is_a_recorded_fault_and_the_run_goes_on():
    F, loss = _lad()
    calls = []

    def raising(X, xi):
        calls.append(len(X))
        if len(calls) % 5 == 0:  # every fifth batch: its sample is corrupt (every row of it, x_ref included)
            raise RuntimeError("corrupt record")
        return F.fun(X, xi)

    res = zoo.minimize(zoo.Stochastic(raising, samples=400, vectorized=True), np.zeros(10), "rge", budget=2000,
                       seed=0, on_error="record")  # fmt: skip
    assert res.n_faults > 0 and "corrupt record" in res.faults[0]["message"]
    x = res.optimizer.x
    assert np.isfinite(x).all() and loss(x) < loss(np.zeros(10)) and res.nfev <= 2000


def test_a_stochastic_run_is_not_called_worse_from_values_at_two_samples():
    # f_first and f_last are values at different samples: their order flagged 6 of 8 improving lad runs as
    # "ended worse than it started" (status 6); it is now a note, and the check stays for other objectives
    F, loss = _lad()
    for seed in range(4):
        res = zoo.minimize(F, np.zeros(10), "rge", budget=1500, seed=seed)
        assert res.status != 6 and res.step_control["sampled"] is True
        assert "values at different samples" in res.message
    worse = zoo.minimize(lambda x: float(np.sum(x**2)), np.ones(3), "rge", budget=50, seed=0)
    assert "sampled" not in worse.step_control
