"""The simulator: honest accounting, faults recorded and excluded, sampling, determinism."""

from __future__ import annotations

import time

import numpy as np
import pytest

import zoo
from zoo.federated import FederatedProblem, FedZO, FZooS, Simulator, make_algorithm, problems
from zoo.federated.algorithms.base import client_estimates
from zoo.federated.clients import ClientBatch, client_rngs

D = 8


def _quadratic(n=3, seed=0):
    return problems.quadratic(dim=D, n_clients=n, heterogeneity=0.5, seed=seed)


class Counting:
    """A client objective that counts every point it is asked about."""

    def __init__(self, center):
        self.center = center
        self.points = 0

    def __call__(self, X):
        X = np.atleast_2d(X)
        self.points += len(X)
        return np.sum((X - self.center) ** 2, axis=1)


def test_stacked_rge_is_zoo_rge():
    """The clients' local estimate is zoo.RGE's (same table directions, same forward differences); the sums agree
    to the last bit or so (the Numba kernel may fuse multiply-adds)."""
    f = zoo.functions.rosenbrock
    x0 = np.linspace(-1, 1, D)
    opt = zoo.RGE(x0, q=5, mu=0.01, seed=11)
    X = opt.ask()
    opt.tell(X, f(X))
    p = FederatedProblem([f], dim=D, x0=x0)
    batch = ClientBatch(p, np.array([0]))
    rng = np.random.Generator(np.random.PCG64(11))
    g, ok = client_estimates(batch, x0[None, :], [rng], 5, 0.01)
    assert ok[0]
    np.testing.assert_allclose(g[0], opt.gradient, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["fedzo", "fedprox", "scaffold", "scaffold1", "fzoos"])
def test_every_query_is_counted_and_F_is_not(name):
    rng = np.random.default_rng(0)
    clients = [Counting(rng.standard_normal(D)) for _ in range(3)]
    p = FederatedProblem(clients, [1, 2, 3], dim=D)
    rounds = 3
    hist = Simulator(p, make_algorithm(name, local_steps=2, q=3), seed=0).run(rounds)
    report_points = rounds + 1  # F(x) once per round (and at the start) for the report, never counted
    for i, c in enumerate(clients):
        counted = sum(int(r["client_queries"][i]) for r in hist.rounds)
        assert c.points == counted + report_points
    assert hist.queries[-1] == sum(c.points for c in clients) - 3 * report_points


def test_bytes_each_way():
    p = _quadratic()
    h = Simulator(p, FedZO(local_steps=2), seed=0).run(2)
    assert h.bytes_down[1] == 3 * 8 * D and h.bytes_up[1] == 3 * 8 * D
    assert h.rounds[1]["queries"] == 3 * 2 * (20 + 1)  # local steps * (q + 1) per client
    h = Simulator(p, "scaffold", seed=0).run(1)
    assert h.bytes_up[1] == 3 * 2 * 8 * D and h.bytes_down[1] == 3 * 2 * 8 * D
    m = 64
    h = Simulator(p, FZooS(local_steps=2, n_features=m), seed=0).run(3)
    assert h.bytes_up[2] == 3 * 8 * (D + m + 1)  # x_i, nu_i and f_i(x) (the server's measure of F)
    # x, the server's step factor, the averaged nu, the RFF lengthscale and seed
    assert h.bytes_down[3] == 3 * 8 * (D + 1 + m + 2)


def test_client_that_raises_is_a_recorded_fault_and_left_out():
    good = Counting(np.ones(D))

    def broken(X):
        raise RuntimeError("sensor offline")

    p = FederatedProblem([good, broken], dim=D)
    h = Simulator(p, FedZO(local_steps=2, q=2), seed=0, check_dimensions=False).run(2)
    assert h.faults[1] == [(1, "raised RuntimeError: sensor offline")]
    # the report leaves the broken client out (recorded) instead of turning F into NaN
    assert np.isfinite(h.F[1]) and h.rounds[1]["F_missing"] == [1]
    # the aggregate is the good client's iterate alone, not diluted by the broken one
    alone = Simulator(FederatedProblem([Counting(np.ones(D))], dim=D), FedZO(local_steps=2, q=2), seed=0).run(
        2
    )
    assert np.array_equal(alone.x, h.x)


def test_nan_client_is_recorded_never_averaged_in():
    def nan_client(X):
        return np.full(len(np.atleast_2d(X)), np.nan)

    p = FederatedProblem([Counting(np.ones(D)), nan_client], dim=D)
    h = Simulator(p, FedZO(local_steps=2, q=2), seed=0).run(2)
    assert h.faults[1] == [(1, "every value non-finite")]
    assert h.rounds[1]["nonfinite"] == 2 * 3
    # the same run without the NaN client gives the same x: the NaN client did not move the aggregate
    solo = Simulator(FederatedProblem([Counting(np.ones(D))], dim=D), FedZO(local_steps=2, q=2), seed=0)
    assert np.array_equal(solo.run(2).x, h.x)


def test_partial_nan_values_are_dropped_and_counted():
    def flaky(X):
        v = np.sum(np.atleast_2d(X) ** 2, axis=1)
        v[::2] = np.nan
        return v

    p = FederatedProblem([flaky], dim=D)
    h = Simulator(p, FedZO(local_steps=3, q=4), seed=0).run(1)
    assert h.rounds[1]["nonfinite"] > 0 and not h.faults[1]
    assert np.all(np.isfinite(h.x))


def test_dropout_and_sampling():
    p = _quadratic(n=6)
    h = Simulator(p, FedZO(local_steps=1, q=2), seed=0, clients_per_round=3, dropout=0.3).run(8)
    for r in h.rounds[1:]:
        assert len(r["sampled"]) == 3
        dropped = {i for i, why in r["faults"] if why == "dropped out"}
        assert all(r["client_queries"][i] == 0 for i in dropped)
        assert sum(q > 0 for q in r["client_queries"]) == 3 - len(dropped)
    assert any(r["faults"] for r in h.rounds[1:])


def test_late_client_is_recorded():
    def slow(X):
        time.sleep(1.5)
        return np.sum(np.atleast_2d(X) ** 2, axis=1)

    # margins wide enough for a busy machine: the fast client's calls take microseconds, the slow one 1.5 s
    p = FederatedProblem([Counting(np.zeros(D)), slow], dim=D)
    h = Simulator(p, FedZO(local_steps=1, q=2), seed=0, timeout=1.0, check_dimensions=False).run(1)
    assert len(h.faults[1]) == 1 and h.faults[1][0][0] == 1 and h.faults[1][0][1].startswith("late")


def test_no_client_answers_keeps_the_server_point():
    def broken(X):
        raise ValueError("nope")

    p = FederatedProblem([broken, broken], dim=D)
    h = Simulator(p, "fzoos", seed=0, check_dimensions=False).run(2)
    assert np.array_equal(h.x, p.x0) and len(h.faults[2]) == 2


@pytest.mark.parametrize("name", ["fedzo", "scaffold", "fzoos"])
def test_same_seed_same_history_and_vectorized_equals_per_client(name):
    p = _quadratic()
    a = Simulator(p, make_algorithm(name, local_steps=2), seed=4).run(3)
    b = Simulator(p, make_algorithm(name, local_steps=2), seed=4).run(3)
    np.testing.assert_array_equal(a.F, b.F)
    unbatched = FederatedProblem(p.objectives, p.weights, x0=p.x0)  # one objective call per client
    c = Simulator(unbatched, make_algorithm(name, local_steps=2), seed=4).run(3)
    np.testing.assert_allclose(c.F, a.F, rtol=1e-12)


def test_client_rngs_depend_only_on_seed_round_client():
    a = client_rngs(3, 5, np.array([0, 7]))[1].standard_normal(3)
    b = client_rngs(3, 5, np.array([7]))[0].standard_normal(3)
    np.testing.assert_array_equal(a, b)


def test_bad_simulator_arguments():
    p = _quadratic()
    with pytest.raises(ValueError, match="clients_per_round"):
        Simulator(p, "fedzo", clients_per_round=0)
    with pytest.raises(ValueError, match="dropout"):
        Simulator(p, "fedzo", dropout=1.0)
    with pytest.raises(ValueError, match="unknown engine"):
        Simulator(p, "fedzo", engine="spark")
    with pytest.raises(ValueError, match="unknown federated algorithm"):
        Simulator(p, "fedsgd")
    with pytest.raises(ValueError, match="rounds"):
        Simulator(p, "fedzo").run(0)
