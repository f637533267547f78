"""Population methods on the ask/tell interface: CBO, consensus hopping, GA, random search, restarts, cma / nevergrad bridges.

Each module registers its methods on import; a module not built yet is skipped."""

from __future__ import annotations

import importlib

_MODULES = ("cbo", "hopping", "genetic", "random_search", "restarts", "bridges", "separable_step", "auto")

for _name in _MODULES:
    _full = f"{__name__}.{_name}"
    try:
        importlib.import_module(_full)
    except ModuleNotFoundError as _exc:
        if _exc.name != _full:
            raise
