"""The Flower engine (ServerApp strategy + ClientApp in Flower's simulation runtime) gives the local numbers."""

from __future__ import annotations

import numpy as np
import pytest

from tests.federated import faulty
from zoo.federated import FederatedProblem, FedZO, Simulator, make_algorithm, problems

pytest.importorskip("flwr", reason="the flower engine needs the federated extra")
pytest.importorskip("ray", reason="Flower's simulation runtime runs on ray")


def test_flower_equals_local():
    # FZooS keeps a per-client history across rounds: in Flower it lives in each node's context.state
    p = problems.quadratic(dim=12, n_clients=4, heterogeneity=0.5, seed=0)
    local = Simulator(p, make_algorithm("fzoos", local_steps=3), seed=5).run(3)
    flower = Simulator(p, make_algorithm("fzoos", local_steps=3), engine="flower", seed=5).run(3)
    np.testing.assert_allclose(flower.F, local.F, rtol=1e-12)
    np.testing.assert_array_equal(flower.queries, local.queries)
    np.testing.assert_array_equal(flower.bytes_down, local.bytes_down)
    with pytest.raises(RuntimeError, match="inside Simulator.run"):
        Simulator(p, "fedzo", engine="flower", seed=0).step()


def test_flower_faults_are_honest():
    # each client app enforces the timeout on its own work, so late and hung clients reply with their queries
    import ray

    ray.cloudpickle.register_pickle_by_value(faulty)
    clients = [faulty.good, faulty.good, faulty.raises, faulty.nan, faulty.hangs, faulty.wrong_shape, faulty.good]
    p = FederatedProblem(clients, dim=faulty.D)
    options = {"timeout": 1.0, "check_dimensions": False, "availability": [1, 1, 1, 1, 1, 1, 0]}
    h = Simulator(p, FedZO(local_steps=2, q=2), engine="flower", seed=0, evaluate=faulty.evaluator_that_raises,
                  **options).run(1)
    faulty.check_fault_round(h, "flower")
    assert h.rounds[1]["F_error"] == "ZeroDivisionError: the evaluator broke"
    local = Simulator(p, FedZO(local_steps=2, q=2), seed=0, **options).run(1)
    np.testing.assert_array_equal(h.rounds[1]["client_queries"], local.rounds[1]["client_queries"])
    assert h.faults[1] == local.faults[1]
