"""The Numba kernels of the noise table equal their numpy twins; the directions are honest N(0, I)."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.kernels import noise


@pytest.mark.parametrize("sphere", [False, True])
@pytest.mark.parametrize("central", [False, True])
@pytest.mark.parametrize("d", [1, 7, 1000])
def test_perturb_kernel_equals_numpy_twin(sphere, central, d):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(d)
    offsets = noise.draw_offsets(rng, 6, d)
    Xk, sk = noise.perturb_rows(x, offsets, 0.01, sphere, central, use_numba=True)
    Xn, sn = noise.perturb_rows(x, offsets, 0.01, sphere, central, use_numba=False)
    np.testing.assert_allclose(Xk, Xn, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(sk, sn, rtol=1e-12)


@pytest.mark.parametrize("d", [1, 13, 4096])
def test_assemble_kernel_equals_numpy_twin(d):
    rng = np.random.default_rng(1)
    offsets = noise.draw_offsets(rng, 64, d)
    coef = rng.standard_normal(64)
    coef[3] = 0.0
    gk = noise.assemble_rows(offsets, coef, d, use_numba=True)
    gn = noise.assemble_rows(offsets, coef, d, use_numba=False)
    np.testing.assert_allclose(gk, gn, rtol=1e-10, atol=1e-12)


def test_table_directions_have_mean_zero_and_identity_second_moment():
    rng = np.random.default_rng(2)
    d, n = 8, 40_000
    offsets = noise.draw_offsets(rng, n, d)
    X, _ = noise.perturb_rows(np.zeros(d), offsets, 1.0, False, False)
    U = X[1:]
    assert np.abs(U.mean(axis=0)).max() < 0.03
    np.testing.assert_allclose(U.T @ U / n, np.eye(d), atol=0.03)


def test_sphere_directions_have_norm_sqrt_d():
    rng = np.random.default_rng(3)
    offsets = noise.draw_offsets(rng, 50, 20)
    X, _ = noise.perturb_rows(np.zeros(20), offsets, 1.0, True, False)
    np.testing.assert_allclose(np.linalg.norm(X[1:], axis=1), np.sqrt(20), rtol=1e-12)


def test_table_is_deterministic_and_read_only():
    t = noise.noise_table()
    assert t.dtype == np.float32 and not t.flags.writeable
    ref = np.random.Generator(np.random.PCG64(noise.TABLE_SEED)).standard_normal(16, dtype=np.float32)
    assert np.array_equal(t[:16], ref)


def test_too_large_dimension_for_the_table_is_a_clear_error():
    with pytest.raises(ValueError, match="noise='rng'"):
        noise.draw_offsets(np.random.default_rng(0), 1, noise.TABLE_SIZE)


@pytest.mark.parametrize("q", [0, 1, 8, 64, 1000])
def test_draw_offsets_is_rng_integers_bit_for_bit(q):
    # draw_offsets passes q as a _Count (np.prod answered without numpy's reduction): the same draw as size=q
    a, b = np.random.default_rng(q), np.random.default_rng(q)
    for d in (10, 10, 3, 1000):
        got = noise.draw_offsets(a, q, d)
        want = b.integers(0, noise.TABLE_SIZE - d, size=q, dtype=np.int64)
        assert got.dtype == want.dtype and got.shape == want.shape == (q,)
        assert np.array_equal(got, want)
    assert a.bit_generator.state == b.bit_generator.state  # the generators stay in step
    assert a.random() == b.random()


def test_count_answers_prod_itself_and_is_a_plain_int_elsewhere():
    c = noise._Count(7)
    p = np.prod(c)
    assert p == 7 and type(p) is int  # answered by __array_function__, not by multiply.reduce
    assert type(np.prod(c, keepdims=True)) is type(np.prod(7, keepdims=True))  # other forms: numpy on the int
    assert np.sum(c) == 7 and np.empty(c).shape == (7,) and c + 1 == 8
