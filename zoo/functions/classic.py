"""Classic test functions, vectorized over a batch ``X`` of shape ``(n, d)``, with known optima.

Each function object calls its Numba kernel (:mod:`zoo.kernels.testfunctions`); ``.reference(X)`` is the
plain-numpy twin below, which is the formula of record.

| name | f(x) | argmin | min |
|---|---|---|---|
| sphere | sum x_i^2 | 0 | 0 |
| ellipsoid | sum 10^(6 i/(d-1)) x_i^2 (i = 0..d-1) | 0 | 0 |
| rosenbrock | sum_{i<d-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 | 1 | 0 |
| rastrigin | 10 d + sum (x_i^2 - 10 cos(2 pi x_i)) | 0 | 0 |
| ackley | -20 exp(-0.2 sqrt(mean x^2)) - exp(mean cos(2 pi x)) + 20 + e | 0 | 0 |
| griewank | 1 + sum x_i^2 / 4000 - prod cos(x_i / sqrt(i+1)) | 0 | 0 |
| levy | sin^2(pi w_0) + sum_{i<d-1} (w_i-1)^2 (1 + 10 sin^2(pi w_i + 1)) + (w_{d-1}-1)^2 (1 + sin^2(2 pi w_{d-1})), w = 1 + (x-1)/4 | 1 | 0 |
| styblinski_tang | 0.5 sum (x_i^4 - 16 x_i^2 + 5 x_i) | -2.903534... | -39.16616570377142 d |
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from zoo.kernels import testfunctions as _k


def _rows(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"test functions take X of shape (n, d) with d >= 1, got {X.shape}")
    return X


def sphere_np(X):
    return np.sum(X * X, axis=1)


def ellipsoid_np(X):
    d = X.shape[1]
    w = 10.0 ** (6.0 * np.arange(d) / (d - 1)) if d > 1 else np.ones(1)
    return (X * X) @ w


def rosenbrock_np(X):
    return np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2, axis=1)


def rastrigin_np(X):
    return 10.0 * X.shape[1] + np.sum(X * X - 10.0 * np.cos(2.0 * np.pi * X), axis=1)


def ackley_np(X):
    d = X.shape[1]
    return (
        -20.0 * np.exp(-0.2 * np.sqrt(np.sum(X * X, axis=1) / d))
        - np.exp(np.sum(np.cos(2.0 * np.pi * X), axis=1) / d)
        + 20.0
        + math.e
    )


def griewank_np(X):
    i = np.arange(1, X.shape[1] + 1)
    return 1.0 + np.sum(X * X, axis=1) / 4000.0 - np.prod(np.cos(X / np.sqrt(i)), axis=1)


def levy_np(X):
    W = 1.0 + (X - 1.0) / 4.0
    head = np.sin(np.pi * W[:, 0]) ** 2
    mid = np.sum((W[:, :-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(np.pi * W[:, :-1] + 1.0) ** 2), axis=1)
    tail = (W[:, -1] - 1.0) ** 2 * (1.0 + np.sin(2.0 * np.pi * W[:, -1]) ** 2)
    return head + mid + tail


def styblinski_tang_np(X):
    return 0.5 * np.sum(X**4 - 16.0 * X**2 + 5.0 * X, axis=1)


# the minimizer of 0.5 (x^4 - 16 x^2 + 5 x): the root of 4x^3 - 32x + 5 = 0 near -2.9
_ST_X = -2.903534027771178
_ST_F = 0.5 * (_ST_X**4 - 16 * _ST_X**2 + 5 * _ST_X)


@dataclasses.dataclass(frozen=True)
class TestFunction:
    """A vectorized test function: ``f(X)`` for ``X`` of shape ``(n, d)`` (a single ``(d,)`` point also works,
    returning shape ``(1,)``)."""

    __test__ = False  # not a pytest class

    name: str
    kernel: Callable[[np.ndarray], np.ndarray]
    reference: Callable[[np.ndarray], np.ndarray]
    argmin_value: float
    min_per_dim: float
    domain: tuple[float, float]

    def __call__(self, X) -> np.ndarray:
        return self.kernel(np.ascontiguousarray(_rows(X)))

    def numpy(self, X) -> np.ndarray:
        """The plain-numpy formula (the twin of the kernel)."""
        return self.reference(_rows(X))

    def argmin(self, d: int) -> np.ndarray:
        return np.full(d, self.argmin_value)

    def minimum(self, d: int) -> float:
        return self.min_per_dim * d

    def bounds(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """The usual search domain."""
        return np.full(d, self.domain[0]), np.full(d, self.domain[1])


FUNCTIONS: dict[str, TestFunction] = {
    f.name: f
    for f in [
        TestFunction("sphere", _k.sphere, sphere_np, 0.0, 0.0, (-5.12, 5.12)),
        TestFunction("ellipsoid", _k.ellipsoid, ellipsoid_np, 0.0, 0.0, (-5.0, 5.0)),
        TestFunction("rosenbrock", _k.rosenbrock, rosenbrock_np, 1.0, 0.0, (-5.0, 10.0)),
        TestFunction("rastrigin", _k.rastrigin, rastrigin_np, 0.0, 0.0, (-5.12, 5.12)),
        TestFunction("ackley", _k.ackley, ackley_np, 0.0, 0.0, (-32.768, 32.768)),
        TestFunction("griewank", _k.griewank, griewank_np, 0.0, 0.0, (-600.0, 600.0)),
        TestFunction("levy", _k.levy, levy_np, 1.0, 0.0, (-10.0, 10.0)),
        TestFunction("styblinski_tang", _k.styblinski_tang, styblinski_tang_np, _ST_X, _ST_F, (-5.0, 5.0)),
    ]
}
