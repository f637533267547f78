"""Parallel evaluation: workers, executors (thread pool, Dask, a local Ray cluster), faults, asynchronous."""

import concurrent.futures as cf

import numpy as np
import pytest

import zoo
from zoo.core import runlog

from .objectives import dies, faulty, slow, sphere

X_FAULTY = np.array([[0.9, 0.0], [-0.9, 0.0], [0.1, 0.1], [0.2, 0.0]])


def _fixed(points):
    """A method-free check: a ga whose first batch we override is overkill; evaluate through the Evaluator."""
    from zoo.core.problem import Problem

    p = Problem(faulty, workers=2, timeout=1.0)
    p.start(2, None, 0)
    try:
        return p, p(points)
    finally:
        p.close()


def test_workers_give_the_same_numbers_as_serial():
    a = zoo.minimize(sphere, np.ones(3), "ga", budget=60, seed=3, options={"popsize": 10})
    b = zoo.minimize(sphere, np.ones(3), "ga", budget=60, seed=3, options={"popsize": 10}, workers=2)
    assert a.fun == b.fun and np.array_equal(a.x, b.x) and a.nfev == b.nfev


def test_raise_and_timeout_are_recorded_faults_and_the_batch_goes_on(tmp_path):
    p, values = _fixed(X_FAULTY)
    kinds = {f["kind"] for f in p.faults}
    assert kinds == {"raise", "timeout"} and p.nfev == 4
    assert np.isinf(values[:2]).all() and values[2:] == pytest.approx([0.02, 0.04])
    assert "simulator crashed" in next(f["message"] for f in p.faults if f["kind"] == "raise")


def test_a_worker_that_dies_mid_batch_is_a_fault_and_nothing_is_lost(tmp_path):
    log = tmp_path / "run.jsonl"
    res = zoo.minimize(dies, np.zeros(2), "random-search", budget=16, seed=0, workers=2, log=log,
                       options={"popsize": 8, "sampling": "gaussian", "sigma": 0.7})  # fmt: skip
    died = [f for f in res.faults if f["kind"] == "died"]
    assert died and all(f["x"][0] > 0.5 for f in died) and res.nfev == 16
    rows = runlog.read(log)
    assert len(rows) == 16 and sum(r["fault"] == "died" for r in rows) == len(died)
    assert np.isfinite(res.fun) and res.x[0] <= 0.5


def test_any_executor_thread_pool_and_dask():
    with cf.ThreadPoolExecutor(2) as ex:
        res = zoo.minimize(sphere, np.ones(2), "cma", budget=60, seed=0, executor=ex)
    assert res.nfev <= 60 and res.fun < 1.0
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        res2 = zoo.minimize(
            sphere, np.ones(2), "cma", budget=60, seed=0, executor=client.get_executor(), workers=2
        )
    assert res2.fun == res.fun  # same seed, same numbers, whichever engine evaluates


def test_minimize_on_a_local_ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = zoo.minimize(sphere, np.ones(3), "ga", budget=40, seed=0, executor=zoo.RayExecutor(), workers=2,
                           options={"popsize": 10})  # fmt: skip
        serial = zoo.minimize(sphere, np.ones(3), "ga", budget=40, seed=0, options={"popsize": 10})
        assert res.fun == serial.fun and res.nfev == serial.nfev
    finally:
        ray.shutdown()


@pytest.mark.parametrize("method", ["ga", "random-search"])
def test_asynchronous_spends_the_budget_and_improves(method, tmp_path, capfd):
    ck = tmp_path / "ck.npz"
    res = zoo.minimize(slow, np.ones(3), method, budget=30, seed=0, workers=2, asynchronous=True,
                       bounds=(-2, 2), options={"popsize": 8}, checkpoint=ck, progress=True)  # fmt: skip
    assert res.nfev == 30 and res.fun < slow(np.ones(3)) and res.optimizer.nfev == 30
    err = capfd.readouterr().err
    assert "busy=" in err  # the progress bar shows the workers in use
    assert "\r" not in err and "30/30 eval" in err  # in a log: whole lines (zoo.progress), not tqdm redraws
    again = zoo.make(method, x0=np.ones(3), bounds=(-2, 2), seed=0, popsize=8)
    again.load_state_dict(zoo.core.checkpoint.load(ck))
    more = zoo.minimize(slow, method=again, budget=40, workers=2, asynchronous=True)
    assert more.nfev == 40 and more.fun <= res.fun


def test_bad_parallel_settings_are_clear_errors():
    with pytest.raises(ValueError, match="no asynchronous mode"):
        zoo.minimize(sphere, np.ones(2), "cbo", budget=20, workers=2, asynchronous=True)
    with pytest.raises(ValueError, match="needs parallel evaluation"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, asynchronous=True)
    with pytest.raises(ValueError, match="workers must be an int"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, workers=0)
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, executor="threads")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, workers=2, timeout=-1)
    with pytest.raises(ValueError, match="on_error"):
        zoo.minimize(sphere, np.ones(2), "ga", budget=20, on_error="ignore")
