"""The per-step fast paths (issue 9: overhead at d=10) give the same answers as the numpy definitions they
replace, on the cases that take the slow branch too: non-finite entries, overflowing sums, subnormal and huge
entries, empty arrays, torch tensors."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.core.arrays import all_finite, norm
from zoo.updates.step_control import _median

CASES = [
    np.array([1.0, -2.0, 3.0]),
    np.array([1.0, np.nan]),
    np.array([np.inf, -np.inf]),
    np.array([1e308, 1e308]),  # finite entries whose sum overflows: the exact test decides
    np.array([1e-170, 3e-170]),  # squares underflow: the scaled norm
    np.array([1e200, -1e200, 5.0]),
    np.zeros(0),
    np.ones((3, 4)),
    np.full((2, 2), -0.0),
]


@pytest.mark.parametrize("a", CASES, ids=range(len(CASES)))
def test_all_finite_and_norm_equal_their_definitions(a):
    assert all_finite(a) == bool(np.isfinite(a).all())
    # the definition: ||a|| scaled by its largest entry, so 1e200 does not overflow nor 1e-170 underflow
    top = float(np.abs(a).max()) if a.size else 0.0
    if np.isfinite(a).all():
        ref = top * float(np.linalg.norm(a.ravel() / top)) if top > 0 else 0.0
        assert norm(a) == pytest.approx(ref, rel=1e-15, abs=0.0)
    else:
        assert not np.isfinite(norm(a))


@pytest.mark.parametrize("a", CASES, ids=range(len(CASES)))
def test_the_fast_paths_warn_about_nothing(a):
    """A diverging run's iterates and values reach 1e300 / inf: a test that overflowed there would print a
    RuntimeWarning once per step (the class of issue 16's 960 warnings per run)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        all_finite(a), norm(a)


def test_torch_tensors_take_the_general_path():
    torch = pytest.importorskip("torch")
    t = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert all_finite(t) and norm(t) == 5.0
    assert not all_finite(torch.tensor([1.0, float("nan")]))


def test_median_is_numpys_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in range(1, 130):
        a = np.abs(rng.standard_normal(n)) * 10.0 ** rng.integers(-30, 30)
        assert _median(a) == float(np.median(a)), n
