"""Save and load a ``state_dict`` as one ``.npz`` file, without pickle.

Arrays are stored under their path in the tree (``state/x``); everything else (numbers, strings, None, the
128-bit integers of a PCG64 state) goes into a JSON skeleton stored as a string array.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def _split(obj: Any, path: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray):
        arrays[path] = obj
        return {"__array__": path}
    if isinstance(obj, dict):
        return {k: _split(v, f"{path}/{k}", arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split(v, f"{path}/{i}", arrays) for i, v in enumerate(obj)]
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"__float__": repr(obj)}
    if isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) >= 2**53:
        return {"__int__": str(obj)}
    return obj


def _join(obj: Any, arrays: Any) -> Any:
    if isinstance(obj, dict):
        if "__array__" in obj:
            return np.array(arrays[obj["__array__"]])
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__int__" in obj:
            return int(obj["__int__"])
        return {k: _join(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join(v, arrays) for v in obj]
    return obj


def save(path: str | Path, state_dict: dict[str, Any]) -> Path:
    """Write ``state_dict`` to ``path`` (``.npz``); the write is atomic (temp file, then rename)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    skeleton = _split(state_dict, "", arrays)
    named = {f"a{i}": a for i, a in enumerate(arrays.values())}
    index = {p: f"a{i}" for i, p in enumerate(arrays)}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, __skeleton__=np.array(json.dumps({"tree": skeleton, "index": index})), **named)
    tmp.replace(path)
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save`."""
    with np.load(Path(path), allow_pickle=False) as data:
        meta = json.loads(str(data["__skeleton__"]))
        arrays = {p: data[k] for p, k in meta["index"].items()}
        return _join(meta["tree"], arrays)
