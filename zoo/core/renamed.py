"""Option names renamed so that one thing has one spelling across methods; the old name warns once
(DeprecationWarning) and still works for one release.

The population size (points per ``ask``) is ``popsize`` everywhere: ``cbo`` and ``consensus-hopping`` called it
``n_particles``, ``rank-sgd`` ``m``, the nevergrad bridge ``num_workers``. So a wrapper (restarts, auto) sets the
population size of any method with the one name :data:`POPSIZE`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from zoo.core._deprecated import warn_once

POPSIZE = "popsize"


class RenamedOptions:
    """Mixin for a :class:`~zoo.core.method.Method`: ``renamed_options`` maps an old option name to the new one.
    Put it first in the bases."""

    renamed_options: ClassVar[dict[str, str]] = {}

    @classmethod
    def _make_params(cls, options: dict[str, Any]) -> Any:
        options = dict(options)
        for old, new in cls.renamed_options.items():
            if old not in options:
                continue
            if new in options:
                raise TypeError(f"{old}= and {new}= are one option of {cls.name!r}: pass {new}= only")
            warn_once(f"option {old}= of {cls.name!r}", f"{new}=", stacklevel=5)
            options[new] = options.pop(old)
        return super()._make_params(options)  # type: ignore[misc]
