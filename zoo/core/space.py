"""Search spaces: real (bounds, log scale), integer and categorical variables, nested by name.

    space = zoo.space.Space({"lr": zoo.space.Real(1e-5, 1e-1, log=True),
                             "layers": zoo.space.Integer(1, 8),
                             "act": zoo.space.Categorical(["relu", "tanh"]),
                             "opt": {"momentum": zoo.space.Real(0.0, 0.99)}})
    res = zoo.minimize(fun, method="ga", space=space, budget=500, seed=0)
    res.x  # {"lr": 0.0031, "layers": 3, "act": "tanh", "opt": {"momentum": 0.9}}

A space given as a list of variables is positional (``res.x`` is a list); a dict is named (``res.x`` is a
dict, nested dicts stay nested). The objective receives one point in these types.

Encodings (what a method optimizes; one coordinate per variable, in the order of the space):

- ``"unit"`` (every method but the cma and nevergrad bridges): each coordinate in ``[0, 1]``.
  Real: ``z = (x - lo) / (hi - lo)``, or ``(ln x - ln lo) / (ln hi - ln lo)`` with ``log=True``.
  Integer with ``n = hi - lo + 1`` levels and categorical with ``n`` choices: ``n`` equal bins,
  ``level = min(floor(z n), n - 1)``; a level encodes as its bin centre ``(level + 1/2) / n``.
  The GA (``ga``) mutates integer and categorical genes natively on these bins (see
  :mod:`zoo.population.genetic`).
- ``"index"`` (the ``cma`` bridge): reals as in ``"unit"``; integer and categorical coordinates are the level
  index ``0 .. n - 1`` itself, listed in pycma's ``integer_variables`` (pycma rounds them and keeps their
  step size from vanishing) with ``CMA_stds`` set to the index range.
- nevergrad (``ng:*``): the space becomes nevergrad's own parametrization (``ng.p.Scalar``, ``ng.p.Log``,
  integer ``Scalar.set_integer_casting()``, ``ng.p.Choice``) and zoo sees the ``"unit"`` code of its points.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


def _number(v: Any, what: str) -> float:
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float, np.integer, np.floating))
        or not math.isfinite(v)
    ):
        raise ValueError(f"{what} must be a finite number, got {v!r}")
    return float(v)


@dataclasses.dataclass(frozen=True)
class Real:
    """A real variable in ``[lower, upper]``; ``log=True`` searches ``ln x`` uniformly (needs ``lower > 0``)."""

    lower: float
    upper: float
    log: bool = False

    def __post_init__(self) -> None:
        lo, hi = _number(self.lower, "Real lower bound"), _number(self.upper, "Real upper bound")
        if lo > hi:
            raise ValueError(f"Real variable needs lower <= upper, got lower={lo} > upper={hi}")
        if self.log and lo <= 0:
            raise ValueError(f"Real(log=True) needs a positive lower bound (ln x), got lower={lo}")

    n_levels = 0

    def decode(self, z: float) -> float:
        lo, hi = float(self.lower), float(self.upper)
        z = min(max(float(z), 0.0), 1.0)
        if self.log:
            return float(math.exp(math.log(lo) + z * (math.log(hi) - math.log(lo))))
        return lo + z * (hi - lo)

    def encode(self, x: Any) -> float:
        lo, hi = float(self.lower), float(self.upper)
        x = _number(x, "a Real value")
        if hi == lo:
            return 0.5
        if self.log:
            if x <= 0:
                raise ValueError(f"a log-scale value must be > 0, got {x}")
            return (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (x - lo) / (hi - lo)

    def spec(self) -> dict:
        return {"type": "real", "lower": float(self.lower), "upper": float(self.upper), "log": bool(self.log)}


@dataclasses.dataclass(frozen=True)
class Integer:
    """An integer variable in ``{lower, ..., upper}`` (both included)."""

    lower: int
    upper: int

    def __post_init__(self) -> None:
        for v, what in ((self.lower, "lower"), (self.upper, "upper")):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"Integer {what} bound must be an int, got {v!r}")
        if self.lower > self.upper:
            raise ValueError(
                f"Integer variable needs lower <= upper, got lower={self.lower} > upper={self.upper}"
            )

    @property
    def n_levels(self) -> int:
        return int(self.upper) - int(self.lower) + 1

    def level(self, value: Any) -> int:
        if isinstance(value, bool) or int(value) != value or not self.lower <= value <= self.upper:
            raise ValueError(f"{value!r} is not an int in [{self.lower}, {self.upper}]")
        return int(value) - int(self.lower)

    def value(self, level: int) -> int:
        return int(self.lower) + int(level)

    def spec(self) -> dict:
        return {"type": "integer", "lower": int(self.lower), "upper": int(self.upper)}


@dataclasses.dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (any values; compared by equality). Unordered: the GA resamples it, never steps it."""

    choices: tuple

    def __post_init__(self) -> None:
        if isinstance(self.choices, (str, bytes)) or not hasattr(self.choices, "__iter__"):
            raise ValueError(f"Categorical needs a list of choices, got {self.choices!r}")
        object.__setattr__(self, "choices", tuple(self.choices))
        if len(self.choices) == 0:
            raise ValueError("Categorical needs at least one choice, got an empty list")

    @property
    def n_levels(self) -> int:
        return len(self.choices)

    def level(self, value: Any) -> int:
        for i, c in enumerate(self.choices):
            if c == value:
                return i
        raise ValueError(f"{value!r} is not one of the choices {list(self.choices)}")

    def value(self, level: int) -> Any:
        return self.choices[int(level)]

    def spec(self) -> dict:
        return {"type": "categorical", "choices": list(self.choices)}


Variable = Real | Integer | Categorical
_TYPES = {"real": Real, "integer": Integer, "categorical": Categorical}


class Space:
    """A search space: a list of variables (positional) or a dict of them (named; nested dicts allowed)."""

    def __init__(self, variables: Any) -> None:
        self.named = isinstance(variables, dict)
        self.names: list[tuple] = []  # the path of each variable (a tuple of keys, or (index,))
        self.variables: list[Variable] = []
        if self.named:
            self._flatten(variables, ())
        elif isinstance(variables, (list, tuple)):
            for i, v in enumerate(variables):
                self.names.append((i,))
                self.variables.append(_check_variable(v, str(i)))
        else:
            raise TypeError(
                f"a space is a dict (named) or a list of variables, got {type(variables).__name__}"
            )
        if not self.variables:
            raise ValueError("a space needs at least one variable")
        self._tree = variables

    def _flatten(self, tree: dict, prefix: tuple) -> None:
        if not tree:
            raise ValueError(f"an empty group {'.'.join(map(str, prefix)) or '(root)'} in the space")
        for k, v in tree.items():
            if not isinstance(k, str):
                raise TypeError(f"space names must be str, got {k!r}")
            if isinstance(v, dict):
                self._flatten(v, (*prefix, k))
            else:
                self.names.append((*prefix, k))
                self.variables.append(_check_variable(v, ".".join((*prefix, k))))

    @property
    def dim(self) -> int:
        return len(self.variables)

    # ------------------------------------------------------------------ encodings
    def bounds(self, encoding: str = "unit") -> tuple[np.ndarray, np.ndarray]:
        lo = np.zeros(self.dim)
        hi = np.ones(self.dim)
        if encoding == "index":
            for i, v in enumerate(self.variables):
                if v.n_levels:
                    hi[i] = v.n_levels - 1
        return lo, hi

    def discrete(self) -> list[list[int]]:
        """``[[coordinate, n_levels, is_categorical], ...]`` for the integer and categorical variables."""
        return [
            [i, v.n_levels, int(isinstance(v, Categorical))]
            for i, v in enumerate(self.variables)
            if v.n_levels
        ]

    def decode(self, z: Any, encoding: str = "unit") -> Any:
        """The point (user's types; a dict when named) of one encoded row ``z``."""
        z = np.asarray(z, dtype=np.float64).reshape(-1)
        if z.size != self.dim:
            raise ValueError(f"an encoded point of this space has {self.dim} coordinates, got {z.size}")
        values = []
        for zi, v in zip(z, self.variables):
            if not v.n_levels:
                values.append(v.decode(zi))
                continue
            if encoding == "index":
                level = int(np.clip(np.rint(zi), 0, v.n_levels - 1))
            else:
                level = int(min(max(math.floor(float(zi) * v.n_levels), 0), v.n_levels - 1))
            values.append(v.value(level))
        return self._assemble(values)

    def encode(self, point: Any, encoding: str = "unit") -> np.ndarray:
        """The encoded row of a point given in the user's types (dict when named, else a sequence)."""
        values = self._values(point)
        z = np.empty(self.dim)
        for i, (x, v) in enumerate(zip(values, self.variables)):
            if not v.n_levels:
                z[i] = v.encode(x)
                if not -1e-9 <= z[i] <= 1.0 + 1e-9:  # tolerance: a log round trip is not exact
                    raise ValueError(f"{x!r} lies outside [{v.lower}, {v.upper}] of variable {self._name(i)}")
                z[i] = min(max(z[i], 0.0), 1.0)
            else:
                level = v.level(x)
                z[i] = level if encoding == "index" else (level + 0.5) / v.n_levels
        return z

    def center(self, encoding: str = "unit") -> np.ndarray:
        lo, hi = self.bounds(encoding)
        z = 0.5 * (lo + hi)
        return z if encoding != "index" else np.where(hi > 0, np.floor(z), z)

    def _name(self, i: int) -> str:
        return ".".join(map(str, self.names[i]))

    def _values(self, point: Any) -> list:
        if self.named:
            if not isinstance(point, dict):
                raise TypeError(f"a point of a named space is a dict, got {type(point).__name__}")
            out = []
            for path in self.names:
                node = point
                for k in path:
                    if not isinstance(node, dict) or k not in node:
                        raise ValueError(f"the point has no value for {'.'.join(path)}")
                    node = node[k]
                out.append(node)
            return out
        values = list(point)
        if len(values) != self.dim:
            raise ValueError(f"a point of this space has {self.dim} values, got {len(values)}")
        return values

    def _assemble(self, values: list) -> Any:
        if not self.named:
            return values
        out: dict = {}
        for path, v in zip(self.names, values):
            node = out
            for k in path[:-1]:
                node = node.setdefault(k, {})
            node[path[-1]] = v
        return out

    # ------------------------------------------------------------------ plain form (JSON, CLI --space)
    def spec(self) -> Any:
        """A JSON-able form (``Space.from_spec`` reads it back); also the format of ``zoo minimize --space``."""

        def walk(tree: Any) -> Any:
            if isinstance(tree, dict):
                return {k: walk(v) for k, v in tree.items()}
            return _check_variable(tree, "").spec()

        if self.named:
            return walk(self._tree)
        return [v.spec() for v in self.variables]

    @classmethod
    def from_spec(cls, spec: Any) -> Space:
        def var(d: Any, where: str) -> Any:
            if isinstance(d, dict) and "type" in d and not isinstance(d["type"], dict):
                kind = d["type"]
                if kind not in _TYPES:
                    raise ValueError(f"variable {where}: type must be one of {sorted(_TYPES)}, got {kind!r}")
                kw = {k: v for k, v in d.items() if k != "type"}
                try:
                    return _TYPES[kind](**kw)
                except TypeError as exc:
                    raise ValueError(f"variable {where}: {exc}") from exc
            if isinstance(d, dict):
                return {k: var(v, f"{where}.{k}".lstrip(".")) for k, v in d.items()}
            raise ValueError(
                f"variable {where}: expected {{'type': 'real'|'integer'|'categorical', ...}}, got {d!r}"
            )

        if isinstance(spec, list):
            return cls([var(d, str(i)) for i, d in enumerate(spec)])
        if isinstance(spec, dict):
            return cls(var(spec, ""))
        raise TypeError(f"a space spec is a list or a dict, got {type(spec).__name__}")

    def __repr__(self) -> str:
        return f"Space({self.spec()!r})"


def _check_variable(v: Any, where: str) -> Variable:
    if isinstance(v, (Real, Integer, Categorical)):
        return v
    raise TypeError(
        f"space variable {where or '?'} must be Real, Integer or Categorical, got {type(v).__name__}"
    )


def as_space(space: Any) -> Space | None:
    """A :class:`Space` from a Space, a dict / list of variables, or None."""
    if space is None or isinstance(space, Space):
        return space
    return Space(space)


def nevergrad_parametrization(space: Space) -> Any:
    """nevergrad's parametrization of ``space``: ``Scalar`` / ``Log`` for reals, an integer-cast ``Scalar``
    for integers, ``Choice`` for categoricals; ``ng.p.Dict`` (nested) when named, else ``ng.p.Tuple``."""
    import nevergrad as ng

    def one(v: Variable) -> Any:
        if isinstance(v, Real):
            if v.log:
                return ng.p.Log(lower=float(v.lower), upper=float(v.upper))
            return ng.p.Scalar(lower=float(v.lower), upper=float(v.upper))
        if isinstance(v, Integer):
            return ng.p.Scalar(lower=int(v.lower), upper=int(v.upper)).set_integer_casting()
        return ng.p.Choice(list(v.choices))

    def walk(tree: Any) -> Any:
        if isinstance(tree, dict):
            return ng.p.Dict(**{k: walk(t) for k, t in tree.items()})
        return one(tree)

    if space.named:
        return walk(space._tree)
    return ng.p.Tuple(*[one(v) for v in space.variables])
