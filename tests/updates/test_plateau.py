"""The plateau rule (zoo.updates.plateau): the lr factor halves when the windowed loss stops falling."""

import math

import pytest

from zoo.updates import Plateau, plateau_update


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
