"""The fused CBO kernel and the consensus kernel equal their numpy twins (same random numbers passed in);
the noise the kernel reads has mean 0 and variance 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import zoo
from zoo.kernels import cbo as k
from zoo.kernels import noise as table_noise


def _problem(seed, M=4, N=9, d=5, batch=0, memory=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((M, N, d))
    F = rng.random((M, N)) * 3.0
    F[0, ::3] = np.inf  # non-finite values: weight 0
    F[2, :] = np.inf  # a run with no finite value: skipped
    if memory:
        Y = X + 0.1 * rng.standard_normal((M, N, d))
        FY = np.minimum(F, rng.random((M, N)))
        FY[2, :] = np.inf
    else:
        Y, FY = X, F
    idx = np.argsort(rng.random((M, N)), axis=1)[:, :batch].astype(np.int64)
    alpha = rng.uniform(1.0, 50.0, M)
    fc = rng.random(M) * 3.0
    fc[1] = np.inf
    return rng, X, F, Y, FY, idx, alpha, fc


@pytest.mark.parametrize("anisotropic", [True, False])
@pytest.mark.parametrize("heaviside", [False, True])
@pytest.mark.parametrize("batch", [0, 4])
@pytest.mark.parametrize("memory", [False, True])
@pytest.mark.parametrize("source", ["table", "rng"])
def test_cbo_step_kernel_equals_numpy_twin(anisotropic, heaviside, batch, memory, source):
    rng, X, F, Y, FY, idx, alpha, fc = _problem(0, batch=batch, memory=memory)
    M, N, d = X.shape
    runs = np.array([0, 1, 2], dtype=np.int64)  # run 3 is not stepped
    if source == "table":
        noise = table_noise.noise_table()
        offsets = rng.integers(0, len(noise) - N * d, size=M, dtype=np.int64)
    else:
        noise = rng.standard_normal(M * N * d)
        offsets = np.arange(M, dtype=np.int64) * N * d
    C0 = rng.standard_normal((M, d))
    args = (X, F, Y, FY, runs, idx, alpha, 1.0, 0.01, 10.1, anisotropic, heaviside, fc, noise, offsets)
    Xn, Cn, sn, okn = k.cbo_step_numpy(*args, C0)
    Xk = np.full_like(X, np.nan)
    Xk[3] = X[3]
    Ck, sk, okk = C0.copy(), np.full(M, np.inf), np.zeros(M, dtype=np.int64)
    k.cbo_step(*args, Xk, Ck, sk, okk)
    np.testing.assert_allclose(Xk, Xn, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(Ck, Cn, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sk, sn, rtol=1e-12)
    np.testing.assert_array_equal(okk, okn)
    assert okk[2] == 0 and np.array_equal(Xk[2], X[2]) and np.array_equal(Ck[2], C0[2])  # skipped run
    if not batch and not memory:
        assert okk[0] == N - 3  # the 3 non-finite values of run 0 are not counted
    assert np.all(np.isfinite(Xk))


def test_consensus_is_softmax_weighted_mean_and_ignores_non_finite():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    f = rng.random(30)
    alpha = 7.0
    w = np.exp(-alpha * f)
    expected = (w / w.sum()) @ X
    for use_numba in (True, False):
        c, count = k.consensus_point(X, f, alpha, use_numba)
        np.testing.assert_allclose(c, expected, rtol=1e-12)
        assert count == 30
    f_inf = f.copy()
    f_inf[:10] = np.inf
    w = np.exp(-alpha * f_inf[10:])
    for use_numba in (True, False):
        c, count = k.consensus_point(X, f_inf, alpha, use_numba)
        np.testing.assert_allclose(c, (w / w.sum()) @ X[10:], rtol=1e-12)
        assert count == 20
        assert k.consensus_point(X, np.full(30, np.inf), alpha, use_numba) == (None, 0)


def test_consensus_is_stable_for_huge_alpha_and_values():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    f = np.array([1e300, 1e300 * 0.5, 1e300])
    for use_numba in (True, False):
        c, _ = k.consensus_point(X, f, 1e5, use_numba)
        np.testing.assert_array_equal(c, X[1])  # the best point takes all the weight, no overflow


@pytest.mark.parametrize("source", ["table", "rng"])
@pytest.mark.parametrize("anisotropic", [True, False])
def test_noise_read_by_the_kernel_has_mean_zero_and_variance_one(source, anisotropic):
    """Drive the real optimizer: one particle sits at the consensus (the only finite value), all others at
    distance 1 per coordinate, lambda = 0; then x_new - x = sigma sqrt(dt) * s * xi recovers the noise xi."""
    d, N, M = 4, 500, 20
    opt = zoo.make(
        "cbo",
        dim=d,
        seed=5,
        n_particles=N,
        n_runs=M,
        lambda_=0.0,
        noise_source=source,
        noise="anisotropic" if anisotropic else "isotropic",
    )
    X0 = np.ones((M, N, d))
    X0[:, 0] = 0.0
    opt.state.X = X0
    X = opt.ask()
    values = np.full((M, N), np.inf)
    values[:, 0] = 0.0
    opt.tell(X, values.reshape(-1))
    p = opt.params
    scale = p.sigma * math.sqrt(p.dt) * (1.0 if anisotropic else math.sqrt(d))
    xi = ((opt.state.X - X0) / scale)[:, 1:].reshape(-1, d)
    assert abs(xi.mean()) < 4.0 / math.sqrt(xi.size)
    assert abs(xi.var() - 1.0) < 0.03
    corr = np.corrcoef(xi.T)
    assert np.abs(corr - np.eye(d)).max() < 0.03
    assert np.array_equal(opt.state.X[:, 0], X0[:, 0])  # the particle at the consensus does not move
