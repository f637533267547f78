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


def all_finite(a: Any) -> bool:
    """Whether every entry of ``a`` is finite. One reduction in the common case (a finite sum means finite
    entries; ``ndarray.all()`` costs a Python-level wrapper, about 1.5 us on a batch of one), the exact test
    only when the sum is not finite (a non-finite entry, or finite entries whose sum overflows)."""
    if type(a) is np.ndarray:
        if math.isfinite(np.add.reduce(a, axis=None)):
            return True
        return bool(np.isfinite(a).all())
    return bool(namespace(a).isfinite(a).all())


def norm(a: Any) -> float:
    """``||a||`` (all entries), without overflow for entries near 1e300 nor underflow near 1e-300: one dot
    product when the sum of squares is a normal float, else scaled by the largest entry."""
    if type(a) is np.ndarray:
        w = a if a.ndim == 1 else a.ravel()
        s = float(w @ w)
        if 1e-290 < s < math.inf:
            return math.sqrt(s)
        top = float(np.abs(w).max()) if w.size else 0.0
        if not (top > 0.0 and math.isfinite(top)):
            return top
        return top * float(np.linalg.norm(w / top))
    xp = namespace(a)
    top = float(xp.max(xp.abs(a))) if a.numel() else 0.0
    if not (top > 0.0 and math.isfinite(top)):
        return top
    return top * float(xp.linalg.vector_norm(a / top))
