"""constraints= through the augmented Lagrangian; run logs; the serial error path keeps the log complete."""

import numpy as np
import pytest

import zoo
from zoo.core import runlog


def sphere(x):
    return float(np.sum(np.asarray(x) ** 2))


@pytest.mark.parametrize("method", ["cma", "ga"])
def test_linear_constraint_on_a_sphere(method, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # min ||x||^2 s.t. 1 - sum(x) <= 0: optimum x = 1/d, f = 1/d
    res = zoo.minimize(
        sphere, np.full(4, 1.0), method, budget=3000, seed=0, constraints=lambda x: 1 - np.sum(x)
    )
    assert not list(tmp_path.iterdir())  # pycma's AL writes no log files into the working directory
    assert res.feasible and res.maxcv == 0 and res.constr.shape == (1,) and res.constr[0] <= 0
    assert res.fun == pytest.approx(0.25, rel=0.05 if method == "cma" else 0.3)


def test_vectorized_constraints_and_several_of_them():
    cons = [lambda X: 1 - X.sum(axis=1), lambda X: np.stack([X[:, 0] - 0.1, -X[:, 1]], axis=1)]
    res = zoo.minimize(lambda X: np.sum(X**2, axis=1), np.full(3, 0.5), "cma", budget=3000, seed=0,
                       constraints=cons, vectorized=True)  # fmt: skip
    assert res.feasible and res.constr.shape == (3,) and res.x[0] <= 0.1 + 1e-9


def test_nan_constraint_is_infeasible_and_wrong_shape_is_an_error():
    res = zoo.minimize(sphere, np.ones(2), "cma", budget=200, seed=0, constraints=lambda x: np.nan)
    assert not res.feasible and not res.success and res.status == 5
    with pytest.raises(ValueError, match="1-D array for one point"):
        zoo.minimize(sphere, np.ones(2), "cma", budget=50, seed=0, constraints=lambda x: np.zeros((2, 2)))
    with pytest.raises(TypeError, match="callables"):
        zoo.minimize(sphere, np.ones(2), "cma", budget=50, seed=0, constraints=[3.0])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_run_log_has_every_evaluation(tmp_path, suffix):
    path = tmp_path / f"run{suffix}"
    sp = {"a": zoo.space.Real(0, 1), "c": zoo.space.Categorical(["x", "y"])}
    res = zoo.minimize(lambda p: p["a"] + (p["c"] == "x"), method="ga", space=sp, budget=30, seed=0, log=path,
                       options={"popsize": 10})  # fmt: skip
    rows = runlog.read(path)
    assert len(rows) == res.nfev and [r["i"] for r in rows] == list(range(res.nfev))
    best = min(rows, key=lambda r: r["f"])
    assert best["f"] == pytest.approx(res.fun) and best["x"] == res.x and rows[0]["worker"]


def test_serial_error_keeps_the_failing_point_in_the_log(tmp_path):
    path = tmp_path / "run.jsonl"

    def f(x):
        if x[0] > 1.2:
            raise RuntimeError("boom")
        return sphere(x)

    with pytest.raises(zoo.ObjectiveError) as info:
        zoo.minimize(f, np.ones(2), "ga", budget=500, seed=0, log=path, options={"sigma": 0.5})
    rows = runlog.read(path)
    assert rows[-1]["fault"] == "raise" and rows[-1]["x"][0] > 1.2 and info.value.optimizer is not None


def test_bad_log_path():
    with pytest.raises(ValueError, match=".jsonl or .csv"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, log="run.txt")
