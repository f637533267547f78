"""The batched squared-distance kernel equals its numpy twin; a window against itself comes out exactly symmetric."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.kernels.distances import sq_dists, sq_dists_numpy, sq_norms


@pytest.mark.parametrize("shape", [(3, 6, 60, 100), (2, 1, 7, 3), (1, 5, 5, 1), (4, 0, 3, 2)])
def test_sq_dists_kernel_equals_numpy_twin(shape):
    C, n, m, d = shape
    rng = np.random.default_rng(n + m + d)
    A, B = rng.standard_normal((C, n, d)) * 3.0, rng.standard_normal((C, m, d)) * 3.0 + 1.0
    got = sq_dists(A, B)
    want = sq_dists_numpy(A, B, sq_norms(A), sq_norms(B))
    assert got.shape == want.shape == (C, n, m)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-10)
    direct = ((A[:, :, None, :] - B[:, None, :, :]) ** 2).sum(axis=-1)
    np.testing.assert_allclose(got, direct, rtol=1e-10, atol=1e-10)


def test_sq_dists_of_a_window_against_itself_is_symmetric_with_a_zero_diagonal_and_never_negative():
    rng = np.random.default_rng(0)
    Z = 1e3 + 1e-6 * rng.standard_normal((4, 30, 10))  # near-equal points: the expansion rounds below 0
    z = sq_norms(Z)
    D = sq_dists(Z, Z, z, z)
    assert np.array_equal(D, D.transpose(0, 2, 1))
    assert (D >= 0).all()
    np.testing.assert_allclose(D, sq_dists_numpy(Z, Z, z, z), atol=1e-6)
    assert np.array_equal(sq_dists(Z, Z, use_numba=False), sq_dists_numpy(Z, Z, z, z))


@pytest.mark.parametrize("n", [2, 4])  # the remainder rows and the blocks of three
def test_sq_dists_keeps_nan_like_numpy(n):
    A = np.zeros((1, n, 3))
    A[0, 1, 0] = np.nan
    B = np.ones((1, 2, 3))
    got, want = sq_dists(A, B), sq_dists_numpy(A, B, sq_norms(A), sq_norms(B))
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.isnan(got[0, 1]).all()
    np.testing.assert_array_equal(got[0, 0], want[0, 0])
    S = sq_dists(A, A, sq_norms(A), None)
    assert np.isnan(S[0, 1]).all() and np.isnan(S[0, :, 1]).all()


def test_sq_dists_takes_views_and_other_dtypes():
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((3, 8, 5))
    x = rng.standard_normal((3, 5))
    got = sq_dists(x[:, None, :], Z[:, ::2].astype(np.float32))
    want = sq_dists_numpy(x[:, None, :], Z[:, ::2], sq_norms(x[:, None, :]), sq_norms(Z[:, ::2]))
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
