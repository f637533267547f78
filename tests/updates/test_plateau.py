"""The plateau rule (zoo.updates.plateau): the lr factor halves when the windowed loss stops falling."""

import math

import pytest

from zoo.updates import Plateau, plateau_update
from zoo.updates.plateau import growth


def run(rule, losses):
    state = rule.init()
    factors = []
    for f in losses:
        state = plateau_update(rule, state, f)
        factors.append(state[0])
    return state, factors


def test_a_falling_loss_keeps_the_full_rate():
    _, factors = run(Plateau(window=4, patience=2), [10.0 * 0.9**k for k in range(200)])
    assert factors[-1] == 1.0


def test_a_flat_loss_halves_the_rate_after_patience_windows_down_to_the_floor():
    rule = Plateau(window=4, patience=2, min_factor=0.1)
    # first window sets best; windows 2, 3 are bad (patience 2); the 4th bad one halves
    _, factors = run(rule, [1.0] * 16)
    assert factors[11] == 1.0 and factors[15] == 0.5
    _, factors = run(rule, [1.0] * 400)
    assert factors[-1] == 0.1  # never below min_factor


def test_scale_free_and_negative_losses():
    losses = [5.0 - 0.01 * k for k in range(100)] + [4.0] * 100
    _, a = run(Plateau(window=5, patience=1), losses)
    _, b = run(Plateau(window=5, patience=1), [1e3 * f for f in losses])
    _, c = run(Plateau(window=5, patience=1), [f - 100.0 for f in losses])  # threshold relative to |best|
    assert a == b
    assert a[-1] < 1.0 and c[-1] < 1.0


def test_non_finite_losses_are_ignored():
    rule = Plateau(window=3, patience=0)
    s1, _ = run(rule, [3.0, 2.0, 1.0])
    s2, _ = run(rule, [3.0, math.nan, 2.0, math.inf, 1.0])
    assert s1 == s2


@pytest.mark.parametrize(
    "kw",
    [
        {"window": 0},
        {"window": 2.5},
        {"patience": -1},
        {"threshold": -0.1},
        {"threshold": math.nan},
        {"shrink": 1.0},
        {"shrink": 0.0},
        {"min_factor": 0.0},
        {"min_factor": 2.0},
    ],
)
def test_bad_options_are_refused_by_name(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        Plateau(**kw)


def test_growth_doubles_on_stalls_up_to_max_growth_then_the_rate_halves():
    """With max_growth > 1 a stall first doubles the sample-size multiplier; at max_growth the rate halves."""
    rule = Plateau(window=2, patience=0, max_growth=4, min_factor=0.25)
    state, seen = rule.init(), []
    for _ in range(20):
        state = plateau_update(rule, state, 1.0)
        seen.append((growth(state), state[0]))
    # windows end at values 2, 4, 6, ...: the first sets best, each later one is a stall
    assert seen[1] == (1, 1.0) and seen[3] == (2, 1.0) and seen[5] == (4, 1.0)
    assert seen[7] == (4, 0.5) and seen[9] == (4, 0.25) and seen[-1] == (4, 0.25)


def test_growth_one_is_the_plain_rule_and_old_states_resume():
    losses = [5.0 - 0.01 * k for k in range(60)] + [4.0] * 200
    a, fa = run(Plateau(window=5, patience=1), losses)
    b, fb = run(Plateau(window=5, patience=1, max_growth=1), losses)
    assert fa == fb and a == b and growth(a) == 1
    # a five-number state (saved before growth existed) reads as growth 1 and continues
    old = a[:5]
    assert growth(old) == 1
    assert plateau_update(Plateau(window=5, patience=1), old, 4.0) == plateau_update(
        Plateau(window=5, patience=1), a, 4.0
    )


def test_a_falling_loss_never_grows():
    state, _ = run(Plateau(window=4, patience=2, max_growth=8), [10.0 * 0.9**k for k in range(200)])
    assert growth(state) == 1 and state[0] == 1.0


@pytest.mark.parametrize("bad", [0, 3, 2.5, -2, True])
def test_bad_max_growth_is_refused(bad):
    with pytest.raises(ValueError, match="max_growth"):
        Plateau(max_growth=bad)


def test_a_rising_loss_halves_the_rate_at_once():
    """rise: a window mean more than `rise` of its own standard errors above the best halves the rate without
    waiting for patience windows, and becomes the reference (a loss that stays up is not cut again); a rise
    within the windows' scatter is a stall as before; rise=inf (the dataclass default) is the plain rule."""
    rule = Plateau(window=4, patience=3, rise=4.0)
    tight = [1.0, 1.01, 0.99, 1.0]  # best 1.0; the window's standard error ~0.004
    state, _ = run(rule, tight)
    state, _ = _feed(rule, state, [1.2, 1.21, 1.19, 1.2])  # +0.2: 50 standard errors
    assert state[0] == 0.5 and state[1] == pytest.approx(1.2) and state[2] == 0.0
    state, _ = _feed(rule, state, [1.2, 1.21, 1.19, 1.2])  # stays up: a stall, not a second cut
    assert state[0] == 0.5 and state[2] == 1.0
    noisy, _ = run(rule, tight)
    noisy, _ = _feed(rule, noisy, [0.4, 2.0, 0.6, 1.8])  # mean 1.2, but a standard error of ~0.4
    assert noisy[0] == 1.0 and noisy[2] == 1.0
    plain, _ = run(Plateau(window=4, patience=3), tight + [1.2, 1.21, 1.19, 1.2])
    assert plain[0] == 1.0


def test_rise_is_scale_free():
    losses = [2.0 - 0.01 * k for k in range(40)] + [3.0 + 0.01 * (k % 3) for k in range(40)]
    _, a = run(Plateau(window=5, patience=2, rise=4.0), losses)
    _, b = run(Plateau(window=5, patience=2, rise=4.0), [64.0 * f for f in losses])
    assert a == b and min(a) < 1.0


def _feed(rule, state, losses):
    factors = []
    for f in losses:
        state = plateau_update(rule, state, f)
        factors.append(state[0])
    return state, factors


@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan])
def test_bad_rise_is_refused(bad):
    with pytest.raises(ValueError, match="rise"):
        Plateau(rise=bad)
