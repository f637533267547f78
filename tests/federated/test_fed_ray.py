"""The Ray engine gives the local engine's numbers (4 clients on a local Ray; one Ray start per module)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.federated import faulty
from zoo.federated import FederatedProblem, FedZO, Simulator, make_algorithm, problems

ray = pytest.importorskip("ray", reason="the ray engine needs the federated extra")


def test_ray_faults_are_honest_and_the_engine_shuts_down_the_ray_it_started():
    # first in the module: no Ray is running yet, so the engine starts (and must stop) its own
    ray.cloudpickle.register_pickle_by_value(faulty)
    assert not ray.is_initialized()
    p = FederatedProblem(list(faulty.CLIENTS), dim=faulty.D)
    with Simulator(
        p,
        FedZO(local_steps=2, q=2),
        engine="ray",
        seed=0,
        timeout=1.0,
        check_dimensions=False,
        availability=[1, 1, 1, 1, 1, 1, 0],
        evaluate=faulty.evaluator_that_raises,
        engine_options={"actors": 2, "num_cpus": 1},
    ) as sim:
        h = sim.run(1)  # the timeout is the clients' work: actor start-up (seconds here) does not count
        assert ray.is_initialized()
    assert not ray.is_initialized()
    faulty.check_fault_round(h, "ray")
    assert h.rounds[1]["F_error"] == "ZeroDivisionError: the evaluator broke"
    local = Simulator(
        p,
        FedZO(local_steps=2, q=2),
        seed=0,
        timeout=1.0,
        check_dimensions=False,
        availability=[1, 1, 1, 1, 1, 1, 0],
    ).run(1)
    np.testing.assert_array_equal(h.rounds[1]["client_queries"], local.rounds[1]["client_queries"])
    assert h.faults[1] == local.faults[1]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    yield
    ray.shutdown()


def _boom(X):
    raise RuntimeError("client crashed")


def test_ray_equals_local_and_records_faults(local_ray):
    # the same clients, bit for bit: each draws from its own (seed, round, client) generator whichever
    # process runs it, and shards stack clients the way the local engine does
    p = problems.quadratic(dim=12, n_clients=4, heterogeneity=0.5, seed=0)
    for name in ("fzoos", "scaffold"):
        local = Simulator(p, make_algorithm(name, local_steps=3), seed=2).run(3)
        with Simulator(
            p, make_algorithm(name, local_steps=3), engine="ray", seed=2, engine_options={"actors": 2}
        ) as sim:
            remote = sim.run(3)
        np.testing.assert_allclose(remote.F, local.F, rtol=1e-12)
        np.testing.assert_array_equal(remote.queries, local.queries)
        np.testing.assert_array_equal(remote.bytes_up, local.bytes_up)
    faulty = FederatedProblem([*p.objectives[:3], _boom], dim=12)
    with Simulator(
        faulty, make_algorithm("fedzo", local_steps=2), engine="ray", seed=0, check_dimensions=False
    ) as sim:
        h = sim.run(1)
    assert h.faults[1] == [(3, "raised RuntimeError: client crashed")]
    assert np.all(np.isfinite(h.x))
