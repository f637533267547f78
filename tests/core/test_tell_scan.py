"""``tell`` finds whether the told values are finite from their lowest and highest entry (argmin / argmax, which
return the first NaN), and keeps the lowest for the best point (issue 9, perf10): the same verdict, the same
count of non-finite values, the same best value and point as the definition (``np.isfinite``, then ``argmin`` of
the values with NaN / inf as +inf), wherever NaN, inf or -inf sit in the batch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.core.method import Method, State

NAN, INF = math.nan, math.inf
CASES = [
    [1.0, 2.0, 3.0],
    [3.0, 2.0, 1.0],
    [NAN, 2.0, 1.0],  # the first NaN: argmin and argmax both stop there
    [1.0, NAN, 0.5],
    [1.0, 2.0, NAN],
    [INF, 1.0, 2.0],
    [1.0, 2.0, INF],  # only the highest is not finite
    [-INF, 1.0, 2.0],  # only the lowest is not finite
    [1.0, -INF, INF],
    [NAN, NAN, NAN],
    [INF, INF, INF],
    [-0.0, 0.0, -0.0],
    [1e308, -1e308, 5e-324],  # finite, the squares overflow
    [2.0, 2.0, 1.0, 1.0],  # ties: the first lowest
    [7.0],
]


class _Probe(Method):
    name = "tell-scan-probe"

    def _init(self, x0, rng):
        return State()

    def _ask(self, state, rng):
        return np.arange(float(self._n * 2)).reshape(self._n, 2)

    def _tell(self, state, X, values, rng):
        self.seen = (values.copy(), self.finite_values(values))
        return state


@pytest.mark.parametrize("values", CASES, ids=range(len(CASES)))
def test_the_verdict_the_count_and_the_best_point_are_the_definitions(values):
    v = np.array(values)
    opt = _Probe(np.zeros(2), seed=0)
    opt._n = len(v)
    X = opt.ask()
    opt.tell(X, v.copy())
    finite = np.isfinite(v)
    told, vouched = opt.seen
    assert vouched == bool(finite.all())
    assert opt.n_nonfinite == int((~finite).sum())
    assert told.tobytes() == np.where(finite, v, np.inf).tobytes()
    ref = np.where(finite, v, np.inf)
    if np.isfinite(ref.min()):
        i = int(np.argmin(ref))
        best_x, best_f = opt.best
        assert best_f == ref[i] and best_x.tobytes() == X[i].tobytes()
    else:  # nothing finite: no best point yet
        assert opt.best[1] == math.inf


def test_a_run_with_non_finite_values_keeps_its_best_point():
    """cge on the sphere with NaN beyond x_0 > -0.5 (a half-space where f fails): the best point is the one of the
    lowest finite value, as told."""

    def f(X):
        v = np.sum(X**2, axis=1)
        v[X[:, 0] > -0.5] = np.nan
        return v

    opt = zoo.make("cge", x0=np.linspace(-1.0, 1.3, 6), seed=0)
    lowest, where = math.inf, None
    for _ in range(60):
        X = opt.ask()
        v = f(X)
        opt.tell(X, v)
        w = np.where(np.isfinite(v), v, np.inf)
        if w.min() < lowest:
            lowest, where = float(w.min()), X[int(np.argmin(w))].copy()
    assert opt.n_nonfinite > 0
    assert opt.best[1] == lowest and opt.best[0].tobytes() == where.tobytes()
