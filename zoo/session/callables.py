"""``"module:function"`` / ``"file.py:function"`` specs of the session's renderers and problems, loaded into a
callable (used by :mod:`zoo.session.session` and :mod:`zoo.session.problems`, which import it from here)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def load_callable(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` or ``"path/to/file.py:function"``."""
    if ":" not in spec:
        raise ValueError(f"a renderer is given as module:function or file.py:function, got {spec!r}")
    mod_name, fn_name = spec.rsplit(":", 1)
    if mod_name.endswith(".py"):
        path = Path(mod_name)
        if not path.exists():
            raise ValueError(f"renderer file {mod_name!r} does not exist")
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            raise ValueError(f"{spec!r}: importing {mod_name} raised {type(exc).__name__}: {exc}") from exc
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")  # let a person name a module in the current folder
        try:
            module = importlib.import_module(mod_name)
        except ImportError:
            raise
        except Exception as exc:
            raise ValueError(f"{spec!r}: importing {mod_name} raised {type(exc).__name__}: {exc}") from exc
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise ValueError(f"{spec!r}: {mod_name} has no function {fn_name!r}")
    return fn
