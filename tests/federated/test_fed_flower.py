"""The Flower engine (ServerApp strategy + ClientApp in Flower's simulation runtime) gives the local numbers."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.federated import faulty
from zoo.federated import FederatedProblem, FedZO, Simulator, make_algorithm, problems

pytest.importorskip("flwr", reason="the flower engine needs the federated extra")
pytest.importorskip("ray", reason="Flower's simulation runtime runs on ray")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_flower_equals_local():
    # FZooS keeps a per-client history across rounds: in Flower it lives in each node's context.state
    p = problems.quadratic(dim=12, n_clients=4, heterogeneity=0.5, seed=0)
    local = Simulator(p, make_algorithm("fzoos", local_steps=3), seed=5).run(3)
    seen = _Records()
    logging.getLogger("flwr").addHandler(seen)
    try:
        flower = Simulator(p, make_algorithm("fzoos", local_steps=3), engine="flower", seed=5).run(3)
    finally:
        logging.getLogger("flwr").removeHandler(seen)
    # zoo calls the deprecated run_simulation for the user (no in-process alternative in flwr 1.42): its
    # deprecation notice is dropped, not shown on every run
    assert not [m for m in seen.messages if "DEPRECATED" in m and "run_simulation" in m]
    np.testing.assert_allclose(flower.F, local.F, rtol=1e-12)
    np.testing.assert_array_equal(flower.queries, local.queries)
    np.testing.assert_array_equal(flower.bytes_down, local.bytes_down)
    with pytest.raises(RuntimeError, match="inside Simulator.run"):
        Simulator(p, "fedzo", engine="flower", seed=0).step()


def test_flower_faults_are_honest():
    # each client app enforces the timeout on its own work, so late and hung clients reply with their queries
    import ray

    ray.cloudpickle.register_pickle_by_value(faulty)
    p = FederatedProblem(list(faulty.CLIENTS), dim=faulty.D)
    options = {"timeout": 1.0, "check_dimensions": False, "availability": [1, 1, 1, 1, 1, 1, 0]}
    h = Simulator(
        p,
        FedZO(local_steps=2, q=2),
        engine="flower",
        seed=0,
        evaluate=faulty.evaluator_that_raises,
        **options,
    ).run(1)
    faulty.check_fault_round(h, "flower")
    assert h.rounds[1]["F_error"] == "ZeroDivisionError: the evaluator broke"
    local = Simulator(p, FedZO(local_steps=2, q=2), seed=0, **options).run(1)
    np.testing.assert_array_equal(h.rounds[1]["client_queries"], local.rounds[1]["client_queries"])
    assert h.faults[1] == local.faults[1]


def test_only_the_run_simulation_deprecation_is_dropped():
    from flwr.supercore.logger import warn_deprecated_feature

    from zoo.federated.engines.flower_engine import _drop_run_simulation_deprecation

    logger, seen = logging.getLogger("flwr"), _Records()
    logger.addHandler(seen)
    logger.addFilter(_drop_run_simulation_deprecation)
    try:
        warn_deprecated_feature("The `run_simulation` function is deprecated and will be removed")
        warn_deprecated_feature("Another feature")
        logger.warning("a Flower warning zoo does not know")
    finally:
        logger.removeFilter(_drop_run_simulation_deprecation)
        logger.removeHandler(seen)
    assert len(seen.messages) == 2
    assert "Another feature" in seen.messages[0] and seen.messages[1] == "a Flower warning zoo does not know"
