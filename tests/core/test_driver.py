from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.core import checkpoint


def sphere(X):
    return np.sum(np.asarray(X) ** 2, axis=1)


def test_result_has_scipy_fields_and_history():
    res = zoo.minimize(sphere, np.ones(5), "zo-adam", budget=200, seed=1, vectorized=True, options={"q": 3})
    for key in ("x", "fun", "nfev", "nit", "success", "status", "message", "history", "stop", "n_nonfinite"):
        assert key in res
    assert res.x.shape == (5,) and res.fun == pytest.approx(sphere(res.x[None])[0])
    # scipy semantics: the budget (maxfev) ran out before convergence, so success is False, status 1
    assert res.nfev == 200 and res.nit == 50 and not res.success and res.status == 1 and "budget" in res.stop
    h = res.history
    assert len(h["nfev"]) == res.nit and np.all(np.diff(h["fun"]) <= 0) and h["nfev"][-1] == res.nfev


def test_per_point_and_vectorized_objectives_give_the_same_run():
    a = zoo.minimize(lambda x: float(np.sum(x**2)), np.ones(4), "rge", budget=100, seed=3)
    b = zoo.minimize(sphere, np.ones(4), "rge", budget=100, seed=3, vectorized=True)
    assert np.array_equal(a.x, b.x) and a.fun == b.fun


def test_stopping_reasons():
    r = zoo.minimize(sphere, np.ones(3), "rge", budget=10_000, max_iter=7, seed=0, vectorized=True)
    assert r.nit == 7 and r.stop == {"max_iter": 7}
    r = zoo.minimize(sphere, np.ones(3), "rge", budget=10_000, f_target=0.5, seed=0, vectorized=True)
    assert r.fun <= 0.5 and "f_target" in r.stop
    r = zoo.minimize(
        sphere, np.ones(3), "rge", budget=10_000, seed=0, vectorized=True, callback=lambda opt: opt.nit >= 3
    )
    assert r.nit == 3 and r.stop == {"callback": True}
    r = zoo.minimize(sphere, np.ones(3), "rge", budget=10**9, seed=0, vectorized=True, max_time=0.05)
    assert "max_time" in r.stop


@pytest.mark.parametrize("budget", [1, 2, 3, 5, 11, 100])
def test_budget_never_exceeded_with_any_batch_size(budget):
    for q in (1, 2, 4):
        res = zoo.minimize(
            sphere,
            np.ones(3),
            "rge",
            budget=budget,
            seed=0,
            vectorized=True,
            options={"q": q, "difference": "central"},
        )
        assert res.nfev <= budget


def test_default_budget_is_1000_per_dimension():
    res = zoo.minimize(sphere, np.ones(2), "rge", seed=0, vectorized=True)
    assert res.nfev <= 2000 and res.nfev > 1900


def test_checkpoint_resume_is_bit_identical(tmp_path):
    path = tmp_path / "run.npz"
    full = zoo.minimize(sphere, np.ones(6), "rge", budget=300, seed=5, vectorized=True, options={"q": 2})
    zoo.minimize(
        sphere,
        np.ones(6),
        "rge",
        budget=150,
        seed=5,
        vectorized=True,
        options={"q": 2},
        checkpoint=path,
        checkpoint_every=10,
    )
    opt = zoo.make("rge", x0=np.ones(6), seed=0, q=2)
    opt.load_state_dict(checkpoint.load(path))
    rest = zoo.minimize(sphere, None, opt, budget=300, vectorized=True)
    assert np.array_equal(rest.x, full.x) and rest.fun == full.fun and rest.nfev == full.nfev


def test_checkpoint_round_trip_keeps_types(tmp_path):
    opt = zoo.make("rge", x0=np.ones(3), seed=2**62 + 11)
    opt.ask()
    sd = opt.state_dict()
    checkpoint.save(tmp_path / "c.npz", sd)
    back = checkpoint.load(tmp_path / "c.npz")
    assert back["rng"] == sd["rng"] and back["seed"] == sd["seed"]
    assert np.array_equal(back["pending"], sd["pending"]) and back["best_f"] == np.inf


def test_load_state_dict_for_another_method_or_dimension_is_refused():
    sd = zoo.make("rge", x0=np.ones(3), seed=0).state_dict()
    with pytest.raises(ValueError, match="method 'rge'"):
        zoo.make("cge", x0=np.ones(3), seed=0).load_state_dict(sd)
    with pytest.raises(ValueError, match="dimension 3"):
        zoo.make("rge", x0=np.ones(4), seed=0).load_state_dict(sd)


def test_progress_bar_runs(capsys):
    res = zoo.minimize(sphere, np.ones(3), "zo-adam", budget=50, seed=0, vectorized=True, progress=True)
    assert res.nfev <= 50
    assert "50/50 queries" in capsys.readouterr().err


def test_ask_tell_loop_matches_minimize():
    opt = zoo.make("rge", x0=np.ones(4), seed=9, q=3, budget=100)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, sphere(X))
    res = zoo.minimize(sphere, np.ones(4), "rge", budget=100, seed=9, vectorized=True, options={"q": 3})
    assert np.array_equal(opt.best[0], res.x)


def test_seed_none_draws_a_fresh_seed_and_records_it():
    a = zoo.make("rge", x0=np.ones(2))
    b = zoo.make("rge", x0=np.ones(2), seed=a.seed)
    assert np.array_equal(a.ask(), b.ask())


def test_vectorized_is_forwarded_to_methods_that_adapt_to_batches():
    res = zoo.minimize(sphere, np.ones(3000), "auto", budget=2000, seed=0, vectorized=True)
    assert res.optimizer.params.batched is True
    res = zoo.minimize(lambda x: float(x @ x), np.ones(3), "auto", budget=50, seed=0)
    assert res.optimizer.params.batched is False
