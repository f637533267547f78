"""Statistical queries over a :class:`~zoo.synth.domain.Domain`, gathered into a :class:`Workload`.

A statistical query is ``a_q(D) = (1/n) sum_{x in D} phi_q(x)`` with ``phi_q(x) in [0, 1]``:

- k-way marginal over categorical attributes ``A = (A_1..A_k)``: one query per cell ``v``,
  ``phi_v(x) = 1[x_A = v]``; the block of all cells is the marginal table.
- range / prefix over a numeric attribute ``j``: ``phi(x) = 1[lo <= x_j <= hi]`` (prefix: ``lo`` = the bound).
- halfspace threshold over numeric attributes: ``phi(x) = 1[w . x >= b]`` (encoded units, ``x_j in [0, 1]``).
- user query: any ``phi`` given as a Python function of the encoded records ``(n, m) -> (n,)`` in [0, 1].

Measurement groups. The private mechanism measures a *group* of queries at a time with the Gaussian
mechanism; its L2 sensitivity (one record added or removed, on counts) is what sets the noise:
a marginal block has sensitivity 1 (a record sits in one cell); the ranges of one attribute have
``sqrt(depth)``, ``depth`` being the most of its intervals one point lies in; a halfspace or a user query is
a group of its own with sensitivity 1.

Workload specs (the CLI's ``--queries``): ``"1way"``, ``"2way"``, ``"3way"`` (all k-way marginals over the
categorical attributes), ``"range"`` (random intervals per numeric attribute), ``"prefix"`` (prefixes on a
grid), ``"halfspace"`` (random thresholds over the numeric attributes), comma-separated.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo.kernels import workload as _k
from zoo.synth.domain import Domain

KINDS = ("1way", "2way", "3way", "range", "prefix", "halfspace")


@dataclasses.dataclass(frozen=True)
class Group:
    """A set of queries ``[start, stop)`` measured together; ``l2`` / ``l1`` are its sensitivities on counts."""

    label: str
    kind: str
    start: int
    stop: int
    l2: float
    l1: float


class Workload:
    """A list of statistical queries laid out for the kernels of :mod:`zoo.kernels.workload`."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self._marginals: list[tuple[int, ...]] = []
        self._ranges: list[tuple[int, float, float]] = []
        self._range_labels: list[str] = []
        self._halfspaces: list[tuple[np.ndarray, float]] = []
        self._user: list[tuple[str, Callable[[np.ndarray], Any]]] = []
        self._built = False

    # ---------------------------------------------------------------- building
    def add_marginals(self, k: int | None = None, attrs: Sequence[Sequence[str]] | None = None) -> Workload:
        """All k-way marginals over the categorical attributes, or the given attribute tuples."""
        if attrs is None:
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise ValueError(f"k (marginal order) must be an int >= 1, got {k!r}")
            cats = self.domain.categorical
            if len(cats) < k:
                raise ValueError(
                    f"{k}-way marginals need {k} categorical attributes; the domain has {len(cats)}"
                )
            attrs = list(itertools.combinations(cats, k))
        for tup in attrs:
            idx = tuple(self.domain.index(a) for a in tup)
            for a, j in zip(tup, idx):
                if self.domain.sizes[j] == 0:
                    raise ValueError(
                        f"marginal over {tuple(tup)}: column {a!r} is numeric; use range queries"
                    )
            if len(set(idx)) != len(idx):
                raise ValueError(f"marginal over {tuple(tup)} repeats a column")
            self._marginals.append(idx)
        self._built = False
        return self

    def add_ranges(
        self, column: str, intervals: Sequence[tuple[float, float]], units: str = "domain"
    ) -> Workload:
        """Range queries ``lo <= x <= hi`` on a numeric column (``units="domain"``: the column's own units)."""
        j = self.domain.index(column)
        a = self.domain.attributes[j]
        if a.kind != "numeric":
            raise ValueError(f"range queries need a numeric column; {column!r} is categorical")
        for lo, hi in intervals:
            if units == "domain":
                lo, hi = (lo - a.lo) / (a.hi - a.lo), (hi - a.lo) / (a.hi - a.lo)
            if not lo <= hi:
                raise ValueError(f"range on {column!r} must have lo <= hi, got ({lo}, {hi})")
            self._ranges.append((j, float(lo), float(hi)))
        self._built = False
        return self

    def add_halfspace(self, weights: dict[str, float], threshold: float) -> Workload:
        """``1[sum_j weights[j] * x_j >= threshold]`` over numeric columns, in encoded units ([0, 1] each)."""
        w = np.zeros(len(self.domain))
        for name, v in weights.items():
            j = self.domain.index(name)
            if self.domain.sizes[j] != 0:
                raise ValueError(f"halfspace weights need numeric columns; {name!r} is categorical")
            w[j] = float(v)
        self._halfspaces.append((w, float(threshold)))
        self._built = False
        return self

    def add_user(self, name: str, fn: Callable[[np.ndarray], Any], columns: Sequence[str] = ()) -> Workload:
        """A user query ``fn(X) -> (n,)`` in [0, 1] on encoded records; ``columns`` are checked to exist."""
        for c in columns:
            self.domain.index(c)
        if not callable(fn):
            raise TypeError(f"user query {name!r} must be callable, got {type(fn).__name__}")
        self._user.append((str(name), fn))
        self._built = False
        return self

    @classmethod
    def from_spec(
        cls, domain: Domain, spec: str | Sequence[str], seed: int = 0, n_per_column: int = 24
    ) -> Workload:
        """A workload from kinds such as ``"2way,range"`` (see the module docstring)."""
        kinds = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
        kinds = [s for s in kinds if s]
        if not kinds:
            raise ValueError(f"the workload is empty: give at least one of {', '.join(KINDS)}")
        rng = np.random.Generator(np.random.PCG64(seed))
        wl = cls(domain)
        for kind in kinds:
            if kind in ("1way", "2way", "3way"):
                wl.add_marginals(int(kind[0]))
            elif kind in ("range", "prefix"):
                if not domain.numeric:
                    raise ValueError(f"{kind!r} queries need a numeric column; the domain has none")
                for c in domain.numeric:
                    a = domain[c]
                    if kind == "range":
                        ends = np.sort(rng.random((n_per_column, 2)), axis=1)
                    else:
                        t = (np.arange(1, n_per_column + 1)) / (n_per_column + 1)
                        ends = np.stack([np.zeros_like(t), t], axis=1)
                    wl.add_ranges(
                        c, [(a.lo + lo * (a.hi - a.lo), a.lo + hi * (a.hi - a.lo)) for lo, hi in ends]
                    )
            elif kind == "halfspace":
                num = domain.numeric
                if len(num) < 1:
                    raise ValueError("'halfspace' queries need a numeric column; the domain has none")
                for _ in range(n_per_column):
                    g = rng.standard_normal(len(num))
                    g /= np.linalg.norm(g)
                    u = rng.random(len(num))
                    wl.add_halfspace(dict(zip(num, g)), float(g @ u))
            else:
                raise ValueError(f"unknown query kind {kind!r}; known: {', '.join(KINDS)}")
        return wl

    # ---------------------------------------------------------------- layout
    def build(self) -> Workload:
        """Lay the queries out as flat arrays (called lazily); an empty workload is an error."""
        if self._built:
            return self
        if not (self._marginals or self._ranges or self._halfspaces or self._user):
            raise ValueError("the workload is empty: add marginals, ranges, halfspaces or user queries")
        d = self.domain
        k_max = max((len(t) for t in self._marginals), default=1)
        nb = len(self._marginals)
        self.m_attrs = np.full((nb, k_max), -1, dtype=np.int64)
        self.m_strides = np.zeros((nb, k_max), dtype=np.int64)
        self.m_offset = np.zeros(nb + 1, dtype=np.int64)
        groups = []
        for b, idx in enumerate(self._marginals):
            sizes = d.sizes[list(idx)]
            strides = np.ones(len(idx), dtype=np.int64)
            for j in range(len(idx) - 2, -1, -1):
                strides[j] = strides[j + 1] * sizes[j + 1]
            self.m_attrs[b, : len(idx)] = idx
            self.m_strides[b, : len(idx)] = strides
            self.m_offset[b + 1] = self.m_offset[b] + int(np.prod(sizes))
            label = "x".join(d.names[j] for j in idx)
            groups.append(
                Group(label, f"{len(idx)}way", int(self.m_offset[b]), int(self.m_offset[b + 1]), 1.0, 1.0)
            )
        base = int(self.m_offset[-1])
        order = sorted(range(len(self._ranges)), key=lambda i: self._ranges[i][0])
        self._ranges = [self._ranges[i] for i in order]
        self.r_attr = np.array([r[0] for r in self._ranges], dtype=np.int64)
        self.r_lo = np.array([r[1] for r in self._ranges], dtype=np.float64)
        self.r_hi = np.array([r[2] for r in self._ranges], dtype=np.float64)
        for j in np.unique(self.r_attr):
            sel = np.flatnonzero(self.r_attr == j)
            depth = _max_overlap(self.r_lo[sel], self.r_hi[sel])
            groups.append(Group(f"range:{d.names[j]}", "range", base + int(sel[0]), base + int(sel[-1]) + 1,
                                float(np.sqrt(depth)), float(depth)))  # fmt: skip
        base += len(self._ranges)
        self.h_w = np.array([h[0] for h in self._halfspaces], dtype=np.float64).reshape(-1, len(d))
        self.h_b = np.array([h[1] for h in self._halfspaces], dtype=np.float64)
        for h in range(len(self._halfspaces)):
            groups.append(Group(f"halfspace:{h}", "halfspace", base + h, base + h + 1, 1.0, 1.0))
        base += len(self._halfspaces)
        self.user_offset = base
        self.user_fns = [fn for _, fn in self._user]
        for u, (name, _) in enumerate(self._user):
            groups.append(Group(f"user:{name}", "user", base + u, base + u + 1, 1.0, 1.0))
        self.n_queries = base + len(self._user)
        self.groups = tuple(groups)
        self._built = True
        return self

    @property
    def layout(self) -> tuple:
        self.build()
        return (
            self.m_attrs,
            self.m_strides,
            self.m_offset,
            self.r_attr,
            self.r_lo,
            self.r_hi,
            self.h_w,
            self.h_b,
        )

    def __len__(self) -> int:
        return self.build().n_queries

    def kinds(self) -> np.ndarray:
        """The kind label of every query (``"2way"``, ``"range"``, ...), shape (Q,)."""
        out = np.empty(len(self), dtype=object)
        for g in self.groups:
            out[g.start : g.stop] = g.kind
        return out

    # ---------------------------------------------------------------- answers
    def user_counts(self, X: np.ndarray) -> np.ndarray:
        """Counts of the user queries on encoded records ``X`` (n, m), shape (U,)."""
        self.build()
        out = np.empty(len(self.user_fns))
        for u, fn in enumerate(self.user_fns):
            v = np.asarray(fn(X), dtype=np.float64).reshape(-1)
            if v.shape != (len(X),):
                raise ValueError(
                    f"user query {self._user[u][0]!r} must return shape ({len(X)},), got {v.shape}"
                )
            if not np.all((v >= 0) & (v <= 1)):
                raise ValueError(f"user query {self._user[u][0]!r} must return values in [0, 1]")
            out[u] = v.sum()
        return out

    def counts(self, X: np.ndarray, use_numba: bool = True) -> np.ndarray:
        """``c_q = sum_i phi_q(X_i)`` for every query (Q,), on encoded records ``X`` (n, m)."""
        self.build()
        X = np.ascontiguousarray(X, dtype=np.float64)
        if use_numba:
            out = np.empty(self.n_queries)
            _k.counts(X, *self.layout, out)
        else:
            out = _k.counts_numpy(X, *self.layout, self.n_queries)
        if self.user_fns:
            out[self.user_offset :] = self.user_counts(X)
        return out

    def answers(self, X: np.ndarray, use_numba: bool = True) -> np.ndarray:
        """``a_q = c_q / n`` for every query (Q,)."""
        return self.counts(X, use_numba) / len(X)


def _max_overlap(lo: np.ndarray, hi: np.ndarray) -> int:
    """Most closed intervals ``[lo_i, hi_i]`` that share one point (a sweep; starts before ends on ties)."""
    events = sorted([(v, 0) for v in lo] + [(v, 1) for v in hi])
    depth = best = 0
    for _, end in events:
        depth += -1 if end else 1
        best = max(best, depth)
    return best
