"""Fuzz suite (hypothesis) over every registered method: the error path and the counts.

Every distinct registered method class (aliases run once), plus the nevergrad bridge, goes through
``minimize`` and ask/tell with random dimensions, bounds (none, finite, degenerate, infinite), budgets (1, 2,
batch - 1, batch, large) and objectives that return NaN / inf / huge values / ints beyond float64, that return
complex / None / dicts / wrong shapes, or raise once at call k. It asserts:

- the queries given to the objective (counted here, the call that raised included) equal ``res.nfev`` and
  never exceed the budget, also across the documented resume ``minimize(f, None, err.optimizer)``;
  ``res.n_nonfinite`` equals the non-finite values returned;
- a run resumed after an error follows the uninterrupted run exactly (the same result as the uninterrupted
  run stopped at the same iteration: the failed call's queries are spent, so it may stop sooner);
- the checkpoint written on an interrupt resumes bit-exactly in a fresh process.

The number of examples is bounded (``EXAMPLES`` per method and case, derandomized), so the suite runs in CI
in well under a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.core import checkpoint

EXAMPLES = 3

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _distinct_methods() -> list[str]:
    seen: dict[type, str] = {}
    for name in zoo.methods():
        seen.setdefault(zoo.get(name), name)
    return sorted(seen.values())


METHODS = _distinct_methods() + ["ng:OnePlusOne"]
HUGE_INT = 10**400


def _value(x: np.ndarray, kind: str) -> object:
    """A deterministic function of x (so reruns and resumes see the same numbers), with the chosen oddity."""
    f = float(np.sum((x - 0.3) ** 2))
    odd = np.sin(1e3 * float(np.sum(x))) > 0.6  # about a fifth of the points, chosen by x alone
    if kind == "plain" or not odd:
        return f
    return {
        "nan": float("nan"),
        "inf": float("inf"),
        "-inf": -float("inf"),
        "huge": 1e300,
        "bigint": HUGE_INT,
    }[kind]


class Objective:
    """Counts the values it returns; raises (or returns something bad) once, at call ``fail_at``."""

    def __init__(self, kind="plain", vectorized=False, fail_at=None, fail_with="raise"):
        self.kind, self.vectorized, self.fail_at, self.fail_with = kind, vectorized, fail_at, fail_with
        self.calls = 0
        self.given = 0  # queries given to the objective: every call's points, the failing call's included
        self.answered = 0
        self.nonfinite = 0

    def _bad(self, n):
        if self.fail_with == "raise":
            raise ArithmeticError("injected failure")
        if self.fail_with == "interrupt":
            raise KeyboardInterrupt
        bad = {"complex": 1 + 1j, "none": None, "dict": {"f": 1.0}, "shape": np.ones(3), "str": "0.5"}[
            self.fail_with
        ]
        if self.vectorized:
            return [bad] * n if self.fail_with != "shape" else np.ones((n, 3))
        return bad

    def __call__(self, X):
        self.calls += 1
        self.given += len(X) if self.vectorized else 1
        if self.calls == self.fail_at:
            return self._bad(len(X) if self.vectorized else 1)
        if self.vectorized:
            vals = [_value(x, self.kind) for x in np.asarray(X)]
        else:
            vals = [_value(np.asarray(X), self.kind)]
        self.answered += len(vals)
        self.nonfinite += sum(1 for v in vals if isinstance(v, int) or not np.isfinite(v))
        return vals if self.vectorized else vals[0]


@st.composite
def problems(draw, method):
    dim = draw(st.integers(1, 5))
    kinds = ["none", "finite", "degenerate", "infinite", "half"]
    if method.startswith("ng:"):
        kinds.remove("degenerate")  # test_nevergrad_bridge_with_a_fixed_coordinate below
    kind = draw(st.sampled_from(kinds))
    lo, hi = np.full(dim, -2.0), np.full(dim, 3.0)
    if kind == "degenerate":
        fixed = draw(st.lists(st.booleans(), min_size=dim, max_size=dim))
        lo = np.where(fixed, 0.5, lo)
        hi = np.where(fixed, 0.5, hi)
    elif kind == "infinite":
        lo, hi = np.full(dim, -np.inf), np.full(dim, np.inf)
    elif kind == "half":
        lo = np.full(dim, -np.inf)
    bounds = None if kind == "none" else (lo, hi)
    x0 = np.zeros(dim) if bounds is None else np.clip(np.zeros(dim), lo, hi)
    probe = zoo.make(method, x0=x0, seed=0, bounds=bounds, budget=10_000)
    batch = probe._batch_size(probe.state)
    budget = draw(st.sampled_from([1, 2, max(batch - 1, 1), batch, 3 * batch + 1, 200]))
    return {
        "x0": x0,
        "bounds": bounds,
        "budget": budget,
        "seed": draw(st.integers(0, 2**31)),
        "vectorized": draw(st.booleans()),
        "kind": draw(st.sampled_from(["plain", "nan", "inf", "-inf", "huge", "bigint"])),
    }


def _run(p, method, objective, opt=None):
    if opt is not None:
        return zoo.minimize(objective, None, opt, budget=p["budget"], vectorized=p["vectorized"])
    return zoo.minimize(
        objective,
        p["x0"],
        method,
        budget=p["budget"],
        seed=p["seed"],
        bounds=p["bounds"],
        vectorized=p["vectorized"],
    )


def _same(a, b):
    assert np.array_equal(a.x, b.x) and (a.fun == b.fun or (np.isnan(a.fun) and np.isnan(b.fun)))
    assert (a.nit, a.n_nonfinite) == (b.nit, b.n_nonfinite)


def _uninterrupted_until(p, method, nit):
    """The uninterrupted run stopped after ``nit`` tells (the same as the interrupted one up to there)."""
    if nit == 0:
        return None
    return zoo.minimize(
        Objective(p["kind"], p["vectorized"]), p["x0"], method, budget=p["budget"], seed=p["seed"],
        bounds=p["bounds"], vectorized=p["vectorized"], max_iter=nit,
    )  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
def test_counts_equal_nfev_and_never_exceed_the_budget(method):
    @FUZZ
    @given(p=problems(method))
    def check(p):
        f = Objective(p["kind"], p["vectorized"])
        res = _run(p, method, f)
        assert f.given == f.answered == res.nfev <= p["budget"]
        assert res.n_nonfinite == f.nonfinite and res.n_failed == 0
        assert len(res.history["nfev"]) == res.nit

    check()


@pytest.mark.parametrize("method", METHODS)
def test_resume_after_an_error_equals_an_uninterrupted_run(method):
    @FUZZ
    @given(p=problems(method), frac=st.floats(0.0, 1.0))
    def check(p, frac):
        reference_calls = Objective(p["kind"], p["vectorized"])
        full = _run(p, method, reference_calls)
        fail_at = 1 + int(frac * max(reference_calls.calls - 1, 0))
        f = Objective(p["kind"], p["vectorized"], fail_at=fail_at)
        try:
            res = _run(p, method, f)
        except zoo.ObjectiveError as err:
            spent = err.optimizer.n_queries
            assert spent == f.given <= p["budget"] and err.optimizer.n_failed == (
                len(err.batch) if p["vectorized"] else 1
            )
            res = _run(p, method, f, opt=err.optimizer)
            assert res.n_failed == err.optimizer.n_failed
        else:
            assert res.n_failed == 0
        assert f.given == res.nfev <= p["budget"]  # every call counted, the one that raised included
        assert res.nit <= full.nit
        ref = _uninterrupted_until(p, method, res.nit)
        if ref is None:
            assert res.fun == np.inf
        else:
            _same(res, ref)

    check()


@pytest.mark.parametrize("method", METHODS)
def test_a_bad_value_stops_the_run_with_the_point_and_keeps_the_count(method):
    @FUZZ
    @given(
        p=problems(method),
        fail_at=st.integers(1, 30),
        bad=st.sampled_from(["complex", "none", "dict", "shape", "str"]),
    )
    def check(p, fail_at, bad):
        f = Objective(p["kind"], p["vectorized"], fail_at=fail_at, fail_with=bad)
        try:
            res = _run(p, method, f)
        except zoo.ObjectiveError as err:
            assert isinstance(err, (TypeError, ValueError)) and err.optimizer is not None
            assert err.optimizer.n_queries == f.given <= p["budget"]  # the bad answer's call counts
        else:
            assert f.calls < fail_at and f.given == res.nfev <= p["budget"]

    check()


def _fail_and_resume(method, vectorized, budget, query):
    """Run with the objective raising in the call that holds query ``query``, then the documented resume."""
    x0 = np.full(3, 0.2)
    sizes = []

    def sized(X):
        sizes.append(len(X) if vectorized else 1)
        return _value(np.asarray(X), "plain") if not vectorized else [_value(x, "plain") for x in X]

    zoo.minimize(sized, x0, method, budget=budget, seed=0, vectorized=vectorized)
    fail_at = min(int(np.searchsorted(np.cumsum(sizes), query)) + 1, len(sizes))
    f = Objective(vectorized=vectorized, fail_at=fail_at)
    with pytest.raises(zoo.ObjectiveError) as info:
        zoo.minimize(f, x0, method, budget=budget, seed=0, vectorized=vectorized)
    res = zoo.minimize(f, None, info.value.optimizer, budget=budget, vectorized=vectorized)
    return f, res


def test_the_issue_case_cbo_budget_50_raise_at_40():
    """Before: 51 calls (50 answered + the one that raised) while ``nfev`` said 50."""
    f, res = _fail_and_resume("cbo", False, 50, 40)
    assert f.calls == f.given == res.nfev <= 50 and res.n_failed == 1


@pytest.mark.parametrize("vectorized", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_the_documented_resume_keeps_calls_within_the_budget(method, vectorized):
    """Issue 10's case for every method: the objective raises at query 40 of 50 (scaled up for methods whose
    batch does not fit twice), then ``minimize(f, None, err.optimizer, budget=...)``."""
    probe = zoo.make(method, x0=np.full(3, 0.2), seed=0, budget=10_000)
    batch = probe._batch_size(probe.state)
    budget = max(50, 2 * batch + batch // 2)
    f, res = _fail_and_resume(method, vectorized, budget, 4 * budget // 5)
    assert f.given == res.nfev <= budget, (f.given, res.nfev)
    assert res.n_failed == f.given - f.answered >= 1


@pytest.mark.xfail(
    strict=True, reason="nevergrad refuses lower == upper; the bridge passes it on raw: auto (#10 item 7)"
)
def test_nevergrad_bridge_with_a_fixed_coordinate():
    res = zoo.minimize(
        Objective(), np.array([0.5, 0.0]), "ng:OnePlusOne", budget=20, seed=0, bounds=([0.5, -1], [0.5, 1])
    )
    assert res.nfev == 20 and res.x[0] == 0.5


def _interrupt_case(method, tmp_path):
    x0 = np.full(3, 0.25)
    probe = zoo.make(method, x0=x0, seed=11, budget=10_000)
    batch = probe._batch_size(probe.state)
    budget = 4 * batch + 3
    fail_at = batch + batch // 2 + 1  # per-point objective: inside the second batch
    path = tmp_path / f"{method.replace(':', '_')}.npz"
    with pytest.raises(KeyboardInterrupt):
        zoo.minimize(
            Objective(fail_at=fail_at, fail_with="interrupt"),
            x0,
            method,
            budget=budget,
            seed=11,
            checkpoint=path,
        )
    ref = zoo.minimize(Objective(), x0, method, budget=budget, seed=11)
    return {"method": method, "path": str(path), "budget": budget}, ref


def test_the_checkpoint_written_on_interrupt_resumes_bit_exactly_in_a_fresh_process(tmp_path):
    cases, refs = zip(*(_interrupt_case(m, tmp_path) for m in METHODS))
    code = (
        "import json, sys, numpy as np, zoo\n"
        "from zoo.core import checkpoint\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_fuzz import Objective\n"
        "out = []\n"
        "for c in json.loads(sys.argv[1]):\n"
        "    opt = zoo.make(c['method'], x0=np.full(3, 0.25), seed=11, budget=c['budget'])\n"
        "    opt.load_state_dict(checkpoint.load(c['path']))\n"
        "    f = Objective()\n"
        "    before = opt.n_queries\n"
        "    res = zoo.minimize(f, None, opt)\n"
        "    out.append([res.fun.hex(), [v.hex() for v in res.x], res.nfev, res.nit, before + f.answered])\n"
        "print(json.dumps(out))\n"
    )
    here = str(__import__("pathlib").Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(cases), here], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for c, ref, (fun, x, nfev, nit, counted) in zip(cases, refs, json.loads(proc.stdout)):
        assert float.fromhex(fun) == ref.fun, c["method"]
        assert np.array_equal([float.fromhex(v) for v in x], ref.x), c["method"]
        assert nfev == counted == ref.nfev <= c["budget"] and nit == ref.nit, c["method"]


def test_ask_tell_counts_with_a_raising_objective():
    """The ask/tell interface itself: a tell that never comes (the user's objective raised) changes nothing."""
    for method in METHODS:
        opt = zoo.make(method, x0=np.zeros(2), seed=0, budget=50)
        X = opt.ask()
        sd = opt.state_dict()
        assert opt.ask() is X  # asking again returns the same pending batch
        again = zoo.make(method, x0=np.zeros(2), seed=0, budget=50)
        again.load_state_dict(sd)
        assert np.array_equal(again.ask(), X), method
        opt.tell(X, np.sum(X**2, axis=1))
        assert opt.nfev == len(X) and opt.pending is None, method


def test_checkpoint_load_round_trips_every_method(tmp_path):
    for method in METHODS:
        opt = zoo.make(method, x0=np.zeros(2), seed=0, budget=50)
        opt.tell(opt.ask(), np.ones(len(opt.ask())))
        path = checkpoint.save(tmp_path / "c.npz", opt.state_dict())
        fresh = zoo.make(method, x0=np.zeros(2), seed=0, budget=50)
        fresh.load_state_dict(checkpoint.load(path))
        assert np.array_equal(fresh.ask(), opt.ask()), method
