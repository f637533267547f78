"""Numba kernels of the classic test functions, one row of ``X`` at a time (no temporaries).

Each has a plain-numpy twin in :mod:`zoo.functions.classic` that pins the formula; tests hold them equal.
"""

from __future__ import annotations

import math

import numba
import numpy as np

TWO_PI = 2.0 * math.pi


@numba.njit(cache=True)
def sphere(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(d):
            s += X[i, j] * X[i, j]
        out[i] = s
    return out


@numba.njit(cache=True)
def ellipsoid(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    w = np.empty(d)
    for j in range(d):
        w[j] = 10.0 ** (6.0 * j / (d - 1)) if d > 1 else 1.0
    for i in range(n):
        s = 0.0
        for j in range(d):
            s += w[j] * X[i, j] * X[i, j]
        out[i] = s
    return out


@numba.njit(cache=True)
def rosenbrock(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(d - 1):
            a = X[i, j + 1] - X[i, j] * X[i, j]
            b = 1.0 - X[i, j]
            s += 100.0 * a * a + b * b
        out[i] = s
    return out


@numba.njit(cache=True)
def rastrigin(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 10.0 * d
        for j in range(d):
            s += X[i, j] * X[i, j] - 10.0 * math.cos(TWO_PI * X[i, j])
        out[i] = s
    return out


@numba.njit(cache=True)
def ackley(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s2 = 0.0
        sc = 0.0
        for j in range(d):
            s2 += X[i, j] * X[i, j]
            sc += math.cos(TWO_PI * X[i, j])
        out[i] = -20.0 * math.exp(-0.2 * math.sqrt(s2 / d)) - math.exp(sc / d) + 20.0 + math.e
    return out


@numba.njit(cache=True)
def griewank(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        p = 1.0
        for j in range(d):
            s += X[i, j] * X[i, j]
            p *= math.cos(X[i, j] / math.sqrt(j + 1.0))
        out[i] = 1.0 + s / 4000.0 - p
    return out


@numba.njit(cache=True)
def levy(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        w0 = 1.0 + (X[i, 0] - 1.0) / 4.0
        s = math.sin(math.pi * w0) ** 2
        for j in range(d - 1):
            w = 1.0 + (X[i, j] - 1.0) / 4.0
            s += (w - 1.0) ** 2 * (1.0 + 10.0 * math.sin(math.pi * w + 1.0) ** 2)
        wd = 1.0 + (X[i, d - 1] - 1.0) / 4.0
        s += (wd - 1.0) ** 2 * (1.0 + math.sin(TWO_PI * wd) ** 2)
        out[i] = s
    return out


@numba.njit(cache=True)
def styblinski_tang(X):  # pragma: no cover - compiled
    n, d = X.shape
    out = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(d):
            x = X[i, j]
            s += x**4 - 16.0 * x * x + 5.0 * x
        out[i] = 0.5 * s
    return out
