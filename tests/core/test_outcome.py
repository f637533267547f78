"""``Method.outcome``: what a method says about its run reaches ``zoo.minimize``'s result."""

import numpy as np

import zoo


def _sphere(X):
    return np.sum(np.atleast_2d(X) ** 2, axis=1)


def test_a_reported_failure_sets_status_6_and_extends_the_message():
    opt = zoo.make("random-search", x0=np.ones(3), seed=0, bounds=(-2.0, 2.0), budget=400)
    opt.outcome = lambda: {"failure": "the run ended worse than it started", "note": "n", "rec": {"a": 1}}
    res = zoo.minimize(_sphere, method=opt, vectorized=True)
    assert res.status == 6 and res.success is False
    assert res.message.endswith("; the run ended worse than it started; n")
    assert res.rec == {"a": 1} and "note" not in res


def test_no_report_keeps_the_usual_status():
    res = zoo.minimize(
        _sphere, np.ones(3), "random-search", budget=400, seed=0, vectorized=True, bounds=(-2, 2)
    )
    assert res.status == 1 and "worse" not in res.message
