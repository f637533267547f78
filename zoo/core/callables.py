"""``"module:function"`` / ``"path/to/file.py:function"``: a user's callable named on the command line or in a
session file (the objective of ``zoo minimize``, the problem or renderer of ``zoo rank``), loaded once, here.

Every failure is a ``ValueError`` that names the spec, so the CLI prints one line: no such file, a module that
cannot be imported, an import that raises, no callable of that name.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def load_callable(spec: str, what: str = "callable") -> Callable[..., Any]:
    """The callable ``spec`` names; ``what`` ("objective", "renderer") words the errors."""
    if not isinstance(spec, str) or ":" not in spec:
        raise ValueError(f"a {what} is given as module:function or path/to/file.py:function, got {spec!r}")
    where, name = spec.rsplit(":", 1)
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"no such file {where!r} for the {what} {spec!r}")
        mod_name = f"zoo_user_{path.stem}"
        loader_spec = importlib.util.spec_from_file_location(mod_name, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[mod_name] = module  # pickling finds its functions by name (forked workers inherit it)
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[mod_name]
            raise ValueError(f"{spec!r}: importing {where} raised {type(exc).__name__}: {exc}") from exc
    else:
        if "" not in sys.path and "." not in sys.path:
            sys.path.insert(0, "")  # the current directory, as `python -m` does
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise ValueError(f"cannot import module {where!r} for the {what} {spec!r}: {exc}") from exc
        except Exception as exc:
            raise ValueError(f"{spec!r}: importing {where} raised {type(exc).__name__}: {exc}") from exc
    fun = getattr(module, name, None)
    if not callable(fun):
        raise ValueError(f"{where!r} has no callable {name!r} (the {what} {spec!r})")
    return fun
