"""Reporting: a query budget stops a run; the history is written as JSON lines each round and a run resumes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoo.federated import FedZO, Simulator, make_algorithm, problems


def _p():
    return problems.quadratic(dim=6, n_clients=3, heterogeneity=0.5, seed=1)


def test_a_query_budget_is_a_hard_limit_and_stops_the_run():
    sim = Simulator(_p(), FedZO(local_steps=3, q=4), seed=0, budget=200)
    h = sim.run(50)
    assert h.stopped == "budget" and h.queries[-1] <= 200
    assert len(h.rounds) < 51
    # the last round ran short: each client stopped at its share of what was left
    assert h.rounds[-1]["queries"] < h.rounds[1]["queries"] or h.rounds[-1]["queries"] == 0


@pytest.mark.parametrize("budget", [3 + 54 + 1, 3 + 54 + 7])
def test_fzoos_budget_that_ends_within_a_round(budget):
    # 3 clients x 3 steps x 6 queries = 54 a round: the budget's last round leaves the clients less than a
    # step's 6 queries, so they make none; FZooS's server reads that as "no f_i(x_t) from that client", not as
    # the algorithm diverging (a NaN f0 upload raised AlgorithmDiverged before)
    h = Simulator(_p(), make_algorithm("fzoos", local_steps=3), seed=0, budget=budget).run(5)
    assert h.stopped == "budget" and h.queries[-1] <= budget
    assert h.queries[1] == 3 + 54 and np.all(np.isfinite(h.F))  # round 1 in full, then the budget stops it


@pytest.mark.parametrize("name", ["fedzo", "scaffold", "fzoos"])
def test_history_file_and_resume_give_the_uninterrupted_run(tmp_path, name):
    p, path = _p(), tmp_path / "run.jsonl"
    whole = Simulator(p, make_algorithm(name, local_steps=2), seed=3).run(4)
    first = Simulator(p, make_algorithm(name, local_steps=2), seed=3, history_path=str(path))
    first.run(2)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 3 and json.loads(lines[0])["header"]["algorithm"] == name
    assert json.loads(lines[2])["record"]["round"] == 1
    again = Simulator(p, make_algorithm(name, local_steps=2), seed=3, history_path=str(path), resume=True)
    assert again.round_index == 2
    h = again.run(2)
    np.testing.assert_array_equal(h.F, whole.F)
    np.testing.assert_array_equal(h.queries, whole.queries)
    assert len(path.read_text().splitlines()) == 1 + 5


def test_resume_refuses_another_run(tmp_path):
    path = tmp_path / "run.jsonl"
    Simulator(_p(), "fedzo", seed=0, history_path=str(path)).run(1)
    with pytest.raises(ValueError, match="written with seed=0, this run has seed=1"):
        Simulator(_p(), "fedzo", seed=1, history_path=str(path), resume=True)
    with pytest.raises(FileNotFoundError, match="no history file"):
        Simulator(_p(), "fedzo", seed=0, history_path=str(tmp_path / "none.jsonl"), resume=True)
    path.write_text(path.read_text().splitlines()[0] + "\n")
    with pytest.raises(ValueError, match="no complete round"):
        Simulator(_p(), "fedzo", seed=0, history_path=str(path), resume=True)
