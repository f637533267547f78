"""What happens after something goes wrong: an objective that raises, an interrupt, a damaged checkpoint,
values that are not real numbers. Each test names the fault of issue #10 it holds fixed."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

import zoo
from zoo.core import checkpoint
from zoo.core.checkpoint import CheckpointError


class Flaky:
    """A per-point sphere that raises once, at its ``fail_at``-th call; counts the values it returned."""

    def __init__(
        self, fail_at: int | None = None, exc: type[BaseException] = ArithmeticError, nan_every: int = 0
    ):
        self.fail_at, self.exc, self.nan_every = fail_at, exc, nan_every
        self.calls = 0
        self.answered = 0

    def __call__(self, x):
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.exc("boom")
        self.answered += 1
        if self.nan_every and self.answered % self.nan_every == 0:
            return float("nan")
        return float(np.sum(np.asarray(x) ** 2))


def _run_with_one_error(method, budget, fail_at, **kw):
    f = Flaky(fail_at, **kw.pop("flaky", {}))
    with pytest.raises(zoo.ObjectiveError) as info:
        zoo.minimize(f, np.ones(3), method, budget=budget, seed=0, **kw)
    res = zoo.minimize(f, None, info.value.optimizer, budget=budget)
    return f, res


@pytest.mark.parametrize(
    ("method", "budget", "fail_at"),
    [
        ("cbo", 50, 40),
        ("ga", 300, 140),
        ("rge", 50, 40),
        ("cma", 300, 140),
        ("rank-sgd", 50, 40),
        ("auto", 300, 140),
    ],
)
def test_budget_holds_across_a_resume(method, budget, fail_at):
    # before (#10.1): cbo raising at call 40 of 50, resumed with budget=50, called the objective 90 times
    # while res.nfev said 50; then 51 (the raising call was not counted). Now the answers before the error
    # are kept (nothing is asked twice) and the call that raised counts as a spent query.
    f, res = _run_with_one_error(method, budget, fail_at)
    assert f.calls == res.nfev <= budget and res.n_failed == 1 and f.answered == res.nfev - 1


def test_resume_after_an_error_equals_an_uninterrupted_run():
    ref = zoo.minimize(Flaky(), np.ones(3), "cbo", budget=120, seed=0)
    f, res = _run_with_one_error("cbo", 120, 40)
    assert np.array_equal(res.x, ref.x) and res.fun == ref.fun and res.nit == ref.nit
    assert res.nfev == ref.nfev + 1 == f.calls  # the same run, plus the query of the call that raised


def test_a_vectorized_batch_that_raises_is_asked_again_whole():
    calls = []

    def fun(X):
        calls.append(len(X))
        if len(calls) == 3:
            raise RuntimeError("flaky")
        return np.sum(X**2, axis=1)

    with pytest.raises(zoo.ObjectiveError) as info:
        zoo.minimize(fun, np.ones(2), "rge", budget=40, seed=0, vectorized=True)
    res = zoo.minimize(fun, None, info.value.optimizer, budget=40, vectorized=True)
    # the raising call returned nothing, but its batch was given to the objective: those queries are spent
    assert res.nfev == sum(calls) <= 40 and res.n_failed == calls[2]


def test_n_nonfinite_survives_a_resume():
    # before (#10.2): res.n_nonfinite counted only the values seen after the resume
    ref = zoo.minimize(Flaky(nan_every=7), np.ones(3), "ga", budget=250, seed=0)  # 2 generations of 100
    f, res = _run_with_one_error("ga", 250, 60, flaky={"nan_every": 7})
    assert res.n_nonfinite == ref.n_nonfinite == 200 // 7 and res.nit == ref.nit == 2


@pytest.mark.parametrize("exc", [KeyboardInterrupt, ArithmeticError])
def test_interrupt_or_error_writes_a_checkpoint_that_resumes(tmp_path, exc):
    # before (#10.3): with checkpoint_every=100, an interrupt before round 100 left no file at all
    path = tmp_path / "run.npz"
    ref = zoo.minimize(Flaky(), np.ones(3), "cbo", budget=200, seed=0)
    f = Flaky(fail_at=130, exc=exc)
    with pytest.raises(BaseException) as info:  # noqa: PT011 - either kind, checked below
        zoo.minimize(f, np.ones(3), "cbo", budget=200, seed=0, checkpoint=path, checkpoint_every=100)
    assert isinstance(info.value, (exc, zoo.ObjectiveError))
    assert path.exists()
    opt = zoo.make("cbo", x0=np.ones(3), seed=0, budget=200)
    opt.load_state_dict(checkpoint.load(path))
    # the answers before the interrupt are in the file; a call that raised is a spent query, an interrupt not
    failed = 0 if exc is KeyboardInterrupt else 1
    assert opt.n_queries == 129 + failed and opt.n_failed == failed
    g = Flaky()
    res = zoo.minimize(g, None, opt)
    if exc is KeyboardInterrupt:
        assert g.answered == 200 - 129 and res.nfev == 200
    else:  # the same run, one query short: the last batch of 50 no longer fits
        ref = zoo.minimize(Flaky(), np.ones(3), "cbo", budget=200, seed=0, max_iter=3)
        assert g.answered == 150 - 129 and res.nfev == 151 and res.nit == 3
    assert np.array_equal(res.x, ref.x) and res.fun == ref.fun


def test_checkpoint_written_on_interrupt_resumes_in_a_fresh_process(tmp_path):
    path = tmp_path / "run.npz"
    ref = zoo.minimize(Flaky(), np.ones(4), "ga", budget=150, seed=3)
    with pytest.raises(KeyboardInterrupt):
        zoo.minimize(Flaky(77, KeyboardInterrupt), np.ones(4), "ga", budget=150, seed=3, checkpoint=path)
    code = (
        "import sys, numpy as np, zoo\n"
        "from zoo.core import checkpoint\n"
        "opt = zoo.make('ga', x0=np.ones(4), seed=3, budget=150)\n"
        "opt.load_state_dict(checkpoint.load(sys.argv[1]))\n"
        "res = zoo.minimize(lambda x: float(np.sum(x**2)), None, opt)\n"
        "print(res.fun.hex(), res.nfev, *[v.hex() for v in res.x])\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    fun, nfev, *x = out.stdout.split()
    assert float.fromhex(fun) == ref.fun and int(nfev) == ref.nfev
    assert np.array_equal([float.fromhex(v) for v in x], ref.x)


# ---------------------------------------------------------------------------------------------- #10.4 files
def _good(tmp_path):
    return checkpoint.save(tmp_path / "good.npz", zoo.make("rge", x0=np.ones(3), seed=0).state_dict())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p, good: p.write_bytes(b""), "empty"),
        (lambda p, good: p.write_bytes(b"\x80\x04K\x01."), r"not a \.npz"),  # a pickle
        (lambda p, good: p.write_text("x,y\n1,2\n"), r"not a \.npz"),
        (
            lambda p, good: p.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2]),
            "truncated or damaged",
        ),
        (lambda p, good: np.savez(p, a=np.ones(2)), "not a zoo checkpoint"),
    ],
    ids=["empty", "pickle", "csv", "truncated", "other-npz"],
)
def test_a_file_that_is_not_a_checkpoint_gives_one_clear_error(tmp_path, make, match):
    # before (#10.4): raw BadZipFile / EOFError / "pickled data" errors
    good = _good(tmp_path)
    bad = tmp_path / "bad.npz"
    make(bad, good)
    with pytest.raises(CheckpointError, match=match):
        checkpoint.load(bad)


def test_a_damaged_byte_in_a_checkpoint_is_caught(tmp_path):
    good = _good(tmp_path)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    h = info.header_offset  # local header: 30 bytes, then the name and the extra field, then the data
    name_len, extra_len = (
        int.from_bytes(data[h + 26 : h + 28], "little"),
        int.from_bytes(data[h + 28 : h + 30], "little"),
    )
    offset = h + 30 + name_len + extra_len + info.file_size - 1  # the last data byte
    data[offset] ^= 0xFF
    bad = tmp_path / "crc.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged .CRC error"):
        checkpoint.load(bad)


def test_a_folder_or_a_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="folder"):
        checkpoint.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        checkpoint.load(tmp_path / "nope.npz")


# ---------------------------------------------------------------------------------------------- #10.6 values
@pytest.mark.parametrize(
    ("value", "match"),
    [
        (1 + 2j, "complex"),
        (np.complex128(1.0), "complex"),
        (None, "None .a missing return"),
        ({"loss": 1.0}, "dict"),
        ("1.0", "str"),
    ],
    ids=["complex", "np-complex", "none", "dict", "str"],
)
def test_a_per_point_objective_returning_a_non_number_stops_with_the_point(value, match):
    # before: complex silently lost its imaginary part, None became NaN and burned the budget, a dict raised a raw
    # TypeError outside ObjectiveError
    calls = []

    def fun(x):
        calls.append(1)
        return 1.0 if len(calls) < 3 else value

    with pytest.raises(zoo.ObjectiveError, match=match) as info:
        zoo.minimize(fun, np.ones(2), "rge", budget=50, seed=0)
    assert isinstance(info.value, TypeError) and info.value.optimizer is not None
    opt = info.value.optimizer
    assert opt.n_queries == 3 and opt.n_failed == 1  # the two answers are kept, the bad one's call is spent


@pytest.mark.parametrize("values", [np.array([1 + 0j, 2, 3, 4, 5]), [None] * 5, [{}] * 5])
def test_a_vectorized_objective_returning_non_numbers(values):
    with pytest.raises(zoo.ObjectiveError, match="real numbers"):
        zoo.minimize(
            lambda X: values, np.ones(2), "rge", budget=50, seed=0, vectorized=True, options={"q": 2}
        )


def test_tell_refuses_complex_and_none_values():
    opt = zoo.make("ga", x0=np.zeros(2), seed=0, popsize=3)
    X = opt.ask()
    with pytest.raises(TypeError, match="complex"):
        opt.tell(X, np.array([1, 2, 3j]))
    with pytest.raises(TypeError, match="None"):
        opt.tell(X, [1.0, None, 2.0])
    assert opt.pending is X and opt.nfev == 0


def test_an_int_too_large_for_a_float_counts_as_non_finite():
    # before: 10**400 raised a raw OverflowError; now it is +inf (counted, ranks worst)
    res = zoo.minimize(lambda x: 10**400 if x[0] > 1 else float(x @ x), np.ones(2), "ga", budget=300, seed=0)
    assert res.n_nonfinite > 0 and np.isfinite(res.fun)


@pytest.mark.parametrize("budget", [float("inf"), float("nan"), 2.5, "100"])
def test_a_budget_that_is_not_a_count(budget):
    # before: budget=float('inf') raised OverflowError
    with pytest.raises((TypeError, ValueError), match="budget"):
        zoo.minimize(lambda x: 0.0, np.ones(2), "rge", budget=budget)


def test_an_integral_float_budget_is_a_count():
    assert zoo.minimize(lambda x: 0.0, np.ones(2), "rge", budget=1e2, seed=0).nfev <= 100


@pytest.mark.parametrize("bounds", [(np.zeros(2), np.ones(3)), ([0, 0, 0, 0], 1), (np.zeros((3, 2)), 1)])
def test_bounds_of_the_wrong_length_say_bounds(bounds):
    # before: a numpy broadcast message that never said "bounds"
    with pytest.raises(ValueError, match=r"bounds \((lower|upper)\) must be a scalar or have shape \(3,\)"):
        zoo.make("rge", x0=np.zeros(3), bounds=bounds)


def test_bounds_as_pairs_and_as_scipy_bounds():
    from scipy.optimize import Bounds

    a = zoo.make("rge", x0=np.zeros(3), bounds=[(-1, 1), (-2, 2), (-3, 3)])
    b = zoo.make("rge", x0=np.zeros(3), bounds=Bounds([-1, -2, -3], [1, 2, 3]))
    assert np.array_equal(a.bounds[1], [1, 2, 3]) and np.array_equal(b.bounds[0], [-1, -2, -3])


def test_the_issue_case_says_why_the_resumed_batch_is_not_run():
    # cbo's batch is 50 at d=3: after 39 answers and 1 failed call, the batch no longer fits a budget of 50
    f, res = _run_with_one_error("cbo", 50, 40)
    assert f.calls == res.nfev == 40 and res.n_failed == 1 and not res.success
    assert "no longer fits the budget: 1 queries went to calls that failed, 39 answers" in res.message


@pytest.mark.parametrize("n", [-1, 1.5, "2", None])
def test_count_failed_takes_a_count(n):
    opt = zoo.make("rge", x0=np.ones(2), seed=0, budget=10)
    with pytest.raises((TypeError, ValueError), match="failed queries"):
        opt.count_failed(n)
    assert opt.n_failed == 0 and opt.n_queries == 0


def test_failed_queries_survive_state_dict_and_stop_the_budget():
    opt = zoo.make("rge", x0=np.ones(2), seed=0, budget=4)  # a batch of 2 (q=1, forward)
    opt.count_failed(3)
    assert opt.stop() == {"budget": 4}  # 3 spent + a batch of 2 > 4
    again = zoo.make("rge", x0=np.ones(2), seed=0, budget=4)
    again.load_state_dict(opt.state_dict())
    assert again.n_failed == 3 and again.n_queries == 3
