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


_all, _isfinite = np.logical_and.reduce, np.isfinite


def all_finite(a: Any) -> bool:
    """Whether every entry of ``a`` is finite. ``logical_and.reduce`` of ``isfinite`` is exact and as cheap as a
    sum test (``ndarray.all()`` costs a Python-level wrapper, about 1.5 us on a batch of one), and unlike a sum it
    cannot overflow, so entries of 1e308 or inf raise no RuntimeWarning (one per step on a diverging run)."""
    if type(a) is np.ndarray:
        return bool(_all(_isfinite(a), axis=None))
    return bool(namespace(a).isfinite(a).all())


def norm(a: Any) -> float:
    """``||a||`` (all entries), without overflow for entries near 1e300 nor underflow near 1e-300: one dot
    product when the sum of squares is a normal float, else scaled by the largest entry. ``vdot`` (BLAS, the
    entries are real) is the cheapest dot and, unlike ``@``, reports no RuntimeWarning when the square
    overflows: the scaled branch handles that case."""
    if type(a) is np.ndarray:
        s = float(np.vdot(a, a))
        if 1e-290 < s < math.inf:
            return math.sqrt(s)
        w = a.ravel()
        top = float(np.abs(w).max()) if w.size else 0.0
        if not (top > 0.0 and math.isfinite(top)):
            return top
        return top * float(np.linalg.norm(w / top))
    xp = namespace(a)
    top = float(xp.max(xp.abs(a))) if a.numel() else 0.0
    if not (top > 0.0 and math.isfinite(top)):
        return top
    return top * float(xp.linalg.vector_norm(a / top))
