"""``SuccessStep.update(..., undo_step=False)`` (issue 9, perf10): an undone step returns ``None`` instead of
``x_ref - params``, which a gradient method does not use (its iterate goes back to a copy of ``x_ref``); every
other output is the one of the default call."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.updates import SuccessStep, make_rule
from zoo.updates.step_control import SuccessStep as _SuccessStep


def _same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert a[k].tobytes() == b[k].tobytes(), k
        elif isinstance(a[k], float) and math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert repr(a[k]) == repr(b[k]), k


@pytest.mark.parametrize("adapt", [True, False])
@pytest.mark.parametrize("bad", [5.0, math.inf, math.nan])
def test_an_undone_step_without_its_step_has_the_same_state(adapt, bad):
    ctl = SuccessStep(make_rule("sgd", 1.0 if adapt else 0.1), adapt=adapt)
    x0 = np.linspace(-1.0, 1.0, 5)
    state = ctl.init(x0)
    step, state = ctl.update(np.ones(5), state, x0, value=3.0)  # the reference, and a step taken
    x1 = x0 + step
    value = 1e9 if (bad == 5.0 and not adapt) else bad  # a fixed rate undoes only a much worse centre
    full, s_full = ctl.update(np.ones(5), state, x1, value=value)
    none, s_none = ctl.update(np.ones(5), state, x1, value=value, undo_step=False)
    assert s_full["n_undone"] == state["n_undone"] + 1  # the step was undone
    assert none is None
    assert full.tobytes() == (state["x_ref"] - x1).tobytes()
    _same_state(s_full, s_none)
    # not undone: the flag changes nothing
    step_a, s_a = ctl.update(np.ones(5), s_full, s_full["x_ref"].copy(), value=3.0)
    step_b, s_b = ctl.update(np.ones(5), s_full, s_full["x_ref"].copy(), value=3.0, undo_step=False)
    assert step_a.tobytes() == step_b.tobytes()
    _same_state(s_a, s_b)


@pytest.mark.parametrize(
    "method,options",
    [
        ("cge", {}),
        ("cge", {"difference": "central"}),
        ("rge", {"q": 4}),
        ("zo-adam", {"q": 8}),
        ("cge", {"lr": 1.5}),
    ],
)
def test_a_gradient_method_asks_for_no_undo_step_and_runs_as_with_it(method, options, monkeypatch):
    """Each call of the control inside ``tell`` made both ways gives the same state (and ``None`` only for an
    undone step); the run with the step computed and handed back (what ``tell`` did before) has the same
    iterates, bit for bit (``rge`` has the metric step, a subclass of ``SuccessStep``)."""
    update_of = {}

    def runs(force_step):
        opt = zoo.make(method, x0=np.linspace(-1.0, 1.3, 6), seed=2, **options)
        cls = type(opt.rule)
        original = update_of.setdefault(cls, cls.update)
        calls = {"undone": 0}

        def both(self, g, state, params=None, **kw):
            assert kw.get("undo_step") is False  # tell asks for none
            with_step = original(self, g, state, params, **{**kw, "undo_step": True})
            without = original(self, g, state, params, **kw)
            if without[1]["n_undone"] > state["n_undone"]:
                calls["undone"] += 1
                assert without[0] is None and with_step[0] is not None
            else:
                assert without[0].tobytes() == with_step[0].tobytes()
            _same_state(with_step[1], without[1])
            return with_step if force_step else without

        monkeypatch.setattr(cls, "update", both)
        xs = []
        for _ in range(120):
            X = opt.ask()
            opt.tell(X, np.sum(X**2, axis=1))
            xs.append(opt.state.x.tobytes())
        monkeypatch.setattr(cls, "update", original)
        return xs, calls["undone"]

    fast, undone = runs(False)
    slow, _ = runs(True)
    assert undone > 5  # the sphere: trials are undone
    assert fast == slow
    assert issubclass(type(zoo.make(method, x0=np.zeros(3), **options).rule), _SuccessStep)
