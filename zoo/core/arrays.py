"""The array namespace of a formula's inputs: numpy for ndarrays, torch for tensors.

The estimate core (:mod:`zoo.estimators.formulas`) and the update transforms (:mod:`zoo.updates`) are written
once against the handful of functions that numpy and torch spell alike (``sqrt``, ``sign``, ``where``,
``isfinite``, ``zeros_like``, ``einsum``, ``maximum``) and the arithmetic operators, so the same definition runs on
numpy arrays (the numpy methods, the federated clients) and on torch tensors (``zoo.torch``, on the tensors'
device). ``array_api_compat`` would wrap every call; this lookup costs one ``type()`` check, which matters on the
hot path of a batch of one (about a microsecond per step is the whole budget of the numpy methods' overhead).
torch is never imported here: a tensor can only exist once its module is loaded.
"""

from __future__ import annotations

import math
import sys
from types import ModuleType
from typing import Any

import numpy as np


def namespace(*arrays: Any) -> ModuleType:
    """``torch`` if any argument is a torch tensor, else ``numpy``."""
    for a in arrays:
        t = type(a)
        if t is not np.ndarray and t.__module__.startswith("torch"):
            return sys.modules["torch"]
    return np


def is_numpy(xp: ModuleType) -> bool:
    return xp is np


_all, _isfinite, _isfinite1 = np.logical_and.reduce, np.isfinite, math.isfinite
# np.vdot's C implementation, without the Python-level array-function dispatch in front of it (0.15 us a call)
_vdot = getattr(np.vdot, "_implementation", np.vdot)
# np.count_nonzero's C function, without its Python wrapper (numpy 2; numpy 1 keeps the public one)
_count_nonzero = getattr(getattr(np, "_core", None), "multiarray", np).count_nonzero
#: float64 as a dtype object: ``a.dtype is F64`` is the cheapest exact test on a hot path (numpy caches the object)
F64 = np.dtype(np.float64)


def all_finite(a: Any) -> bool:
    """Whether every entry of ``a`` is finite. For a float64 array, first the sum of squares (one BLAS dot
    product, ``np.vdot``'s C implementation): when it is a finite number every entry is finite; a NaN or an
    infinite entry makes it NaN or inf, and so do finite entries whose squares overflow (beyond 1e154), so then
    the exact test decides: whether the largest and the smallest entry are finite (``argmax`` / ``argmin``
    return the first NaN when there is one, so a NaN, an inf or a -inf anywhere makes one of the two
    non-finite), two C-level scans and no temporary array. The dot product sets no floating-point flag, so
    entries of 1e308 or inf raise no RuntimeWarning (an elementwise sum test overflows there: one warning per
    step on a diverging run); subnormal entries cost nothing measurable. About a third of the cost of
    ``logical_and.reduce(isfinite(a))`` on a batch of one (the general form, used for other dtypes)."""
    if type(a) is np.ndarray:
        if a.dtype is F64 and a.size:
            if _vdot(a, a) < math.inf:  # (a NaN compares False: the exact test below)
                return True
            if a.ndim != 1:
                a = a.reshape(-1)
            return _isfinite1(a[a.argmax()]) and _isfinite1(a[a.argmin()])
        return bool(_all(_isfinite(a), axis=None))
    return bool(namespace(a).isfinite(a).all())


def operands(a: Any, *numbers: float) -> tuple[Any, ...]:
    """``numbers`` as the operands of arithmetic with ``a``: for a float64 ndarray each as a 0-d float64 array,
    the same number, so every result is bit for bit what the Python float gives (numpy 2 converts a Python
    float operand at every operation, about 0.2 us on a batch of one; a 0-d array it takes as it is); for
    anything else (torch tensors, float32 arrays, whose dtype a Python float leaves alone and a 0-d float64
    array would not) the numbers themselves. For constants, call once and keep the result per dtype."""
    if type(a) is np.ndarray and a.dtype is F64:
        return tuple(np.array(float(c)) for c in numbers)
    return numbers


def zeros_like(a: Any) -> Any:
    """``zeros_like(a)`` of the array's namespace; for a float64 ndarray ``np.zeros(shape)`` (the same array,
    without ``np.zeros_like``'s Python-level dispatch: about 1 us a call on a batch of one)."""
    if type(a) is np.ndarray and a.dtype is F64:
        return np.zeros(a.shape)
    return namespace(a).zeros_like(a)


def norm(a: Any) -> float:
    """``||a||`` (all entries), without overflow for entries near 1e300 nor underflow near 1e-300: one dot
    product when the sum of squares is a normal float, else scaled by the largest entry. ``vdot`` (BLAS, the
    entries are real) is the cheapest dot and, unlike ``@``, reports no RuntimeWarning when the square
    overflows: the scaled branch handles that case."""
    if type(a) is np.ndarray:
        s = float(_vdot(a, a))
        if 1e-290 < s < math.inf:
            return math.sqrt(s)
        if s == 0.0 and not _count_nonzero(a):  # all zeros (+-0.0): what the scaled branch returns, 0.0
            return 0.0
        w = a.ravel()
        if not w.size:
            return 0.0
        # max |w| as max(largest, -smallest): C-level argmax / argmin (NaN: both pick the first NaN), not the
        # Python-level wrapper of ndarray.max on a temporary abs(w); a zero estimate takes this branch each step
        top = max(float(w[w.argmax()]), -float(w[w.argmin()])) + 0.0  # (+ 0.0: abs(-0.0) is 0.0, not -0.0)
        if not (top > 0.0 and math.isfinite(top)):
            return top
        y = w / top
        return top * math.sqrt(float(y.dot(y)))  # what np.linalg.norm(y) computes, without its Python wrapper
    xp = namespace(a)
    top = float(xp.max(xp.abs(a))) if a.numel() else 0.0
    if not (top > 0.0 and math.isfinite(top)):
        return top
    return top * float(xp.linalg.vector_norm(a / top))
