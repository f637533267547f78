"""scipy interoperability: bounds forms, args=, callback(intermediate_result), OptimizeResult, success/status."""

import warnings

import numpy as np
import pytest
import scipy.optimize

import zoo
from zoo.core.bounds import AmbiguousBoundsWarning, to_lower_upper


def sphere(x, c=0.0):
    return float(np.sum((np.asarray(x) - c) ** 2))


def test_bounds_scipy_pairs_and_bounds_object_and_zoo_form_agree():
    pairs = [(0, 1), (-1, 2), (None, 3)]
    lo, hi = to_lower_upper(pairs, 3)
    assert lo.tolist() == [0, -1, -np.inf] and hi.tolist() == [1, 2, 3]
    lo2, hi2 = to_lower_upper(scipy.optimize.Bounds([0, -1, -np.inf], [1, 2, 3]), 3)
    lo3, hi3 = to_lower_upper(([0, -1, -np.inf], [1, 2, 3]), 3)
    lo4, hi4 = to_lower_upper({"lower": [0, -1, -np.inf], "upper": [1, 2, 3]}, 3)
    for a, b in ((lo2, hi2), (lo3, hi3), (lo4, hi4)):
        assert np.array_equal(a, lo) and np.array_equal(b, hi)
    res = zoo.minimize(sphere, np.zeros(3), "cma", bounds=pairs, budget=300, seed=0, args=(5.0,))
    assert res.x[0] == pytest.approx(1.0, abs=1e-3) and res.x[1] == pytest.approx(2.0, abs=1e-3)


def test_ambiguous_two_by_two_is_read_as_pairs_with_a_warning():
    with pytest.warns(AmbiguousBoundsWarning, match="per-coordinate"):
        res = zoo.minimize(
            sphere, np.zeros(2), "cma", bounds=[(0, 1), (0, 2)], budget=200, seed=0, args=(0.5,)
        )
    assert res.x == pytest.approx([0.5, 0.5], abs=1e-3)  # the zoo reading would pin x[0] at 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lo, hi = to_lower_upper(scipy.optimize.Bounds([0, 1], [0, 2]), 2)  # unambiguous: no warning
    assert lo.tolist() == [0, 1] and hi.tolist() == [0, 2]
    with pytest.warns(AmbiguousBoundsWarning, match="zoo's \\(lower, upper\\)"):
        lo, hi = to_lower_upper((np.array([13.0, 0.0]), np.array([100.0, 100.0])), 2)  # pairs would be no box
    assert lo.tolist() == [13, 0] and hi.tolist() == [100, 100]


@pytest.mark.parametrize(
    "bad",
    [
        "box",
        3.0,
        [],
        [(0, 1, 2), (0, 1, 2), (0, 1, 2)],
        {"lo": 0, "hi": 1},
        [(0, 1), "x", (0, 1)],
        [["a", "b"]],
    ],
)
def test_bounds_in_no_known_form_is_a_clear_error(bad):
    with pytest.raises(TypeError, match="bounds must be"):
        zoo.minimize(sphere, np.zeros(3), "cma", bounds=bad, budget=50, seed=0)


def test_two_by_two_bounds_at_another_dimension_is_an_error():
    with pytest.raises(ValueError, match="do not fit dimension 3"):
        to_lower_upper([(0, 1), (0, 2)], 3)


def test_result_is_optimize_result_and_success_means_what_scipy_means():
    res = zoo.minimize(sphere, np.ones(2), "rge", budget=100, seed=0)
    assert isinstance(res, scipy.optimize.OptimizeResult)
    ref = scipy.optimize.minimize(sphere, np.ones(2), method="Nelder-Mead", options={"maxfev": 10})
    assert not ref.success  # scipy: the maxfev budget ran out before convergence
    assert not res.success and res.status == 1 and "budget" in res.stop
    hit = zoo.minimize(sphere, np.ones(2), "cma", budget=5000, seed=0, f_target=1e-8)
    assert hit.success and hit.status == 0


def test_callback_with_intermediate_result_signature_and_stop_iteration():
    seen = []

    def cb(intermediate_result):
        seen.append((intermediate_result.x.copy(), intermediate_result.fun))
        if len(seen) == 3:
            raise StopIteration

    res = zoo.minimize(sphere, np.ones(3), "cma", budget=1000, seed=0, callback=cb)
    assert len(seen) == 3 and res.status == 99 and not res.success
    assert seen[-1][1] == pytest.approx(sphere(seen[-1][0]))
    calls = []
    zoo.minimize(sphere, np.ones(3), "cma", budget=50, seed=0, callback=lambda opt: calls.append(opt.nit))
    assert calls == list(range(1, len(calls) + 1))  # the zoo form still receives the optimizer


def test_args_are_passed_through():
    res = zoo.minimize(sphere, np.zeros(2), "cma", budget=400, seed=0, args=(3.0,))
    assert res.x == pytest.approx([3.0, 3.0], abs=1e-3)
    res = zoo.minimize(lambda X, c: np.sum((X - c) ** 2, axis=1), np.zeros(2), "cma", budget=400, seed=0,
                       vectorized=True, args=(2.0,))  # fmt: skip
    assert res.x == pytest.approx([2.0, 2.0], abs=1e-3)
