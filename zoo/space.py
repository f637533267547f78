"""``zoo.space``: search spaces (real with bounds and log scale, integer, categorical, nested by name).

The definitions live in :mod:`zoo.core.space`; this module is their public name.
"""

from zoo.core.space import Categorical, Integer, Real, Space, as_space

__all__ = ["Categorical", "Integer", "Real", "Space", "as_space"]
