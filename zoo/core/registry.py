"""Name -> method class. Read by ``zoo.make``, ``zoo.minimize``, the CLI and the conformance tests.

A method registers itself with the ``@register("name")`` decorator in its own module; the modules are
imported by ``zoo/__init__.py`` so that ``zoo.methods()`` is complete after ``import zoo``.
Bridges to other libraries (``cma``, ``ng:<Name>``) register a *factory* for a prefix instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_METHODS: dict[str, type] = {}
_PREFIXES: dict[str, Callable[[str], type]] = {}


def register(name: str, *aliases: str) -> Callable[[type], type]:
    """Class decorator: make ``cls`` available as ``zoo.make(name)``."""

    def deco(cls: type) -> type:
        for key in (name, *aliases):
            if key in _METHODS and _METHODS[key] is not cls:
                raise ValueError(f"method name {key!r} is already registered by {_METHODS[key].__name__}")
            _METHODS[key] = cls
        cls.name = name
        return cls

    return deco


def register_prefix(prefix: str, factory: Callable[[str], type]) -> None:
    """Names of the form ``prefix:Something`` resolve through ``factory("Something")``."""
    _PREFIXES[prefix] = factory


def methods() -> list[str]:
    """The registered method names (aliases included), sorted."""
    return sorted(_METHODS)


def get(name: str) -> type:
    """The class registered as ``name``; a clear error naming the choices otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"method must be a registered name (str), got {type(name).__name__}")
    if name in _METHODS:
        return _METHODS[name]
    if ":" in name:
        prefix, rest = name.split(":", 1)
        if prefix in _PREFIXES:
            return _PREFIXES[prefix](rest)
    raise ValueError(f"unknown method {name!r}; registered methods: {', '.join(methods())}")


def make(name: str, x0: Any = None, **kwargs: Any):
    """Build the method registered as ``name``: ``zoo.make("rge", x0=x0, seed=0, q=4)``."""
    return get(name)(x0, **kwargs)
