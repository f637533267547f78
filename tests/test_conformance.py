"""Registry-driven conformance suite: every registered method goes through the same checks."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.core import registry

D = 5


def _unique_methods() -> list[str]:
    seen: dict[type, str] = {}
    for name in zoo.methods():
        cls = registry.get(name)
        seen.setdefault(cls, name)
    return sorted(seen.values())


METHODS = _unique_methods()


def sphere(X):
    return np.sum((np.asarray(X) - 0.5) ** 2, axis=1)


def _x0():
    return np.linspace(-1.0, 1.0, D)


def _run(opt, steps):
    batches = []
    for _ in range(steps):
        X = opt.ask()
        batches.append(np.array(X))
        opt.tell(X, sphere(X))
    return batches


def _is_plain(obj) -> bool:
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "biufU"
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(_is_plain(v) for v in obj)
    return obj is None or isinstance(obj, (bool, int, float, str))


def _tree_equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=np.asarray(a).dtype.kind == "f")
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_tree_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize("name", METHODS)
def test_ask_returns_read_only_batch(name):
    opt = zoo.make(name, x0=_x0(), seed=0)
    X = opt.ask()
    assert isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == D and len(X) >= 1
    assert X.dtype == np.float64
    assert not X.flags.writeable
    assert opt.ask() is X  # asking again before tell returns the pending batch, nothing is lost


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_numbers(name):
    a = _run(zoo.make(name, x0=_x0(), seed=7), 4)
    b = _run(zoo.make(name, x0=_x0(), seed=7), 4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    opt = zoo.make(name, x0=_x0(), seed=8)
    if opt.deterministic:
        return
    c = _run(opt, 4)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c)), "the seed must matter"


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("mid_step", [False, True])
def test_state_dict_round_trip_is_bit_identical(name, mid_step):
    opt = zoo.make(name, x0=_x0(), seed=3)
    _run(opt, 3)
    if mid_step:
        opt.ask()
    sd = opt.state_dict()
    assert _is_plain(sd), "state_dict must hold only plain arrays, numbers and strings"
    rest = _run(opt, 3)
    opt2 = zoo.make(name, x0=_x0(), seed=99)
    opt2.load_state_dict(sd)
    rest2 = _run(opt2, 3)
    assert all(np.array_equal(x, y) for x, y in zip(rest, rest2))
    assert opt.best[1] == opt2.best[1] and opt.nfev == opt2.nfev


@pytest.mark.parametrize("name", METHODS)
def test_non_finite_values_are_counted_and_rank_worst(name):
    opt = zoo.make(name, x0=_x0(), seed=0)
    for step in range(3):
        X = opt.ask()
        v = sphere(X)
        v[::2] = np.nan if step % 2 == 0 else np.inf
        opt.tell(X, v)
    assert opt.n_nonfinite > 0
    x_best, f_best = opt.best
    assert np.isfinite(f_best) or f_best == np.inf
    assert np.all(np.isfinite(x_best))
    X = opt.ask()
    assert np.all(np.isfinite(X)), "a NaN value must never poison the state"
    opt.tell(X, np.full(len(X), np.nan))  # all non-finite: handled, not a crash
    assert np.all(np.isfinite(opt.ask()))


@pytest.mark.parametrize("name", [*METHODS, "rge-perturbed", "cge-sparse", "rge-rng"])
def test_a_tell_said_to_draw_nothing_leaves_the_generator_alone(name):
    """``tell`` skips the generator snapshot when ``_tell_draws`` says the hook draws nothing: held to it on
    every registered method (and the options that make the two-point / coordinate methods draw)."""
    options = {
        "rge-perturbed": ("rge", {"perturbation": "auto"}),
        "cge-sparse": ("cge", {"coordinates": 2}),
        "rge-rng": ("rge", {"noise": "rng"}),
    }
    method, kwargs = options.get(name, (name, {}))
    opt = zoo.make(method, x0=_x0(), seed=0, **kwargs)
    claims = 0
    for _ in range(6):
        X = opt.ask()
        if not opt._tell_draws(opt.state):
            claims += 1
            before = opt.rng.bit_generator.state
            opt.tell(X, sphere(X))
            assert opt.rng.bit_generator.state == before
        else:
            opt.tell(X, sphere(X))
    if method in ("rge", "cge") and "perturbation" not in kwargs:
        assert claims == 6  # the snapshot is skipped on the hot path of the default gradient methods
    if "perturbation" in kwargs:
        assert claims == 0


def test_an_unmarked_estimate_is_taken_to_draw():
    from zoo.estimators.coordinate import CGE

    class Mine(CGE):
        def _estimate(self, state, X, values):  # not marked draws_nothing
            return super()._estimate(state, X, values)

    assert Mine(_x0(), seed=0)._tell_draws(None)
    assert not CGE(_x0(), seed=0)._tell_draws(None)


@pytest.mark.parametrize("name", METHODS)
def test_bad_tell_leaves_state_unchanged(name):
    opt = zoo.make(name, x0=_x0(), seed=0)
    _run(opt, 2)
    X = opt.ask()
    before = opt.state_dict()
    with pytest.raises(ValueError, match="shape"):
        opt.tell(X, np.zeros(len(X) + 1))
    with pytest.raises(ValueError, match="batch returned by the last ask"):
        opt.tell(np.array(X) + 1.0, sphere(X))
    assert _tree_equal(before, opt.state_dict())
    opt.tell(X, sphere(X))  # and the run goes on


@pytest.mark.parametrize("name", METHODS)
def test_tell_without_ask_and_unknown_option(name):
    opt = zoo.make(name, x0=_x0(), seed=0)
    with pytest.raises(RuntimeError, match="ask"):
        opt.tell(np.zeros((1, D)), np.zeros(1))
    with pytest.raises(TypeError, match="unknown option"):
        zoo.make(name, x0=_x0(), seed=0, no_such_option=1)


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("budget", [1, 7, 150])
def test_budget_is_a_hard_limit(name, budget):
    res = zoo.minimize(sphere, _x0(), name, budget=budget, seed=0, vectorized=True)
    assert res.nfev <= budget


@pytest.mark.parametrize("name", METHODS)
def test_minimize_improves_on_a_sphere(name):
    x0 = _x0()
    res = zoo.minimize(sphere, x0, name, budget=3000, seed=0, vectorized=True)
    assert res.fun < sphere(x0[None])[0]
    assert res.nfev <= 3000 and np.isfinite(res.fun)
