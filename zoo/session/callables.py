"""``"module:function"`` / ``"file.py:function"`` specs of the session's renderers and problems (used by
:mod:`zoo.session.session` and :mod:`zoo.session.problems`, which import it from here); the loading itself is
:func:`zoo.core.callables.load_callable`, the one the objective of ``zoo minimize`` uses too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zoo.core import callables


def load_callable(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` or ``"path/to/file.py:function"``."""
    return callables.load_callable(spec, "renderer")
