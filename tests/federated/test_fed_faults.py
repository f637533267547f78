"""Faults on the local engine, and bad input: clear errors or recorded faults, never a hang or a silent NaN."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.federated import faulty
from zoo.federated import AlgorithmDiverged, FederatedProblem, FedZO, Simulator

D = faulty.D
CLIENTS = list(faulty.CLIENTS)
AVAILABLE = [1, 1, 1, 1, 1, 1, 0]


def test_every_fault_is_recorded_with_its_queries_and_a_hung_client_cannot_hang_the_run():
    p = FederatedProblem(CLIENTS, dim=D)
    t0 = time.perf_counter()
    sim = Simulator(
        p,
        FedZO(local_steps=2, q=2),
        seed=0,
        timeout=0.3,
        availability=AVAILABLE,
        evaluate=faulty.evaluator_that_raises,
        check_dimensions=False,
    )
    h = sim.run(1)
    assert time.perf_counter() - t0 < faulty.HANG / 3  # the hung client was abandoned at its timeout
    faulty.check_fault_round(h, "local")
    assert np.isnan(h.F[1]) and h.rounds[1]["F_error"] == "ZeroDivisionError: the evaluator broke"


def test_a_client_hung_at_the_dimension_check_is_recorded_not_waited_for():
    p = FederatedProblem([faulty.good, faulty.hangs], dim=D)
    h = Simulator(p, FedZO(local_steps=1, q=2), seed=0, timeout=0.2).run(1)
    assert h.faults[0] == [(1, "late: still running at the timeout 0.2 s")]
    assert h.rounds[0]["client_queries"].tolist() == [1, 1]
    assert h.faults[1][0][0] == 1 and h.faults[1][0][1].startswith("late")


def test_a_timeout_measures_the_clients_own_work():
    slow = lambda X: (time.sleep(0.05), faulty.good(X))[1]  # noqa: E731 - 0.05 s a call, 2 calls a round
    p = FederatedProblem([faulty.good, slow], dim=D)
    h = Simulator(p, FedZO(local_steps=2, q=2), seed=0, timeout=2.0).run(1)
    assert not h.faults[1]  # 0.1 s of work < 2 s, however long the engine took
    h = Simulator(p, FedZO(local_steps=2, q=2), seed=0, timeout=0.08, check_dimensions=False).run(1)
    assert h.faults[1][0][0] == 1 and h.faults[1][0][1].startswith("late")
    assert h.rounds[1]["client_queries"][1] == 2 * 3  # its late queries are counted


def test_the_report_is_not_poisoned_by_one_client():
    p = FederatedProblem([faulty.good, faulty.nan], [1, 1], dim=D)
    h = Simulator(p, FedZO(local_steps=1, q=2), seed=0).run(2)
    assert np.all(np.isfinite(h.F)) and h.rounds[2]["F_missing"] == [1]
    off = Simulator(p, FedZO(local_steps=1, q=2), seed=0, evaluate=None).run(2)
    assert np.all(np.isnan(off.F)) and off.rounds[2]["F"] is None
    np.testing.assert_array_equal(off.x, h.x)  # the report never changes the run


class Exploding(FedZO):
    """An algorithm whose own local step becomes non-finite (the clients are fine)."""

    name = "exploding"

    def local_update(self, message, states, batch, rngs, rnd, bounds=None):
        uploads, states = super().local_update(message, states, batch, rngs, rnd, bounds)
        return [{"x": u["x"] * np.inf} for u in uploads], states


def test_a_diverging_algorithm_raises_instead_of_faulting_its_clients():
    p = FederatedProblem([faulty.good] * 3, dim=D)
    with pytest.raises(AlgorithmDiverged, match="exploding: the local step of client 0 in round 0"):
        Simulator(p, Exploding(local_steps=1, q=2), seed=0).run(1)


def test_nan_x0_is_a_clear_error():
    with pytest.raises(ValueError, match="x0 must be finite"):
        FederatedProblem([faulty.good], x0=np.array([0.0, np.nan, 1.0]))


@pytest.mark.parametrize(
    ("bounds", "match"),
    [
        ((np.ones(3), np.zeros(3)), "lower > upper at coordinates \\[0, 1, 2\\]"),
        ((0.0, [1.0, -1.0, 1.0]), "lower > upper at coordinates \\[1\\]"),
        ((0.0, 1.0, 2.0), "a pair"),
        ((np.zeros(2), np.ones(2)), "length 3"),
        ((-1.0, np.nan), "NaN"),
        ((1.0, 2.0), "outside the bounds"),
    ],
)
def test_bad_bounds_are_a_clear_error(bounds, match):
    with pytest.raises(ValueError, match=match):
        FederatedProblem([faulty.good], x0=np.zeros(3), bounds=bounds)


def test_bad_simulator_options():
    p = FederatedProblem([faulty.good] * 3, dim=D)
    cases = [
        ({"budget": 0}, "budget"),
        ({"availability": [1, 2, 1]}, "availability"),
        ({"sampling": [1, 1]}, "sampling"),
        ({"local_steps": [1, 0, 1]}, "local_steps"),
        ({"aggregator": "mode"}, "aggregator"),
        ({"trim": 0.5}, "trim"),
        ({"adversaries": [3]}, "adversaries"),
        ({"attack": "swap"}, "attack"),
        ({"evaluate": "F"}, "evaluate"),
        ({"resume": True}, "history_path"),
    ]
    for options, match in cases:
        with pytest.raises(ValueError, match=match):
            Simulator(p, "fedzo", **options)
