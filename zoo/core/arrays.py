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
