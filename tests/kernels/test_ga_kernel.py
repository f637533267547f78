"""The GA offspring kernel equals its numpy twin bit for bit; its mutations are honest N(0, diag(w)^2),
with one width w_j per coordinate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo.kernels import ga_offspring as ga
from zoo.kernels.noise import TABLE_SIZE, noise_table

EMPTY = np.zeros(0)


def _case(rng, n, d, n_parents, crossover, bounded, near_end=False):
    parents = rng.standard_normal((n_parents, d))
    parent_idx = rng.integers(0, n_parents, n)
    offsets = rng.integers(0, TABLE_SIZE, n)
    if near_end:  # slices that wrap around the end of the table
        offsets = TABLE_SIZE - 1 - rng.integers(0, d, n)
    offsets[0] = -1  # a row copied without mutation (the elite)
    mate_idx = np.full(n, -1)
    mask_row = np.zeros(n, dtype=np.int64)
    mask = np.zeros((1, 1), dtype=bool)
    if crossover:
        crossed = np.flatnonzero(rng.random(n) < 0.5)
        mate_idx[crossed] = rng.integers(0, n_parents, crossed.size)
        mask_row[crossed] = np.arange(crossed.size)
        mask = rng.random((max(crossed.size, 1), d)) < 0.5
        mate_idx[0] = -1  # row 0 stays a plain copy
    lo, hi = (np.full(d, -1.5), np.full(d, 1.5)) if bounded else (EMPTY, EMPTY)
    widths = 0.7 * 10.0 ** rng.uniform(-3, 1, d)  # per-coordinate widths over four decades
    return parents, parent_idx, mate_idx, mask_row, mask, noise_table(), offsets, widths, lo, hi, bounded


@pytest.mark.parametrize("crossover", [False, True])
@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("near_end", [False, True])
@pytest.mark.parametrize("d", [1, 9, 1000])
def test_offspring_kernel_equals_numpy_twin_bit_for_bit(crossover, bounded, near_end, d):
    args = _case(np.random.default_rng(d), 40, d, 5, crossover, bounded, near_end)
    out = np.empty((40, d))
    ga.offspring(*args, out)
    ref = ga.offspring_numpy(*args)
    assert np.array_equal(out, ref)
    copied = args[0][args[1][0]]
    assert np.array_equal(out[0], np.clip(copied, -1.5, 1.5) if bounded else copied)
    if bounded:
        assert out.min() >= -1.5 and out.max() <= 1.5


def test_wrapped_slice_reads_the_start_of_the_table():
    t = noise_table()
    s = ga.table_slice(t, TABLE_SIZE - 3, 7)
    assert np.array_equal(s, np.concatenate([t[-3:], t[:4]]).astype(np.float64))


def test_mutations_are_gaussian_with_the_right_second_moment():
    rng = np.random.default_rng(5)
    n, d = 40_000, 6
    widths = np.array([1e-4, 1e-2, 0.5, 1.0, 30.0, 1e4])
    offsets = rng.integers(0, TABLE_SIZE, n)
    out = np.empty((n, d))
    ga.offspring(
        np.zeros((1, d)),
        np.zeros(n, np.int64),
        np.full(n, -1),
        np.zeros(n, np.int64),
        np.zeros((1, 1), bool),
        noise_table(),
        offsets,
        widths,
        EMPTY,
        EMPTY,
        False,
        out,
    )
    U = out / widths  # each coordinate at its own width, the same standard normals underneath
    assert np.abs(U.mean(axis=0)).max() < 0.03
    np.testing.assert_allclose(U.T @ U / n, np.eye(d), atol=0.03)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12),
    d=st.integers(1, 40),
    n_parents=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    crossover=st.booleans(),
    bounded=st.booleans(),
)
def test_kernel_equals_twin_for_any_shape(n, d, n_parents, seed, crossover, bounded):
    args = _case(np.random.default_rng(seed), n, d, n_parents, crossover, bounded, near_end=seed % 2 == 0)
    out = np.empty((n, d))
    ga.offspring(*args, out)
    assert np.array_equal(out, ga.offspring_numpy(*args))
