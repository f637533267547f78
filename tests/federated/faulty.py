"""Client objectives that misbehave, shared by the fault tests of every engine (picklable by value for Ray)."""

from __future__ import annotations

import time

import numpy as np

D = 6
HANG = 30.0  # seconds: "never returns" within any test; finite so that nothing can wait on it forever


def good(X):
    return np.sum((np.atleast_2d(X) - 0.5) ** 2, axis=1)


def raises(X):
    raise RuntimeError("sensor offline")


def nan(X):
    return np.full(len(np.atleast_2d(X)), np.nan)


def hangs(X):
    time.sleep(HANG)
    return good(X)


def wrong_shape(X):
    return np.zeros(len(np.atleast_2d(X)) + 1)


FAULTY = {"raises": raises, "nan": nan, "hangs": hangs, "wrong shape": wrong_shape}
# the fault round's clients, in the order check_fault_round reads them (the last is made unavailable)
CLIENTS = (good, good, raises, nan, hangs, wrong_shape, good)


def evaluator_that_raises(x):
    raise ZeroDivisionError("the evaluator broke")


def check_fault_round(h, engine: str) -> None:
    """Round 1 of a run on [good, good, raises, nan, hangs, wrong_shape, unavailable]: every fault recorded as
    what it is, with the queries each client made; the good clients' aggregate is finite."""
    faults = dict(h.faults[1])
    assert faults[2] == "raised RuntimeError: sensor offline", engine
    assert faults[3] == "every value non-finite", engine
    assert faults[4].startswith("late"), engine
    assert faults[5].startswith("returned 2 values for 1 points") or faults[5].startswith("returned"), engine
    assert faults[6] == "unavailable", engine
    q = h.rounds[1]["client_queries"]
    assert q[0] == q[1] > 0 and q[3] == q[0]  # the NaN client answered every query: all counted
    assert q[2] > 0 and q[4] > 0 and q[5] > 0  # asked once before failing: counted
    assert q[6] == 0
    assert np.all(np.isfinite(h.x))
