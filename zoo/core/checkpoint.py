"""Save and load a ``state_dict`` as one ``.npz`` file, without pickle.

Arrays are stored under their path in the tree (``state/x``); everything else (numbers, strings, None, the
128-bit integers of a PCG64 state) goes into a JSON skeleton stored as a string array.

A file that is not such a checkpoint (another format, truncated, damaged) raises :class:`CheckpointError`,
a ``ValueError`` naming the file, never a raw zip / EOF / CRC error.
"""

from __future__ import annotations

import json
import zipfile
import zlib
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


class CheckpointError(ValueError):
    """The file is not a zoo checkpoint, or it is truncated or damaged."""


def load(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save`; :class:`CheckpointError` if it is not one (or is damaged)."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a .npz file")
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint file {path}")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        what = "empty" if not magic else "not a .npz (zip) file"
        raise CheckpointError(f"checkpoint {path} is {what}: not a zoo checkpoint")
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()  # numpy reads only the bytes it needs, so a flipped byte would load silently
        if bad is not None:
            raise CheckpointError(
                f"checkpoint {path} is damaged (CRC error in {bad}); resume from an earlier copy"
            )
        with np.load(path, allow_pickle=False) as data:
            if "__skeleton__" not in data.files:
                raise CheckpointError(
                    f"{path} is a .npz file but not a zoo checkpoint (no __skeleton__ entry)"
                )
            meta = json.loads(str(data["__skeleton__"]))
            arrays = {p: data[k] for p, k in meta["index"].items()}
            return _join(meta["tree"], arrays)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError, TypeError) as exc:
        # ValueError covers json.JSONDecodeError and numpy's "cannot reshape" on a truncated array
        raise CheckpointError(
            f"checkpoint {path} is truncated or damaged ({type(exc).__name__}: {exc}); "
            "resume from an earlier copy or start again"
        ) from exc
