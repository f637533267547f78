"""cge skips the estimate's test ``h > 0`` (issue 9, perf10) when its probe has shown it: with ``mu > 1.2e-16
||x||`` (``||x||`` the norm ``tell`` kept) and no bounds, every displacement ``(x_i + mu) - x_i`` (forward) and
``(x_i + mu) - (x_i - mu)`` (central) is positive. The lemma at its edge (``mu`` the smallest float the check lets
through, ``x`` with one dominant entry of every kind: powers of two, their neighbours, negative, subnormal, huge),
and runs with the shortcut and without it give the same iterates, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.core.arrays import norm
from zoo.estimators.coordinate import CGE


def _edge_cases() -> list[np.ndarray]:
    tops = []
    for k in (-1060, -1022, -600, -1, 0, 1, 52, 53, 600, 1023):
        p = math.ldexp(1.0, k)
        tops += [p, np.nextafter(p, 0.0), np.nextafter(p, math.inf), 3.0 * p if k < 1023 else 1.7e308]
    cases = []
    for t in tops:
        for sign in (1.0, -1.0):
            x = np.array([sign * t, -0.0, 0.0, 5e-324, -sign * t / 3.0, 1.0 if abs(t) > 1e10 else 0.0])
            cases.append(x)
    rng = np.random.default_rng(0)
    cases += [rng.standard_normal(10) * 10.0 ** rng.integers(-300, 300, 10) for _ in range(200)]
    return cases


@pytest.mark.parametrize("central", [False, True])
def test_the_displacements_are_positive_whenever_the_check_lets_mu_through(central):
    for x in _edge_cases():
        n = norm(x)
        assert math.isfinite(n)
        mu = float(np.nextafter(1.2e-16 * n, math.inf))  # the smallest mu with mu > 1.2e-16 ||x||
        assert mu > 1.2e-16 * n
        plus = x + mu
        h = plus - (x - mu) if central else plus - x
        assert (h > 0).all(), (x, mu)


def _trajectory(options, fun, seed, dim, steps=150):
    opt = zoo.make("cge", x0=np.linspace(-1.0, 1.3, dim), seed=seed, **options)
    out, skipped = [], 0
    for _ in range(steps):
        X = opt.ask()
        skipped += X is opt._positive
        opt.tell(X, fun(X))
        out.append((opt.state.x.tobytes(), opt.best[1]))
    return out, skipped


def _shifted(X):
    return 1.0 + np.sum((X - 0.5) ** 2, axis=1)


def _sphere(X):
    return np.sum(X**2, axis=1)


def _huge(X):
    return 1e300 * np.sum(X**2, axis=1)  # quotients that overflow: where the two paths of the formula differ


@pytest.mark.parametrize("options", [{}, {"difference": "central"}, {"bounds": (-2.0, 2.0)}, {"mu": 1e-3}])
@pytest.mark.parametrize("fun", [_shifted, _sphere, _huge], ids=["shifted", "sphere", "huge"])
@pytest.mark.parametrize("dim", [6, 40])  # the probe as x + E (d <= 32) and as copies of x
def test_runs_with_the_shortcut_equal_runs_that_test_h(options, fun, dim, monkeypatch):
    with np.errstate(over="ignore", invalid="ignore"):
        fast = [_trajectory(options, fun, seed, dim) for seed in (0, 1)]
        monkeypatch.setattr(CGE, "_positive", property(lambda self: None, lambda self, v: None))
        slow = [_trajectory(options, fun, seed, dim) for seed in (0, 1)]
    for (tf, nf), (ts, ns) in zip(fast, slow):
        assert tf == ts
        assert ns == 0
        if "bounds" in options:
            assert nf == 0  # a clipped probe may have h = 0: always tested
        elif "mu" not in options:
            assert nf > 100  # the radius follows the step: the shortcut is the rule
