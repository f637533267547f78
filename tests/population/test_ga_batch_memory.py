"""The GA writes a new batch into the memory of an old one only when nothing outside it refers to that batch."""

from __future__ import annotations

import numpy as np

import zoo


def _run(keep, generations=8):
    opt = zoo.make("ga", x0=np.zeros(6), seed=3, popsize=30)
    seen = []
    for _ in range(generations):
        X = opt.ask()
        keep(X, seen)
        opt.tell(X, np.sum(X**2, axis=1))
    return opt, seen


def test_batches_kept_by_the_caller_are_never_written_over():
    def keep(X, seen):
        seen.append((X, X.copy()))

    _, seen = _run(keep)
    for X, copy in seen:
        np.testing.assert_array_equal(X, copy)
    assert len({X.ctypes.data for X, _ in seen}) == len(seen)


def test_a_view_of_a_batch_keeps_it_from_being_reused():
    def keep(X, seen):
        seen.append((X[:2], X[:2].copy()))

    _, seen = _run(keep)
    for view, copy in seen:
        np.testing.assert_array_equal(view, copy)


def test_the_plain_loop_reuses_the_batch_memory_and_gives_the_same_numbers():
    def nothing(X, seen):
        seen.append(X.ctypes.data)

    opt, addrs = _run(nothing)
    assert len(set(addrs[2:])) <= 2  # from the third generation on, two buffers alternate

    def hold(X, seen):  # every batch kept: nothing is reused
        seen.append(X)

    other, batches = _run(hold)
    assert len({X.ctypes.data for X in batches}) == len(batches)
    np.testing.assert_array_equal(opt.best[0], other.best[0])
    assert opt.best[1] == other.best[1]
    X = opt.ask()
    assert not X.flags.writeable  # still read-only for the caller
