"""The round-trip kernels of zoo.torch's exact restore equal their numpy twins and undo what they record."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.kernels import roundtrip as rt

INTS = [(np.int16, np.float16), (np.int32, np.float32), (np.int64, np.float64)]


def _case(ints, floats, n=5000, seed=0):
    """Real round trips of a perturbation (mixed magnitudes: offsets that fit in int8 and ones that do not),
    plus bit patterns at the ends of the integer range, where the difference wraps."""
    rng = np.random.default_rng(seed)
    mags = np.where(np.arange(n) % 3 == 0, 1e-4, 0.05)
    x = (rng.standard_normal(n) * mags).astype(floats)
    a = (1e-2 * rng.standard_normal(n)).astype(floats)
    new = (x + a).astype(floats)
    back = (new - a).astype(floats)
    xi, bi, ni = x.view(ints).copy(), back.view(ints).copy(), new.view(ints).copy()
    info = np.iinfo(ints)
    xi[:4] = [info.max, info.min, info.min, 5]
    bi[:4] = [info.min, info.max, 0, 5 - 200]
    return xi, bi, ni


def _run(fn, xi, bi, ni):
    n = xi.size
    x = xi.copy()
    idx, off = np.zeros(n, np.int16), np.zeros(n, np.int8)
    far_idx, far_val = np.zeros(n, np.int16), np.zeros(n, xi.dtype)
    m, f = fn(x, bi, ni, idx, off, far_idx, far_val, 8 * xi.itemsize)
    return x, (m, f, idx[:m].copy(), off[:m].copy(), far_idx[:f].copy(), far_val[:f].copy())


@pytest.mark.parametrize(("ints", "floats"), INTS)
def test_check_kernel_equals_numpy_twin_and_its_patches_restore_exactly(ints, floats):
    xi, bi, ni = _case(ints, floats)
    xk, pk = _run(rt.check, xi, bi, ni)
    xn, pn = _run(rt.check_numpy, xi, bi, ni)
    assert pk[:2] == pn[:2]
    assert all(np.array_equal(a, b) for a, b in zip(pk[2:], pn[2:]))
    m, f = pk[:2]
    assert m > 10 * f > 0  # both kinds occur, offsets far more often
    assert np.array_equal(xk, ni) and np.array_equal(xn, ni)  # the chunk took the perturbed values
    assert m + f == int(np.count_nonzero(xi != bi))
    # the end-of-range pairs: max vs min differs by -1 modulo 2^bits (fits), min vs 0 does not
    assert 0 in pk[2] and 1 in pk[2] and 2 in pk[4] and 3 in pk[4]
    for apply_off, apply_val in (
        (rt.apply_offsets, rt.apply_values),
        (rt.apply_offsets_numpy, rt.apply_values_numpy),
    ):
        y = bi.copy()  # the restore: the round trip, then the patches
        apply_off(y, pk[2], pk[3])
        apply_val(y, pk[4], pk[5])
        assert np.array_equal(y, xi)


@pytest.mark.parametrize(("ints", "floats"), INTS)
def test_kernels_on_empty_and_exact_chunks(ints, floats):
    """No element differs: no patch, and the chunk still takes the perturbed values; empty arrays are fine."""
    rt.warm(ints)
    xi = np.arange(100, dtype=ints)
    ni = xi[::-1].copy()
    for fn in (rt.check, rt.check_numpy):
        x, (m, f, *_) = _run(fn, xi, xi.copy(), ni)
        assert (m, f) == (0, 0) and np.array_equal(x, ni)
        x, (m, f, *_) = _run(fn, xi[:0], xi[:0], ni[:0])
        assert (m, f) == (0, 0) and x.size == 0
