"""The Flower engine (ServerApp strategy + ClientApp in Flower's simulation runtime) gives the local numbers."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.federated import Simulator, make_algorithm, problems

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
