"""What FL researchers expect: availability and sampling weights, a simulated clock with stragglers, robust
aggregation against adversarial clients."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.federated import Clock, FedZO, Simulator, problems
from zoo.federated.aggregation import trimmed_mean


def _p(n=8):
    return problems.quadratic(dim=6, n_clients=n, heterogeneity=0.3, seed=2)


def test_availability_and_sampling_weights():
    avail = np.array([1, 1, 1, 1, 0, 0, 1, 1.0])
    weights = np.array([1, 1, 1, 1, 1, 1, 0, 50.0])
    h = Simulator(
        _p(), FedZO(local_steps=1, q=2), seed=0, clients_per_round=3, availability=avail, sampling=weights
    ).run(12)
    picked = np.concatenate([r["sampled"] for r in h.rounds[1:]])
    assert not np.isin(picked, [4, 5, 6]).any()  # never available, or zero weight
    assert np.mean([7 in r["sampled"] for r in h.rounds[1:]]) == 1.0  # heavy weight: always picked
    assert all(sorted(i for i, why in r["faults"] if why == "unavailable") == [4, 5] for r in h.rounds[1:])


def test_simulated_clock_and_stragglers():
    n = 4
    compute = np.array([1e-3, 1e-3, 1e-3, 0.05])  # client 3: 50x slower per query
    clock = Clock(compute=compute, bandwidth=1e4, latency=0.01)
    p = _p(n)
    h = Simulator(p, FedZO(local_steps=2, q=4), seed=0, clock=clock).run(2)
    q, b = 2 * 5, 8 * 6
    assert h.rounds[1]["clock"] == pytest.approx(0.01 + 2 * b / 1e4 + 0.05 * q)
    assert h.clock[-1] == pytest.approx(2 * h.rounds[1]["clock"])
    cut = Simulator(p, FedZO(local_steps=2, q=4), seed=0, clock=Clock(compute, 1e4, 0.01, deadline=0.1)).run(
        1
    )
    assert cut.rounds[1]["clock"] == 0.1
    assert [i for i, why in cut.faults[1]] == [3] and cut.faults[1][0][1].startswith("straggler")
    assert cut.rounds[1]["client_queries"][3] == q  # it did the work: counted
    with pytest.raises(ValueError, match="bandwidth"):
        Simulator(p, "fedzo", clock=Clock(bandwidth=[1, 1, 0, 1]))


def test_trimmed_mean_and_median_resist_adversaries():
    x = np.array([[0.0], [1.0], [2.0], [100.0], [-50.0]])
    assert trimmed_mean(x, 0.2)[0] == 1.0 and trimmed_mean(x, 0.0)[0] == x.mean()
    p = _p(10)
    F = {}
    for agg in ("mean", "median", "trimmed-mean"):
        h = Simulator(
            p, FedZO(local_steps=3), seed=0, adversaries=[0, 1], attack_scale=10.0, aggregator=agg, trim=0.2
        ).run(15)
        F[agg] = h.F[-1]
    clean = Simulator(p, FedZO(local_steps=3), seed=0).run(15).F[-1]
    assert F["median"] < F["mean"] and F["trimmed-mean"] < F["mean"]
    assert F["trimmed-mean"] < 2 * clean + 1.0


def test_per_client_local_steps():
    p = _p(4)
    h = Simulator(p, FedZO(local_steps=10, q=3), seed=0, local_steps=[1, 2, 2, 5]).run(2)
    assert h.rounds[1]["client_queries"].tolist() == [4, 8, 8, 20]
    # a client's numbers do not depend on who shares its stack: client 3 alone with 5 steps is the same client
    alone = Simulator(p, FedZO(local_steps=5, q=3), seed=0, clients_per_round=4).run(1)
    assert alone.rounds[1]["client_queries"][3] == 20
