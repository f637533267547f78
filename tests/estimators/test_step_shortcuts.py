"""The per-step shortcuts of the numpy gradient methods (issue 9: overhead at d=10) change no number.

- ``tell`` checks the told values once and the estimate formulas / the centre value take its word for it
  (:meth:`zoo.core.method.Method.finite_values`) instead of scanning the same array again;
- the step-size control takes its inner rule's step as ``sign * u`` (:meth:`zoo.updates.Transform.update_signed`)
  and folds the sign of ``lr = 1`` into its own factor;
- when that direction is the estimate itself (sgd), the norm test alone rejects a non-finite estimate;
- ``tell`` tests the new iterate by its norm and keeps the norm for the next probe radius, which needs it;
- a zero step after an accepted centre takes the control's copy ``x_ref`` as the new iterate (not ``x + 0``).

A run with them and a run with all of them switched off (the general path) give the same iterate and the same best
value after every step, bit for bit, for the gradient methods, several seeds, bounds or none, and objectives
with non-finite values (NaN half-space, overflow to inf), where the shortcuts must step aside."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.core.method import Method
from zoo.updates.base import Chain, Transform
from zoo.updates.step_control import SuccessStep

METHODS = [
    ("rge", {}),
    ("rge", {"q": 8}),
    ("rge", {"q": 4, "difference": "central"}),
    ("rge", {"q": 3, "noise": "rng", "directions": "sphere"}),
    ("rge", {"update": "momentum", "q": 2}),
    ("rge", {"lr": 0.05, "q": 2}),
    ("cge", {}),
    ("cge", {"difference": "central"}),
    ("cge", {"coordinates": 3}),
    ("spsa", {}),
    ("zo-sgd", {}),
    ("zo-signsgd", {}),
]


def _shifted(X):
    return 1.0 + np.sum((X - 0.5) ** 2, axis=1)


def _nan_halfspace(X):
    v = np.sum(X**2, axis=1)
    v[X[:, 0] > 0.7] = np.nan
    return v


def _overflow(X):
    return np.exp(40.0 * np.sum(X**2, axis=1))  # inf beyond |x| ~ 4.2: the values leave float range


def _huge(X):
    return 1e300 * np.sum(
        X**2, axis=1
    )  # finite values whose differences / mu overflow: a non-finite estimate


OBJECTIVES = {"shifted": _shifted, "nan-halfspace": _nan_halfspace, "overflow": _overflow, "huge": _huge}


def _trajectory(method, options, fun, seed, bounds, steps=80):
    opt = zoo.make(method, x0=np.linspace(-1.0, 1.3, 6), seed=seed, bounds=bounds, **options)
    out = []
    for _ in range(steps):
        X = opt.ask()
        opt.tell(X, fun(X))
        out.append((opt.state.x.tobytes(), opt.best[1], opt.nfev))
    return out, opt.state_dict()


def _general_path(monkeypatch):
    from zoo.estimators.base import GradientMethod

    monkeypatch.setattr(GradientMethod, "_alias_ref", False)  # a zero step's iterate as x + zeros, not x_ref
    monkeypatch.setattr(Method, "finite_values", lambda self, values: False)
    monkeypatch.setattr(Chain, "update_signed", Transform.update_signed)
    post_init = SuccessStep.__post_init__

    def explicit_test(self):  # the estimate scanned for non-finite entries, whatever the inner rule
        post_init(self)
        object.__setattr__(self, "_passes_g", False)

    monkeypatch.setattr(SuccessStep, "__post_init__", explicit_test)
    probe_radius = SuccessStep.probe_radius
    monkeypatch.setattr(
        SuccessStep, "probe_radius", lambda self, state, x, x_norm=None: probe_radius(self, state, x)
    )


@pytest.mark.parametrize("method,options", METHODS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(METHODS)])
@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_shortcuts_give_the_general_paths_iterates_bit_for_bit(method, options, objective, monkeypatch):
    fun = OBJECTIVES[objective]
    with np.errstate(over="ignore", invalid="ignore"):
        fast = [
            _trajectory(method, options, fun, seed, bounds)
            for seed in (0, 1, 2)
            for bounds in (None, (-2, 2))
        ]
        _general_path(monkeypatch)
        slow = [
            _trajectory(method, options, fun, seed, bounds)
            for seed in (0, 1, 2)
            for bounds in (None, (-2, 2))
        ]
    for (traj_f, sd_f), (traj_s, sd_s) in zip(fast, slow):
        assert traj_f == traj_s
        assert np.array_equal(sd_f["state"]["x"], sd_s["state"]["x"])
        assert sd_f["rng"] == sd_s["rng"]


def _three_point_method(tell):
    """A method whose batch is three points and whose ``_tell`` hook is ``tell(self, values)``."""

    class Probe(Method):
        name = "finite-values-probe"

        def _init(self, x0, rng):
            return zoo.core.method.State()

        def _ask(self, state, rng):
            return np.zeros((3, 2))

        def _tell(self, state, X, values, rng):
            tell(self, values)
            return state

    return Probe(np.zeros(2), seed=0)


def test_finite_values_names_only_the_told_array_during_tell():
    seen = []
    opt = _three_point_method(
        lambda self, v: seen.append((self.finite_values(v), self.finite_values(v.copy())))
    )
    opt.tell(opt.ask(), np.array([1.0, 2.0, 3.0]))
    opt.tell(opt.ask(), np.array([1.0, np.nan, 3.0]))  # tell found a NaN: the hook must test them itself
    opt.tell(opt.ask(), np.array([1.0, np.inf, 3.0]))
    assert seen == [(True, False), (False, False), (False, False)]
    assert not opt.finite_values(np.array([1.0, 2.0, 3.0]))  # outside tell: nothing is vouched for
    assert not opt.finite_values(None)


def test_finite_values_is_cleared_when_the_hook_raises():
    def fails(self, values):
        raise RuntimeError("boom")

    opt = _three_point_method(fails)
    v = np.array([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError):
        opt.tell(opt.ask(), v)
    assert not opt.finite_values(v)
    assert opt.nit == 0  # the failed tell changed nothing


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("rule", ["sgd", "adam"])
def test_a_non_finite_estimate_is_a_zero_step_with_the_inner_state_kept(rule, bad):
    """sgd's direction is g itself, so the control's norm test rejects a non-finite g without a separate scan;
    the outcome is the one of the explicit test (adam): a zero step, the inner state and the length unchanged,
    and no RuntimeWarning."""
    import warnings

    from zoo.updates import SuccessStep, make_rule

    ctl = SuccessStep(make_rule(rule, 1.0))
    x = np.linspace(-1.0, 1.0, 5)
    state = ctl.init(x)
    _, state = ctl.update(np.ones(5), state, x, value=3.0)  # the first value: the reference
    g = np.ones(5)
    g[2] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step, new = ctl.update(g, state, x, value=3.0)
    assert np.array_equal(step, np.zeros(5))
    assert repr(new["inner"]) == repr(state["inner"])
    assert new["r"] == state["r"] and new["n_steps"] == state["n_steps"]


@pytest.mark.parametrize("method,options", [("rge", {"q": 4}), ("cge", {}), ("spsa", {})])
def test_the_kept_norm_is_the_norm_of_the_iterate(method, options):
    """The norm ``tell`` keeps for the next probe radius is ``norm(x)`` of the very iterate the radius is for,
    at every step (a step, an undo, a zero step, a resume), so the radius is the one computed from scratch."""
    from zoo.core.arrays import norm

    opt = zoo.make(method, x0=np.linspace(-1.0, 1.3, 6), seed=1, **options)
    hits = 0
    for k in range(120):
        if k == 60:  # a resumed optimizer starts with nothing kept
            sd = opt.state_dict()
            opt = zoo.make(method, x0=np.linspace(-1.0, 1.3, 6), seed=1, **options)
            opt.load_state_dict(sd)
        kept = opt.__dict__.get("_x_norm")
        if kept is not None and kept[0] is opt.state.x:
            hits += 1
            assert kept[1] == norm(opt.state.x)
        assert opt._mu(opt.state) == opt.rule.probe_radius(opt.state.rule, opt.state.x)
        X = opt.ask()
        opt.tell(X, _shifted(X))
    assert hits > 50  # the shortcut is taken on most steps


def test_a_zero_step_takes_x_ref_as_the_iterate_bit_for_bit():
    """After an accepted centre, a step the control did not take (zeros: the converged cge estimate) makes the
    control's own copy ``x_ref`` the new iterate; it holds what ``x + zeros`` holds, bit for bit, the next
    judgement keeps it as ``x_ref`` instead of copying it (x0 holds -0.0 entries, which the copy turns to 0.0)."""
    x0 = np.array([-0.0, 0.0, 1.0, -0.0, 2.0, 1e-3])
    opt = zoo.make("cge", x0=x0, seed=0)
    aliased = 0
    for _ in range(400):
        x = opt.state.x
        X = opt.ask()
        opt.tell(X, _shifted(X))
        if opt.state.x is opt.state.rule["x_ref"]:
            aliased += 1
            assert opt.state.x.tobytes() == (x + np.zeros_like(x)).tobytes()
    assert aliased > 100  # converged: most steps are zero steps


@pytest.mark.parametrize("method,options", [("cge", {}), ("zo-adam", {"q": 4}), ("rge", {"q": 4})])
def test_an_undone_step_keeps_the_norm_of_the_point_it_returns_to(method, options):
    """After an undo the iterate is a copy of ``x_ref``, whose norm ``tell`` kept when the control accepted it:
    the kept norm is ``norm(x)`` of that copy, bit for bit, and the shortcut is taken."""
    from zoo.core.arrays import norm

    opt = zoo.make(method, x0=np.linspace(-1.0, 1.3, 6), seed=3, **options)
    undone_hits = 0
    for _ in range(150):
        before = opt.state.rule["n_undone"]
        X = opt.ask()
        opt.tell(X, np.sum(X**2, axis=1))  # the sphere: at its floor most trials are undone
        kept = opt._x_norm
        if opt.state.rule["n_undone"] > before and kept[0] is opt.state.x:
            undone_hits += 1
            assert kept[1] == norm(opt.state.x)
    assert undone_hits > 10
