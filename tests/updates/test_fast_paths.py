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
    np.array([-np.inf, 1.0, 2.0]),  # only the smallest entry is not finite
    np.array([1.0, 2.0, np.inf]),  # only the largest
    np.array([1.0, np.nan, np.inf, -np.inf]),  # argmax / argmin meet the NaN first
    np.array([np.inf, np.nan]),
    np.array([[1.0, 2.0], [np.nan, 3.0]]),  # 2-D: the flat view is scanned
    np.ones((3, 4))[:, ::2],  # not contiguous
    np.array([7.0]),
    np.zeros(5),  # a zero estimate: the norm's all-zero shortcut
    np.array([0.0, 1e-200, 0.0]),  # its square underflows to 0 but the vector is not zero
    np.array([1.0, np.nan], dtype=np.float32),  # other dtypes: the general test
    np.array([1, 2, 3]),
]


@pytest.mark.parametrize("a", CASES, ids=range(len(CASES)))
def test_all_finite_and_norm_equal_their_definitions(a):
    assert all_finite(a) == bool(np.isfinite(a).all())
    assert all_finite(-a) == bool(np.isfinite(a).all())  # the sign does not matter
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


def test_the_scaled_norm_is_linalg_norm_bit_for_bit():
    """Entries whose squares underflow or overflow take the scaled branch: top * ||w / top||, the inner norm
    written as np.linalg.norm computes it (sqrt of the dot product)."""
    rng = np.random.default_rng(1)
    for scale in (1e-170, 1e-200, 1e-300, 1e200, 1e300):
        for d in (1, 3, 10, 1000):
            w = rng.standard_normal(d) * scale
            top = float(np.abs(w).max())
            assert norm(w) == top * float(np.linalg.norm(w / top))


def test_norm_of_negative_zeros_is_positive_zero():
    """The zero branch takes max |w| as max(largest, -smallest): for -0.0 entries that is -0.0 unless fixed."""
    n = norm(np.full(4, -0.0))
    assert n == 0.0 and np.copysign(1.0, n) == 1.0


def test_zeros_like_is_numpys():
    from zoo.core.arrays import zeros_like

    for a in (np.ones(3), np.ones((2, 3)), np.ones(3, dtype=np.float32), np.arange(3)):
        z = zeros_like(a)
        ref = np.zeros_like(a)
        assert z.dtype == ref.dtype and z.shape == ref.shape and not z.any()


def test_evolve_is_dataclasses_replace():
    """``evolve`` (the per-step state update of the gradient methods) builds what ``dataclasses.replace``
    builds, and hands any dataclass whose ``__init__`` does more than assign its fields to ``replace``."""
    import dataclasses

    from zoo.core.method import evolve
    from zoo.estimators.base import GradientState

    s = GradientState(x=np.ones(2), t=3, rule={"r": 1.0}, probe={"mu": 0.1}, g=np.zeros(2), n_skipped=1)
    new = evolve(s, t=4, probe={})
    ref = dataclasses.replace(s, t=4, probe={})
    assert type(new) is GradientState and new.__dict__.keys() == ref.__dict__.keys()
    assert all(
        new.__dict__[k] is ref.__dict__[k] or new.__dict__[k] == ref.__dict__[k] for k in ("t", "probe")
    )
    assert new.x is s.x and new.rule is s.rule and s.t == 3 and s.probe == {"mu": 0.1}  # s itself unchanged
    with pytest.raises(TypeError):  # an unknown field is refused, as replace refuses it
        evolve(s, nope=1)

    calls = []

    @dataclasses.dataclass
    class Checked:
        a: int

        def __post_init__(self):
            calls.append(self.a)

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        a: int

    assert evolve(Checked(1), a=2).a == 2 and calls == [1, 2]  # __post_init__ ran: replace was used
    assert evolve(Frozen(1), a=2) == Frozen(2)

    @dataclasses.dataclass
    class Shadows:  # fields named like the generated function's own names: dataclasses.replace
        s: int
        cls: int

    assert evolve(Shadows(1, 2), s=3) == Shadows(3, 2) and evolve(Shadows(1, 2), cls=4) == Shadows(1, 4)


def test_replacer_is_the_function_evolve_calls():
    """``replacer(cls, *names)`` (kept by a gradient method's ``_tell``) builds what ``evolve`` builds, with the
    changes in any order; None for a class ``evolve`` hands to ``dataclasses.replace``."""
    import dataclasses

    from zoo.core.method import evolve, replacer
    from zoo.estimators.base import GradientState

    s = GradientState(
        x=np.ones(2), t=3, rule={"r": 1.0}, probe={"mu": 0.1}, g=np.zeros(2), n_skipped=1, r_scale=2.0
    )
    rep = replacer(GradientState, "x", "t", "probe")
    assert rep is replacer(GradientState, "x", "t", "probe")  # built once
    x = np.zeros(2)
    new = rep(s, probe={}, x=x, t=4)
    ref = evolve(s, x=x, t=4, probe={})
    assert new == ref and new.x is x and new.rule is s.rule and new.r_scale == 2.0 and s.t == 3
    with pytest.raises(TypeError):
        rep(s, x=x, t=4)  # every named change is required

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        a: int

    assert replacer(Frozen, "a") is None


def test_operands_are_the_same_numbers_bit_for_bit():
    """A 0-d float64 operand gives bit for bit what the Python float gives, on the entries where rounding,
    signed zeros, subnormals, overflow and NaN show; float32 arrays keep the Python numbers (so their dtype)."""
    from zoo.core.arrays import operands

    a = np.array([1.0, -0.0, 0.0, 3e-320, 1e308, -1e308, np.inf, np.nan, 0.1, -7.3, 2.0**-1074])
    numbers = (0.9, 1.0 - 0.9, -1.0, 0.0, 1e-8, 1e300, 3e-310, 1.0 / (1.0 - 0.999**7))
    cs = operands(a, *numbers)
    assert all(type(c) is np.ndarray and c.shape == () and float(c) == x for c, x in zip(cs, numbers))
    with np.errstate(all="ignore"):
        for c, x in zip(cs, numbers):
            for got, want in ((c * a, x * a), (a + c, a + x), (a / c, a / x), (c - a, x - a)):
                assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), x
    f32 = np.ones(3, dtype=np.float32)
    assert operands(f32, 0.9, 1e-8) == (0.9, 1e-8) and (operands(f32, 0.9)[0] * f32).dtype == np.float32


def test_step_control_copy_is_params_plus_zero():
    """The reference copy is ``params + 0.0`` (-0.0 entries become 0.0), a new array, for every dtype."""
    from zoo.updates.step_control import _copy

    for p in (np.array([-0.0, 1.5, -2.0]), np.array([-0.0, 1.0], dtype=np.float32)):
        c = _copy(p)
        assert c is not p and c.dtype == p.dtype and c.tobytes() == (p + 0.0).tobytes()
