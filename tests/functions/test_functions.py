from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.functions import FUNCTIONS


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@pytest.mark.parametrize("d", [1, 2, 10, 100])
def test_known_optimum(name, d):
    f = FUNCTIONS[name]
    x = f.argmin(d)
    assert f(x)[0] == pytest.approx(f.minimum(d), abs=1e-9)
    # and it is a local minimum: nearby points are not better
    rng = np.random.default_rng(0)
    X = x + 1e-3 * rng.standard_normal((50, d))
    assert np.all(f(X) >= f.minimum(d) - 1e-9)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_kernel_equals_numpy_twin(name):
    f = FUNCTIONS[name]
    X = np.random.default_rng(1).uniform(-4, 4, size=(64, 13))
    np.testing.assert_allclose(f(X), f.numpy(X), rtol=1e-12, atol=1e-12)


def test_pinned_values():
    assert zoo.functions.rosenbrock(np.zeros(100))[0] == 99.0
    assert zoo.functions.rastrigin(np.full(2, 0.5))[0] == pytest.approx(10 * 2 + 2 * (0.25 + 10))
    assert zoo.functions.sphere(np.array([[1.0, 2.0], [0.0, 0.0]])).tolist() == [5.0, 0.0]
    assert zoo.functions.styblinski_tang.minimum(1) == pytest.approx(-39.16616570377142)
    assert zoo.functions.ellipsoid(np.array([0.0, 1.0]))[0] == pytest.approx(1e6)


def test_unknown_function_and_bad_shapes():
    with pytest.raises(ValueError, match="unknown test function"):
        zoo.functions.get("nope")
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        zoo.functions.sphere(np.zeros((2, 0)))
    assert zoo.functions.get("styblinski-tang") is zoo.functions.styblinski_tang
