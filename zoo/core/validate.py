"""Validation helpers: one place for the "must be an int >= k" and "must lie in (a, b]" checks.

Every method's ``Params.check`` and the public entry points call these, so a bad value always gets the same
kind of message: the name of the option, what was expected, and what was given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from zoo.core.arrays import F64

_INT_TYPES = (int, np.integer)
_REAL_TYPES = (int, float, np.integer, np.floating)


class OptionTypeError(TypeError, ValueError):
    """A value of the wrong type for an option (a float where an int is needed, a string for a number).
    A ``TypeError``, and also a ``ValueError`` so that code catching bad option values with ``ValueError``
    (the convention before these helpers) still catches it."""


def check_int(
    value: Any,
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    *,
    none_ok: bool = False,
    why: str = "",
) -> int | None:
    """``value`` as an int in ``[minimum, maximum]``: :class:`OptionTypeError` for a non-int (bool and float
    included), ``ValueError`` naming ``name`` for an int out of range. ``why`` is appended to the message."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, _INT_TYPES):
        raise OptionTypeError(f"{name} must be {_int_wanted(minimum, maximum, none_ok)}{why}, got {value!r}")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        if minimum is not None and maximum is not None:
            rng = f"in [{minimum}, {maximum}]"
        elif minimum == 1:
            rng = "a positive int"
        elif minimum is not None:
            rng = f">= {minimum}"
        else:
            rng = f"<= {maximum}"
        raise ValueError(f"{name} must be {rng}{why}, got {v!r}")
    return v


def check_count(value: Any, name: str, *, none_ok: bool = False) -> int | None:
    """A positive count such as a budget: an int >= 1, or an integral float (``1e4``); inf is not a count."""
    if value is None and none_ok:
        return None
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    return check_int(value, name, 1, none_ok=none_ok)


def check_real(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    none_ok: bool = False,
) -> float | None:
    """``value`` as a float in the interval (open or closed at each end); NaN is never accepted."""
    if value is None and none_ok:
        return None
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
    if low is not None and high is not None:
        want = f"a number in {lo_b}{low}, {high}{hi_b}"
    elif low is not None:
        want = f"a {'finite ' if finite else ''}number {'>' if low_open else '>='} {low}"
    elif high is not None:
        want = f"a {'finite ' if finite else ''}number {'<' if high_open else '<='} {high}"
    else:
        want = "a finite number" if finite else "a number"
    if none_ok:
        want += " or None"
    if isinstance(value, bool) or not isinstance(value, _REAL_TYPES):
        raise OptionTypeError(f"{name} must be {want}, got {value!r}")
    v = float(value)
    bad = math.isnan(v) or (finite and math.isinf(v))
    if low is not None:
        bad = bad or v < low or (low_open and v == low)
    if high is not None:
        bad = bad or v > high or (high_open and v == high)
    if bad:
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return v


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``; else a ``ValueError`` listing them."""
    choices = tuple(choices)
    if not any(value == c and type(value) is type(c) for c in choices):
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {shown}; got {value!r}")
    return value


def check_type(
    value: Any, name: str, types: type | tuple[type, ...], what: str, *, none_ok: bool = False
) -> Any:
    """``value`` if it is an instance of ``types`` (or None when allowed); else ``TypeError`` saying ``what``."""
    if (value is None and none_ok) or isinstance(value, types):
        return value
    raise TypeError(f"{name} must be {what}, got {type(value).__name__}")


def as_point(x0: Any, name: str = "x0") -> np.ndarray:
    """Validate a starting point: a finite 1-D float64 array with at least one coordinate."""
    if np.iscomplexobj(x0):
        raise TypeError(f"{name} must be real; got complex numbers")
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(x0).__name__}") from exc
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (d,), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must have at least one coordinate (dimension 0 given)")
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x))[:5].tolist()
        raise ValueError(f"{name} must be finite; non-finite at coordinates {bad}")
    return x


def as_bounds(bounds: Any, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Validate ``(lower, upper)``: scalars or arrays of shape ``(d,)``, ``lower <= upper``, no NaN.

    Also accepted: a sequence of ``d`` ``(lo, hi)`` pairs and anything with ``.lb`` / ``.ub``
    (``scipy.optimize.Bounds``)."""
    if bounds is None:
        return None
    lower, upper = split_bounds(bounds)
    lo = _bound_side(lower, "lower", dim)
    hi = _bound_side(upper, "upper", dim)
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("bounds must not contain NaN")
    if np.any(lo > hi):
        bad = np.flatnonzero(lo > hi)[:5].tolist()
        raise ValueError(f"bounds must satisfy lower <= upper; lower > upper at coordinates {bad}")
    return lo, hi


def split_bounds(bounds: Any) -> tuple[Any, Any]:
    """``(lower, upper)`` from a pair, a sequence of ``(lo, hi)`` pairs, or a ``scipy.optimize.Bounds``."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        return bounds.lb, bounds.ub
    if isinstance(bounds, (str, bytes, dict)):
        raise TypeError("bounds must be a pair (lower, upper) of scalars or arrays of shape (d,)")
    try:
        items = list(bounds)
    except TypeError as exc:
        raise TypeError("bounds must be a pair (lower, upper) of scalars or arrays of shape (d,)") from exc
    if len(items) != 2 and items and all(np.ndim(b) == 1 and np.size(b) == 2 for b in items):
        arr = np.asarray(items, dtype=np.float64)  # d pairs (lo, hi), as scipy.optimize.minimize takes them
        return arr[:, 0], arr[:, 1]
    if len(items) != 2:
        raise TypeError(
            f"bounds must be a pair (lower, upper) of scalars or arrays of shape (d,), got {len(items)} items"
        )
    return items[0], items[1]


def _bound_side(side: Any, which: str, dim: int) -> np.ndarray:
    if np.iscomplexobj(side):
        raise TypeError(f"bounds ({which}) must be real numbers; got complex")
    try:
        arr = np.asarray(side, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"bounds ({which}) must be a number or an array of shape ({dim},)") from exc
    if arr.ndim > 1 or (arr.ndim == 1 and arr.size not in (1, dim)):
        raise ValueError(
            f"bounds ({which}) must be a scalar or have shape ({dim},) to match x0 of dimension {dim}, "
            f"got shape {arr.shape}"
        )
    return np.broadcast_to(arr.reshape(-1) if arr.ndim else arr, (dim,)).copy()


def _int_wanted(minimum: int | None, maximum: int | None, none_ok: bool) -> str:
    if minimum is not None and maximum is not None:
        want = f"an int in [{minimum}, {maximum}]"
    elif minimum == 1:
        want = "a positive int"
    elif minimum == 0:
        want = "an int >= 0"
    elif minimum is not None:
        want = f"an int >= {minimum}"
    elif maximum is not None:
        want = f"an int <= {maximum}"
    else:
        want = "an int"
    return want + (" or None" if none_ok else "")


def as_values(values: Any, n: int, what: str = "values") -> np.ndarray:
    """Objective values of a batch of ``n`` points as float64 ``(n,)``.

    Real numbers only: complex values, None, strings or dicts raise ``TypeError`` naming ``what`` (a
    forgotten ``return`` shows up as None, never as a silent NaN). An int too large for float64 (``10**400``)
    becomes ``+inf`` / ``-inf`` by its sign, so it is counted as non-finite and ranks worst. A column
    ``(n, 1)`` or a row ``(1, n)`` is accepted as ``(n,)``."""
    if type(values) is np.ndarray and values.shape == (n,):
        dt = values.dtype
        if dt is F64:
            return (
                values  # what as_real returns for it (astype(copy=False) is the array itself), 0.5 us sooner
            )
        if dt == F64:
            # float64 under another dtype object (a Numba kernel's result, e.g. zoo.functions): the same memory
            # viewed with the cached dtype, which the per-step fast paths (all_finite, ...) compare by identity
            return values.view(F64)
    arr = as_real(values, what)
    if arr.shape != (n,):
        if arr.size == n and arr.ndim == 2 and 1 in arr.shape:
            return arr.reshape(n)
        raise ValueError(f"{what} must have shape ({n},) for a batch of {n} points, got {arr.shape}")
    return arr


def as_real(values: Any, what: str) -> np.ndarray:
    """``values`` as a float64 array of any shape, by the rules of :func:`as_values`."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(np.float64, copy=False)
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{what} must be real numbers, got {type(values).__name__} ({exc})") from exc
    kind = arr.dtype.kind
    if kind in "fiub":
        return arr.astype(np.float64, copy=False)
    if kind == "c":
        raise TypeError(f"{what} must be real numbers, got complex (take .real or abs() explicitly)")
    if kind == "O":
        return np.array([_real_item(v, what) for v in arr.reshape(-1)], dtype=np.float64).reshape(arr.shape)
    raise TypeError(f"{what} must be real numbers, got {_describe(values)}")


def _real_item(v: Any, what: str) -> float:
    if v is None or isinstance(v, (str, bytes, dict, complex)):
        hint = " (a missing return statement?)" if v is None else ""
        raise TypeError(f"{what} must be real numbers, got {_describe(v)}{hint}")
    if isinstance(v, (int, np.integer)):
        try:
            return float(v)
        except OverflowError:
            return math.inf if v > 0 else -math.inf  # beyond float64: counted as non-finite, ranks worst
    if isinstance(v, (float, np.floating)):
        return float(v)
    if np.iscomplexobj(v):
        raise TypeError(f"{what} must be real numbers, got complex (take .real or abs() explicitly)")
    try:
        return float(np.asarray(v, dtype=np.float64).reshape(()))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} must be real numbers, got {_describe(v)}") from exc


def _describe(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, np.ndarray):
        return f"an array of dtype {v.dtype}"
    return f"{type(v).__name__} {v!r}"[:80]
