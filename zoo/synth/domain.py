"""Mixed-type tables: the domain (public schema) and the one encoding every part of ``zoo.synth`` works on.

A :class:`Domain` is a list of attributes, each

- categorical, with a finite list of values ``c_0 .. c_{k-1}`` (encoded as the code ``j`` of ``c_j``), or
- numeric, with bounds ``[lo, hi]`` (encoded as ``(x - lo) / (hi - lo)`` in ``[0, 1]``).

A table of ``n`` records is encoded once into a float64 matrix ``(n, m)`` (codes are small exact integers),
the form the statistical queries, the Numba kernels and the record GA all read.

Privacy note. Differential privacy protects the *records*; the domain is assumed public. A domain inferred
from the private table (:meth:`Domain.infer`) reveals its categories and its min / max, so for a formal
guarantee pass a domain fixed in advance (``Domain.from_spec``, or ``--domain spec.json`` on the CLI).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One column: ``kind`` is ``"categorical"`` (with ``values``) or ``"numeric"`` (with ``lo``, ``hi``)."""

    name: str
    kind: str
    values: tuple = ()
    lo: float = 0.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        if self.kind == "categorical":
            if len(self.values) < 1:
                raise ValueError(f"categorical attribute {self.name!r} needs at least one value")
            if len(set(self.values)) != len(self.values):
                raise ValueError(f"categorical attribute {self.name!r} lists a value twice: {self.values}")
        elif self.kind == "numeric":
            if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or not self.lo < self.hi:
                raise ValueError(
                    f"numeric attribute {self.name!r} needs finite bounds lo < hi, got [{self.lo}, {self.hi}]"
                )
        else:
            raise ValueError(
                f"attribute {self.name!r}: kind must be 'categorical' or 'numeric', got {self.kind!r}"
            )

    @property
    def size(self) -> int:
        """Number of categories (0 for a numeric attribute)."""
        return len(self.values) if self.kind == "categorical" else 0

    def to_spec(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"name": self.name, "kind": "categorical", "values": [_plain(v) for v in self.values]}
        return {"name": self.name, "kind": "numeric", "lo": self.lo, "hi": self.hi}


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class Domain:
    """The public schema of a table: an ordered list of :class:`Attribute`."""

    def __init__(self, attributes: Sequence[Attribute]) -> None:
        self.attributes = tuple(attributes)
        if not self.attributes:
            raise ValueError("a domain needs at least one attribute")
        names = [a.name for a in self.attributes]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"attribute names must be unique; repeated: {dup}")
        self.names = tuple(names)
        self._index = {n: i for i, n in enumerate(names)}
        #: categories per column, 0 for numeric columns (the kernels' view of the domain)
        self.sizes = np.array([a.size for a in self.attributes], dtype=np.int64)

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_spec(cls, spec: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> Domain:
        """From ``[{"name": "age", "kind": "numeric", "lo": 17, "hi": 90}, {"name": "sex", "values": [...]}]``
        (a list, or a dict name -> spec); ``kind`` may be left out (values -> categorical, lo/hi -> numeric)."""
        if isinstance(spec, Mapping):
            spec = [{"name": k, **v} for k, v in spec.items()]
        attrs = []
        for item in spec:
            item = dict(item)
            kind = item.get("kind") or ("categorical" if "values" in item else "numeric")
            if kind == "categorical":
                attrs.append(Attribute(str(item["name"]), kind, values=tuple(item["values"])))
            else:
                attrs.append(Attribute(str(item["name"]), kind, lo=float(item["lo"]), hi=float(item["hi"])))
        return cls(attrs)

    @classmethod
    def load(cls, path: str) -> Domain:
        with open(path) as fh:
            return cls.from_spec(json.load(fh))

    def to_spec(self) -> list[dict[str, Any]]:
        return [a.to_spec() for a in self.attributes]

    @classmethod
    def infer(cls, df: Any, categorical: Sequence[str] | None = None, max_categories: int = 32) -> Domain:
        """A domain read off a DataFrame (NOT private: see the module note).

        Numbers are numeric (bounds = min / max) unless named in ``categorical`` or integer-valued with at
        most ``max_categories`` distinct values; strings, booleans and pandas categories are categorical.
        """
        categorical = set(categorical or ())
        missing = sorted(categorical - set(map(str, df.columns)))
        if missing:
            raise ValueError(f"categorical= names columns that are not in the table: {missing}")
        attrs = []
        for name in df.columns:
            col = df[name]
            kind = _column_kind(str(name), col)
            if kind == "numeric" and str(name) not in categorical:
                x = col.to_numpy(dtype=np.float64)
                if np.isnan(x).any():
                    raise ValueError(f"numeric column {name!r} contains NaN; drop or impute those rows first")
                uniq = np.unique(x)
                if np.all(uniq == np.round(uniq)) and uniq.size <= max_categories:
                    attrs.append(Attribute(str(name), "categorical", values=tuple(_plain(v) for v in uniq)))
                    continue
                lo, hi = float(x.min()), float(x.max())
                attrs.append(Attribute(str(name), "numeric", lo=lo, hi=hi if hi > lo else lo + 1.0))
            else:
                vals = col.dropna().unique().tolist() if col.isna().any() else col.unique().tolist()
                if col.isna().any():
                    raise ValueError(f"categorical column {name!r} contains missing values")
                attrs.append(Attribute(str(name), "categorical", values=tuple(sorted(vals, key=_sort_key))))
        return cls(attrs)

    # ---------------------------------------------------------------- views
    def __len__(self) -> int:
        return len(self.attributes)

    def __getitem__(self, name: str) -> Attribute:
        return self.attributes[self.index(name)]

    def index(self, name: str) -> int:
        """Column index of ``name``; a clear error naming the known columns otherwise."""
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"no column {name!r} in the domain; columns: {list(self.names)}") from None

    @property
    def categorical(self) -> list[str]:
        return [a.name for a in self.attributes if a.kind == "categorical"]

    @property
    def numeric(self) -> list[str]:
        return [a.name for a in self.attributes if a.kind == "numeric"]

    def __repr__(self) -> str:
        parts = [f"{a.name}[{a.size}]" if a.size else f"{a.name}[{a.lo:g},{a.hi:g}]" for a in self.attributes]
        return f"Domain({', '.join(parts)})"

    # ---------------------------------------------------------------- encoding
    def encode(self, df: Any) -> np.ndarray:
        """The table as float64 ``(n, m)``: category codes and numeric values scaled into ``[0, 1]``.

        Errors name the column: a missing column, a value outside the domain, NaN in a numeric column,
        a column mixing types.
        """
        import pandas as pd

        if isinstance(df, np.ndarray):
            if df.ndim != 2 or df.shape[1] != len(self):
                raise ValueError(f"an array table must have shape (n, {len(self)}), got {df.shape}")
            df = pd.DataFrame(df, columns=list(self.names))
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"expected a pandas DataFrame or a 2-D numpy array, got {type(df).__name__}")
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise ValueError(f"the table lacks the domain's column(s) {missing}; it has {list(df.columns)}")
        if len(df) == 0:
            raise ValueError("the table has no rows")
        out = np.empty((len(df), len(self)), dtype=np.float64)
        for j, a in enumerate(self.attributes):
            col = df[a.name]
            if a.kind == "numeric":
                if _column_kind(a.name, col) != "numeric":
                    raise TypeError(f"numeric column {a.name!r} holds non-numbers (dtype {col.dtype})")
                x = col.to_numpy(dtype=np.float64)
                if np.isnan(x).any():
                    rows = np.flatnonzero(np.isnan(x))[:5].tolist()
                    raise ValueError(f"numeric column {a.name!r} contains NaN (rows {rows})")
                bad = (x < a.lo) | (x > a.hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise ValueError(
                        f"column {a.name!r}: value {x[i]!r} (row {i}) is outside the domain [{a.lo}, {a.hi}]"
                    )
                out[:, j] = (x - a.lo) / (a.hi - a.lo)
            else:
                _column_kind(a.name, col)  # raises on mixed types
                lookup = {_key(v): k for k, v in enumerate(a.values)}
                codes = np.empty(len(col), dtype=np.float64)
                for i, v in enumerate(col.to_numpy()):
                    k = lookup.get(_key(v))
                    if k is None:
                        raise ValueError(
                            f"column {a.name!r}: value {v!r} (row {i}) is not in its domain {list(a.values)[:20]}"
                        )
                    codes[i] = k
                out[:, j] = codes
        return out

    def decode(self, X: np.ndarray) -> Any:
        """Encoded records back to a DataFrame with the domain's values and units."""
        import pandas as pd

        X = np.asarray(X, dtype=np.float64)
        cols = {}
        for j, a in enumerate(self.attributes):
            if a.kind == "numeric":
                cols[a.name] = a.lo + np.clip(X[:, j], 0.0, 1.0) * (a.hi - a.lo)
            else:
                vals = np.empty(len(a.values), dtype=object)
                vals[:] = list(a.values)
                codes = np.clip(np.rint(X[:, j]).astype(np.int64), 0, a.size - 1)
                out = vals[codes]
                if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in a.values):
                    out = out.astype(np.float64 if any(isinstance(v, float) for v in a.values) else np.int64)
                cols[a.name] = out
        return pd.DataFrame(cols)

    def uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` encoded records drawn uniformly from the domain."""
        X = rng.random((n, len(self)))
        cat = self.sizes > 0
        X[:, cat] = np.floor(X[:, cat] * self.sizes[cat])
        return X


def _key(v: Any) -> Any:
    """Category lookup key: 3, 3.0 and numpy 3 are one category; strings stay strings."""
    if isinstance(v, (bool, np.bool_)):
        return ("b", bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return ("n", float(v))
    return ("s", str(v))


def _sort_key(v: Any) -> Any:
    k = _key(v)
    return (k[0], k[1])


def _column_kind(name: str, col: Any) -> str:
    """'numeric' or 'categorical' for one column; a column mixing numbers and strings is an error."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(col.dtype):
        return "numeric"
    kinds = {
        "number" if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else type(v).__name__
        for v in col.dropna().to_numpy()
    }
    if len(kinds) > 1:
        raise TypeError(
            f"column {name!r} mixes types {sorted(kinds)}; convert it to one type (all strings or all numbers)"
        )
    return "numeric" if kinds == {"number"} else "categorical"
