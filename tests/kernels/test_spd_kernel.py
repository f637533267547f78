"""The batched Cholesky-solve kernel equals its numpy twin, and reports matrices that are not positive definite."""

from __future__ import annotations

import numpy as np

from zoo.kernels.spd import chol_solve, chol_solve_numpy


def test_chol_solve_kernel_equals_numpy_twin_and_flags_indefinite_matrices():
    rng = np.random.default_rng(0)
    C, n = 7, 12
    A = rng.standard_normal((C, n, n))
    K = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(n)
    K[3] = -np.eye(n)  # not positive definite
    y = rng.standard_normal((C, n))
    a1, ld1, ok1 = chol_solve(K, y)
    a2, ld2, ok2 = chol_solve_numpy(K, y)
    assert ok1.tolist() == ok2.tolist() == [True, True, True, False, True, True, True]
    good = ok1
    np.testing.assert_allclose(a1[good], a2[good], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ld1[good], ld2[good], rtol=1e-12)
    np.testing.assert_allclose(np.einsum("cij,cj->ci", K[good], a1[good]), y[good], atol=1e-9)
    np.testing.assert_allclose(ld1[good], np.linalg.slogdet(K[good])[1], rtol=1e-10)
    assert np.isnan(a1[3]).all() and np.isnan(ld1[3])


import pytest  # noqa: E402


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 60])
def test_chol_solve_kernel_equals_numpy_twin_at_every_size(n):
    """The factorization takes four rows of a column at a time and the rest one by one: every remainder."""
    rng = np.random.default_rng(n)
    A = rng.standard_normal((3, n, n))
    K = A @ A.transpose(0, 2, 1) + 0.5 * np.eye(n)
    y = rng.standard_normal((3, n))
    a1, ld1, ok1 = chol_solve(K, y)
    a2, ld2, ok2 = chol_solve_numpy(K, y)
    assert ok1.all() and ok2.all()
    np.testing.assert_allclose(a1, a2, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ld1, ld2, rtol=1e-12, atol=1e-12)
