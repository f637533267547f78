"""Deprecated module: the base class of every method is :class:`zoo.core.method.Method`.

``Estimator`` was the base class's name and also the name of a gradient estimator and of a torch option;
it is now ``Method``. This module keeps the old import path working for one release (a DeprecationWarning,
once), then goes away. The validation helpers moved to :mod:`zoo.core.validate`.
"""

from __future__ import annotations

from zoo.core._deprecated import moved, warn_once
from zoo.core.method import Params, State
from zoo.core.validate import as_bounds, as_point

warn_once("zoo.core.estimator", "zoo.core.method (base class Method)", stacklevel=4)

__all__ = ["Params", "State", "as_bounds", "as_point"]

__getattr__ = moved(__name__, {"Estimator": "zoo.core.method:Method"})
