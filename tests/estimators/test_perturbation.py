"""The perturbation option of the two-point methods (issue 15): saddle escape, its schedule, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.estimators.formulas import probes

D = 10
EIG = np.r_[-1.0, np.ones(D - 1)]


def saddle(X):  # x^T A x / 2 + ||x||^4 / 4: a strict saddle at 0, minima -1/4 at +-e_1
    X = np.atleast_2d(X)
    r2 = np.sum(X**2, axis=1)
    return 0.5 * (X**2) @ EIG + 0.25 * r2**2


@pytest.mark.parametrize("seed", [0, 1])
def test_perturbation_escapes_the_saddle_the_plain_method_stays_at(seed):
    opts = {"difference": "central", "q": 2}
    plain = zoo.minimize(saddle, np.zeros(D), "rge", budget=1500, seed=seed, vectorized=True, options=opts)
    pert = zoo.minimize(saddle, np.zeros(D), "rge", budget=1500, seed=seed, vectorized=True,
                        options={**opts, "perturbation": "auto"})  # fmt: skip
    assert plain.fun > -0.01  # the central difference of an even function is 0 at its saddle
    assert pert.fun < -0.2 and pert.step_control["n_perturbed"] >= 1


def test_ball_draws_are_uniform_in_the_ball():
    rng = np.random.default_rng(0)
    Z = np.array([probes.ball(rng, 3, 2.0) for _ in range(4000)])
    r = np.linalg.norm(Z, axis=1)
    assert r.max() <= 2.0
    assert abs(np.mean(r <= 2.0 * 0.5 ** (1 / 3)) - 0.5) < 0.03  # half the volume inside radius 2 / 2^(1/3)
    assert np.abs(Z.mean(axis=0)).max() < 0.06


def test_schedule_spaces_the_perturbations():
    opt = zoo.make("rge", x0=np.zeros(D), seed=0, difference="central", q=1, perturbation=0.5,
                   perturbation_threshold=math.inf, perturbation_every=3)  # fmt: skip
    ts = []
    for _ in range(12):
        X = opt.ask()
        opt.tell(X, saddle(X))
        if opt.state.t_perturbed >= 0 and (not ts or ts[-1] != opt.state.t_perturbed):
            ts.append(opt.state.t_perturbed)
    assert ts == [0, 3, 6, 9]


def test_no_perturbation_when_the_estimate_is_large():
    opt = zoo.make("rge", x0=np.full(D, 3.0), seed=0, perturbation=0.5, perturbation_threshold=1e-9)
    for _ in range(5):
        X = opt.ask()
        opt.tell(X, saddle(X))
    assert opt.state.n_perturbed == 0


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"perturbation": 0.0}, "perturbation"),
        ({"perturbation": -1.0}, "perturbation"),
        ({"perturbation": "big"}, "perturbation"),
        ({"perturbation": "auto", "perturbation_threshold": -1.0}, "perturbation_threshold"),
        ({"perturbation": "auto", "perturbation_every": 0}, "perturbation_every"),
    ],
)
def test_bad_perturbation_options(options, match):
    with pytest.raises(ValueError, match=match):
        zoo.make("rge", x0=np.zeros(3), **options)
