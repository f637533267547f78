"""rge's learned metric (issue 16): the three-point curvature formulas, the factor update, the line step, and the
method's defaults (metric="auto", q resolved), its hand-over to the plain rule under noise, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.estimators.formulas import curvature
from zoo.estimators.two_point import FULL_METRIC_MAX_DIM
from zoo.updates import make_rule
from zoo.updates.metric_step import MetricStep


def _quadratic(d: int, cond: float, seed: int, rotate: bool = True):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0] if rotate else np.eye(d)
    H = Q @ np.diag(cond ** (np.arange(d) / (d - 1))) @ Q.T
    b = rng.standard_normal(d)
    return (
        H,
        b,
        lambda X: (
            0.5 * np.einsum("nd,de,ne->n", np.atleast_2d(X), H, np.atleast_2d(X)) + np.atleast_2d(X) @ b
        ),
    )


@pytest.mark.parametrize("mu", [1e-3, 1e-1, 3.0])  # (a smaller mu: rounding, eps f / mu^2)
def test_three_points_give_the_derivative_and_the_curvature_exactly_on_a_quadratic(mu):
    H, b, f = _quadratic(5, 100.0, 0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(5)
    V = rng.standard_normal((3, 5))
    first, second = curvature.three_point(f(curvature.points(x, V, mu)), 3)
    g = H @ x + b
    np.testing.assert_allclose(first / mu, V @ g, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(second / mu**2, np.einsum("qd,de,qe->q", V, H, V), rtol=1e-5)


def test_the_line_step_is_the_minimizer_along_the_direction_and_respects_the_radius():
    H, b, f = _quadratic(4, 10.0, 2)
    x = np.ones(4)
    z = np.array([[1.0, -0.5, 0.25, 2.0]])
    mu = 0.1
    first, second = curvature.three_point(f(curvature.points(x, z, mu)), 1)
    t = curvature.line_steps(first, second, z, mu, radius=1e9)
    ts = np.linspace(t[0] - 1e-3, t[0] + 1e-3, 5)
    vals = f(x + ts[:, None] * z[0])
    assert np.argmin(vals) == 2  # t is the minimum along v (A = I here: v = z)
    capped = curvature.line_steps(first, second, z, mu, radius=1e-3)
    assert abs(capped[0]) * np.linalg.norm(z) == pytest.approx(1e-3)
    assert np.sign(capped[0]) == np.sign(t[0])


def test_the_line_step_without_curvature_goes_the_radius_downhill_and_skips_non_finite_pairs():
    z = np.array([[3.0, 4.0], [1.0, 0.0]])
    first = np.array([2.0, np.nan])
    second = np.array([-1.0, 1.0])  # concave along the first direction
    t = curvature.line_steps(first, second, z, 0.1, radius=0.5)
    assert t[0] == pytest.approx(-0.5 / 5.0) and t[1] == 0.0


def test_a_factor_update_makes_the_measured_curvature_the_running_one():
    H, _, _ = _quadratic(6, 1e3, 3)
    A = np.eye(6)
    z = np.random.default_rng(4).standard_normal(6)
    lam = (z @ A.T @ H @ A @ z) / (z @ z)
    kappa = 2.0
    A2 = curvature.update_factor(A, z, lam / kappa)
    assert (z @ A2.T @ H @ A2 @ z) / (z @ z) == pytest.approx(kappa)


@pytest.mark.parametrize("diag", [False, True])
def test_the_factor_updates_of_a_batch_equal_the_updates_one_after_the_other(diag):
    rng = np.random.default_rng(9)
    A = rng.uniform(0.5, 2.0, 5) if diag else rng.standard_normal((5, 5))
    Z = rng.standard_normal((3, 5))
    rhos = np.array([0.3, 2.5, 1.1])
    one_by_one = A
    for z, rho in zip(Z, rhos, strict=True):
        one_by_one = curvature.update_factor(one_by_one, z, rho)
    np.testing.assert_allclose(curvature.update_factor_many(A, Z, rhos), one_by_one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rotate, kind", [(True, "full"), (False, "diag")])
def test_the_factor_whitens_the_hessian(rotate, kind):
    # cond(A^T H A) from 1e4 to near 1: the metric learned from second differences alone
    H, b, f = _quadratic(8, 1e4, 5, rotate=rotate)
    ctl = MetricStep(make_rule("adam", 1.0), metric=kind)
    A, log_kappa = ctl.init(np.zeros(8), scale=1.0)["A"], math.nan
    rng = np.random.default_rng(6)
    x, mu = rng.standard_normal(8), 1e-3

    def cond(A):
        F = A if A.ndim == 2 else np.diag(A)
        w = np.linalg.eigvalsh(F.T @ H @ F)
        return w[-1] / w[0]

    assert cond(A) > 9e3
    for _ in range(1500):
        Z = rng.standard_normal((1, 8))
        V = curvature.directions(A, Z)
        _, second = curvature.three_point(f(curvature.points(x, V, mu)), 1)
        A, log_kappa = ctl._learn(A, log_kappa, Z, second, mu)
    assert cond(A) < 3.0


def test_the_log_curvature_stays_finite_at_extreme_scales():
    z = np.ones(3)
    assert math.isfinite(curvature.log_whitened_curvature(z, 5e-324, 1e-300))  # mu^2 would be 0
    assert math.isnan(curvature.log_whitened_curvature(z, 0.0, 1.0))
    assert math.isnan(curvature.log_whitened_curvature(z, -1.0, 1.0))


def test_metric_auto_is_full_up_to_its_dimension_and_off_when_an_option_fixes_the_step_or_the_probes():
    assert zoo.make("rge", x0=np.ones(5), seed=0)._metric == "full"
    assert zoo.make("rge", x0=np.ones(FULL_METRIC_MAX_DIM + 1), seed=0)._metric is None
    box = (-np.ones(5), np.ones(5) * 2)
    for opts in ({"lr": 0.01}, {"mu": 1e-3}, {"difference": "central"}, {"directions": "sphere"},
                 {"orthogonal": True}, {"perturbation": "auto"}, {"bounds": box}):  # fmt: skip
        opt = zoo.make("rge", x0=np.ones(5), seed=0, **opts)
        assert opt._metric is None and opt.params.q == 1, opts
    for name in ("zo-adam", "zo-sgd", "spsa", "zo-signsgd"):
        assert zoo.make(name, x0=np.ones(5), seed=0)._metric is None
    opt = zoo.make("rge", x0=np.ones(5), seed=0)
    assert opt.params.q == 2 and len(opt.ask()) == 5  # [x, x + mu v_1, x + mu v_2, x - mu v_1, x - mu v_2]
    assert zoo.make("rge", x0=np.ones(5), seed=0, q=3).params.q == 3


def test_an_explicit_metric_that_cannot_run_is_refused_naming_the_option():
    with pytest.raises(ValueError, match="metric='full'.*lr"):
        zoo.make("rge", x0=np.ones(5), seed=0, metric="full", lr=0.1)
    with pytest.raises(ValueError, match="bounds"):
        zoo.make("rge", x0=np.ones(5), seed=0, metric="diag", bounds=(-np.ones(5), 2 * np.ones(5)))
    with pytest.raises(ValueError, match="metric must be one of"):
        zoo.make("rge", x0=np.ones(5), seed=0, metric="bfgs")
    with pytest.raises(ValueError, match="clip"):
        MetricStep(make_rule("adam", 1.0), clip=1.0)
    with pytest.raises(ValueError, match="metric must be one of"):
        MetricStep(make_rule("adam", 1.0), metric="nope")


def _ellipsoid(X):
    X = np.atleast_2d(X)
    return X**2 @ (10.0 ** (6.0 * np.arange(X.shape[1]) / (X.shape[1] - 1)))


@pytest.mark.parametrize("metric", ["auto", "diag"])
def test_the_metric_solves_an_ill_conditioned_ellipsoid_where_the_plain_rule_stalls(metric):
    x0 = np.random.default_rng(0).standard_normal(10)
    f0 = _ellipsoid(x0)[0]
    res = zoo.minimize(
        _ellipsoid, x0, "rge", budget=6000, seed=0, vectorized=True, options={"metric": metric}
    )
    plain = zoo.minimize(_ellipsoid, x0, "zo-adam", budget=6000, seed=0, vectorized=True)
    assert res.fun < 1e-20 * f0 and plain.fun > 1e-6 * f0
    assert res.step_control["metric_used"] and res.step_control["metric"] == (
        "full" if metric == "auto" else metric
    )


def test_a_rotated_ellipsoid_needs_the_full_factor():
    H, b, f = _quadratic(8, 1e4, 7)
    x0 = np.zeros(8)
    f_star = -0.5 * b @ np.linalg.solve(H, b)
    full = zoo.minimize(f, x0, "rge", budget=4000, seed=0, vectorized=True)
    assert full.fun - f_star < 1e-9 * (f(x0)[0] - f_star)


def test_under_noise_the_plain_rule_takes_over_and_the_run_still_improves():
    rng = np.random.default_rng(0)

    def noisy(X):
        X = np.atleast_2d(X)
        return np.sum((X - 1.0) ** 2, axis=1) + 0.1 * rng.standard_normal(len(X))

    x0 = np.zeros(10)
    res = zoo.minimize(noisy, x0, "rge", budget=5000, seed=0, vectorized=True)
    sc = res.step_control
    assert not sc["metric_used"] and sc["metric_handover"] == "noise" and sc["noise"] > 0
    assert np.sum((res.x - 1.0) ** 2) < 0.05 * 10.0
    assert (
        res.optimizer.state.rule["plain"] and len(res.optimizer.ask()) == 3
    )  # forward, q = 2: [x, x + mu u_j]


def test_a_deterministic_run_keeps_the_metric_and_records_it():
    res = zoo.minimize(_ellipsoid, np.ones(6), "rge", budget=1500, seed=1, vectorized=True)
    sc = res.step_control
    assert sc["metric_used"] and sc["noise"] == 0.0 and sc["n_steps"] > 0 and sc["length"] > 0


def test_a_checkpoint_mid_run_resumes_the_metric_bit_for_bit():
    x0 = np.random.default_rng(3).standard_normal(6)
    a = zoo.make("rge", x0=x0, seed=4)
    for _ in range(40):
        X = a.ask()
        a.tell(X, _ellipsoid(X))
    sd = a.state_dict()
    b = zoo.make("rge", x0=x0, seed=4)
    b.load_state_dict(sd)
    for _ in range(40):
        Xa, Xb = a.ask(), b.ask()
        np.testing.assert_array_equal(Xa, Xb)
        a.tell(Xa, _ellipsoid(Xa))
        b.tell(Xb, _ellipsoid(Xb))
    np.testing.assert_array_equal(a.state.rule["A"], b.state.rule["A"])


def test_where_the_quadratic_model_fails_the_plain_rule_takes_over():
    # piecewise linear: the second differences see the kinks, the model overrates its decrease (a trust-region
    # ratio below 1/4 on more than half of the recent steps) and the plain rule runs the rest of the budget
    def abs_sum(X):
        return np.sum(np.abs(np.atleast_2d(X) - 0.3), axis=1)

    x0 = np.random.default_rng(0).standard_normal(15)
    res = zoo.minimize(abs_sum, x0, "rge", budget=15000, seed=0, vectorized=True)
    sc = res.step_control
    assert not sc["metric_used"] and sc["metric_handover"] == "model"
    assert res.fun < 0.01 * abs_sum(x0)[0]


def test_on_a_quadratic_the_model_predicts_the_decrease_and_the_metric_stays():
    res = zoo.minimize(_ellipsoid, np.ones(10), "rge", budget=5000, seed=2, vectorized=True)
    assert res.step_control["metric_used"] and res.optimizer.state.rule["poor"] < 0.2
