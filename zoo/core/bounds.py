"""Box bounds in every form ``zoo.minimize`` accepts, turned into zoo's ``(lower, upper)`` pair of arrays.

Accepted forms (``d`` is the dimension):

- zoo's ``(lower, upper)``: two scalars or two arrays of shape ``(d,)``;
- scipy's sequence of ``d`` pairs ``[(lo_0, hi_0), ..., (lo_{d-1}, hi_{d-1})]`` (``None`` = unbounded side);
- ``scipy.optimize.Bounds(lb, ub)`` (or anything with ``lb`` and ``ub`` attributes).

The one ambiguous case is a 2 x 2 form at ``d = 2``: ``[(0, 1), (0, 2)]`` reads either as the pairs
``x0 in [0, 1], x1 in [0, 2]`` (scipy) or as ``lower = (0, 1), upper = (0, 2)`` (zoo). **Rule: a 2 x 2 form is
read as scipy's per-coordinate pairs** (the convention of the ``minimize(fun, x0, bounds=...)`` signature zoo
copies) **unless that reading is not a box (some lo > hi) and zoo's is**; an :class:`AmbiguousBoundsWarning`
says which reading was taken, each time. To say which one you mean without a warning, pass
``scipy.optimize.Bounds(lower, upper)`` or ``{"lower": ..., "upper": ...}``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

_FORMS = (
    "bounds must be zoo's (lower, upper) (scalars or arrays of shape (d,)), scipy's sequence of d (lo, hi) pairs, "
    "scipy.optimize.Bounds(lb, ub) or {'lower': ..., 'upper': ...}"
)


class AmbiguousBoundsWarning(UserWarning):
    """A 2 x 2 bounds form at d=2 was read as scipy's per-coordinate (lo, hi) pairs."""


def _side(v: Any, fill: float) -> np.ndarray:
    """An array of one side of the box; ``None`` entries (scipy's "no bound") become ``fill``."""
    if v is None:
        return np.array(fill)
    if isinstance(v, (list, tuple)):
        v = [fill if e is None else e for e in v]
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{_FORMS}; got a side that is not numbers: {v!r}") from exc
    return a


def to_lower_upper(bounds: Any, dim: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(lower, upper)`` arrays from any accepted form (see the module docstring); ``None`` stays ``None``.

    ``dim`` (when known from ``x0``) decides between ``(2, d)`` and ``(d, 2)`` forms; the shapes are not
    broadcast here (the method checks them against ``d``).
    """
    if bounds is None:
        return None
    if isinstance(bounds, dict):
        if set(bounds) != {"lower", "upper"}:
            raise TypeError(
                f"{_FORMS}; a dict needs exactly the keys 'lower' and 'upper', got {sorted(bounds)}"
            )
        return _side(bounds["lower"], -np.inf), _side(bounds["upper"], np.inf)
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        return _side(bounds.lb, -np.inf), _side(bounds.ub, np.inf)
    if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__"):
        raise TypeError(f"{_FORMS}; got {type(bounds).__name__}")
    items = list(bounds)
    if len(items) == 0:
        raise TypeError(f"{_FORMS}; got an empty sequence")
    is_pair = [
        not isinstance(e, (str, bytes)) and hasattr(e, "__len__") and np.ndim(e) == 1 and len(e) == 2
        for e in items
    ]
    scalar_sides = len(items) == 2 and all(e is None or np.ndim(e) == 0 for e in items)
    if scalar_sides:  # (lo, hi) scalars: the same box on every coordinate (same meaning in both conventions)
        return _side(items[0], -np.inf), _side(items[1], np.inf)
    if all(is_pair) and len(items) != 2:  # scipy: d pairs, d != 2
        return _pairs(items)
    if len(items) == 2 and all(is_pair):  # 2 x 2: scipy's pairs at d = 2, or zoo's sides at d = 2
        if dim is not None and dim != 2:
            raise ValueError(f"bounds of shape (2, 2) do not fit dimension {dim}; {_FORMS}")
        lo, hi = _pairs(items)
        reading = "scipy's per-coordinate (lo, hi) pairs"
        zlo, zhi = _side(items[0], -np.inf), _side(items[1], np.inf)
        if np.any(lo > hi) and not np.any(zlo > zhi):  # the pairs are no box, zoo's sides are
            lo, hi, reading = zlo, zhi, "zoo's (lower, upper), as the pairs would have lo > hi"
        warnings.warn(
            f"bounds {items!r} at d=2 are ambiguous; read as {reading}: "
            f"x[0] in [{lo[0]}, {hi[0]}], x[1] in [{lo[1]}, {hi[1]}]. Pass scipy.optimize.Bounds(lower, upper) "
            "or {'lower': ..., 'upper': ...} to say which you mean (zoo's rule; see zoo.core.bounds)",
            AmbiguousBoundsWarning,
            stacklevel=3,
        )
        return lo, hi
    if len(items) == 2:  # zoo: (lower, upper) with array sides
        lo, hi = _side(items[0], -np.inf), _side(items[1], np.inf)
        if lo.ndim > 1 or hi.ndim > 1:
            raise TypeError(f"{_FORMS}; got sides of shapes {lo.shape} and {hi.shape}")
        return lo, hi
    raise TypeError(f"{_FORMS}; got a sequence of {len(items)} items that are not all (lo, hi) pairs")


def _pairs(items: list) -> tuple[np.ndarray, np.ndarray]:
    lo = _side([e[0] for e in items], -np.inf)
    hi = _side([e[1] for e in items], np.inf)
    return lo, hi
