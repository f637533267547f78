"""Turning a method's ``Params`` / ``State`` into plain trees (dicts, lists, arrays, numbers) and back.

``state_dict()`` is built from these, so it holds no pickled object; :mod:`zoo.core.checkpoint` writes the
trees to ``.npz``. :func:`tree_equal` compares two trees (arrays by value, lists and tuples alike), which
``load_state_dict`` uses to refuse a state saved with other hyper-parameters.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def state_to_dict(state: Any) -> dict[str, Any]:
    """The fields of a State dataclass (or a dict) as a dict, not copied."""
    if dataclasses.is_dataclass(state):
        return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    if isinstance(state, dict):
        return dict(state)
    raise TypeError(f"State must be a dataclass or dict, got {type(state).__name__}")


def plain(obj: Any) -> Any:
    """Copy a tree of dicts/lists/arrays/numbers into plain containers (arrays copied)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if dataclasses.is_dataclass(obj):
        return {"__type__": type(obj).__name__, **plain(dataclasses.asdict(obj))}
    if callable(obj):
        return getattr(obj, "__qualname__", repr(obj))
    return repr(obj)


def copy_tree(obj: Any) -> Any:
    """A deep copy of a plain tree (arrays copied, numbers and strings shared)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: copy_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [copy_tree(v) for v in obj]
    return obj


def tree_equal(a: Any, b: Any) -> bool:
    """Whether two plain trees hold the same values (arrays by value, NaN equal to NaN)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(tree_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
        except TypeError:
            return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(b, (list, tuple))
            and len(a) == len(b)
            and all(tree_equal(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def tree_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The top-level keys whose values differ between two plain dicts (for error messages)."""
    return sorted(k for k in set(a) | set(b) if k not in a or k not in b or not tree_equal(a[k], b[k]))
