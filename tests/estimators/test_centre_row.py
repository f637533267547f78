"""The step-size control reads f at the iterate where the method says it is (``_centre_row``), never from an
option name: before, a central method without a ``difference`` option had its first probe read as f(x)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import zoo
from zoo.estimators.base import GradientMethod, GradientParams
from zoo.estimators.formulas import probes, two_point


@dataclasses.dataclass(frozen=True)
class PairsParams(GradientParams):
    q: int = 3  # no `difference` option: nothing to guess from


class Pairs(GradientMethod):
    """Central pairs [x + mu u_j, x - mu u_j]: no row at x."""

    name = "test-pairs"
    Params = PairsParams

    def _batch_size(self, state):
        return 2 * self.params.q

    def _centre_row(self, state):
        return None

    def _probe(self, x, rng):
        U = probes.draw(rng, self.params.q, x.shape[0])
        mu = self._mu(self.state)
        return two_point.points(x[None], U[None], mu, "central")[0], {"U": U, "mu": mu}

    def _estimate(self, state, X, values):
        g, ok = two_point.estimate(values[None], state.probe["mu"], "central", U=state.probe["U"][None])
        return g[0] if ok[0] else None


class CentreLast(Pairs):
    """Forward differences with x as the LAST row: [x + mu u_1, ..., x + mu u_q, x]."""

    name = "test-centre-last"

    def _batch_size(self, state):
        return self.params.q + 1

    def _centre_row(self, state):
        return self.params.q

    def _probe(self, x, rng):
        X, probe = super()._probe(x, rng)
        return np.concatenate([X[: self.params.q], x[None]]), probe

    def _estimate(self, state, X, values):
        forward = np.concatenate([values[-1:], values[:-1]])[None]  # the core's row order [x, x + mu u_j]
        g, ok = two_point.estimate(forward, state.probe["mu"], "forward", U=state.probe["U"][None])
        return g[0] if ok[0] else None


def _first_reference(cls):
    opt = cls(np.ones(4), seed=0)
    X = opt.ask()
    values = 1.0 + np.sum(X**2, axis=1)
    opt.tell(X, values)
    return opt.state.rule, values


def test_central_pairs_without_a_difference_option_use_the_batch_mean():
    rule, values = _first_reference(Pairs)
    assert rule["f_ref"] == pytest.approx(values.mean(), rel=1e-15)  # before: values[0], a probe, not f(x)
    assert rule["f_ref"] != values[0]


def test_a_centre_row_other_than_the_first_is_read_there():
    rule, values = _first_reference(CentreLast)
    assert rule["f_ref"] == values[-1] == pytest.approx(1.0 + 4.0)  # f(x) at x = ones(4)


def test_the_built_in_methods_name_their_centre_row():
    for name, row in [("rge", 0), ("cge", 0), ("spsa", None), ("zo-sgd", 0)]:
        opt = zoo.make(name, x0=np.ones(3), seed=0)
        assert opt._centre_row(opt.state) == row, name
    central = zoo.make("rge", x0=np.ones(3), seed=0, difference="central")
    assert central._centre_row(central.state) is None


def test_a_gradient_method_that_does_not_say_where_its_centre_is_is_refused():
    class Silent(GradientMethod):  # probe and estimate, but no _centre_row
        Params = PairsParams
        _batch_size, _probe, _estimate = Pairs._batch_size, Pairs._probe, Pairs._estimate

    with pytest.raises(TypeError, match="_centre_row"):
        Silent(np.ones(2), seed=0)


def test_a_central_method_without_the_option_converges_under_the_step_control():
    opt = Pairs(np.ones(5), seed=0, budget=3000)
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, np.sum((X - 0.5) ** 2, axis=1))
    assert opt.best[1] < 1e-6
