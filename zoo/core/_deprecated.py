"""Old names kept for one release: each warns once (DeprecationWarning) and then works as the new one."""

from __future__ import annotations

import importlib
import warnings
from typing import Any

_warned: set[str] = set()


def warn_once(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``, the first time only."""
    if old in _warned:
        return
    _warned.add(old)
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def moved(module: str, table: dict[str, str]) -> Any:
    """A module ``__getattr__`` for names that moved: ``table`` maps the old name to ``"new.module:Name"``."""

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        mod, _, attr = target.partition(":")
        warn_once(f"{module}.{name}", f"{mod}.{attr}")
        return getattr(importlib.import_module(mod), attr)

    return __getattr__
