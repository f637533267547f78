"""Stochastic objectives ``F(x; xi)`` whose sample ``xi`` the method chooses: common random numbers.

Both two-point papers zoo follows (Lin, Zheng & Jordan, NeurIPS 2022; Chen, Xu & Luo, ICML 2023) estimate the
gradient of ``f(x) = E_xi F(x; xi)`` from differences ``F(x + delta w; xi) - F(x - delta w; xi)`` taken at the
**same** sample ``xi``: the difference then carries the slope of ``F(., xi)`` and none of the spread between
samples. So the method, not the objective, draws the samples: every batch from ``ask`` comes with one sample
seed per row, ``opt.samples`` (int64, shape ``(n,)``), and rows that must share a sample share a seed.

- Methods that know about samples (``gfm``, ``gfm+``) give each two-point pair its own sample and reuse it where
  the estimator needs it (GFM+ evaluates ``x_t`` and ``x_{t-1}`` at one sample).
- Every other method gets the default of :meth:`zoo.core.method.Method._samples`: one sample for the whole batch,
  a fresh one per batch (a function of the seed and the iteration, so ``state_dict`` needs nothing more). A
  two-point difference, a population's ranking, a line search then compare points at one sample.

:class:`Stochastic` wraps ``fun(x, xi)`` with its sample space and is what ``zoo.minimize`` accepts::

    res = zoo.minimize(zoo.Stochastic(loss, samples=len(data)), x0, "gfm+")   # xi = an index into data
    opt = zoo.make("gfm", x0=x0, seed=0); F = zoo.Stochastic(loss, samples=len(data))
    X = opt.ask(); opt.tell(X, F.evaluate(X, opt.samples))                     # the same by ask/tell

``samples=None``: ``xi`` is the sample seed itself (an int in ``[0, 2**63)``; draw a minibatch or a noise
realisation with ``np.random.default_rng(xi)``); ``samples=N``: ``xi = seed % N``, an index (a data point, a
minibatch, a scenario). ``vectorized=True``: ``fun(X, xi)`` takes the batch and the int array of samples.

Checks. An objective that ignores ``xi`` (it was not passed on, or the wrong function was wrapped) makes
"common random numbers" meaningless: on the first ``check`` batches (default 3) the first row is evaluated once
more at another sample; if every such pair is identical, a :class:`StochasticWarning` says so and
``report["ignores_sample"]`` is True. These extra queries are counted (``check_queries``; ``minimize`` keeps
them inside the budget and in ``res.nfev``); ``check=0`` turns the check off. A sample whose evaluation raises
is an :class:`~zoo.core.oracle.ObjectiveError` naming the sample (``.sample``) and the point (``.x``), or with
``on_error="record"`` a fault (``res.faults``, value ``+inf``, the run goes on).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core.oracle import ObjectiveError

_MASK = (1 << 63) - 1
_ALT = 0x9E3779B97F4A7C15 & _MASK  # the other sample of the check: seed XOR a fixed odd constant


class StochasticWarning(UserWarning):
    """A stochastic objective looks deterministic in its sample (it seems to ignore ``xi``)."""


def sample_seeds(seed: int, step: int, n: int) -> np.ndarray:
    """``n`` copies of one sample seed for batch ``step`` of a run seeded ``seed`` (the default: one shared
    sample per batch), derived without a generator so that it needs no state."""
    words = np.random.SeedSequence([int(seed), int(step), 0x5A3B1E]).generate_state(2, np.uint32)
    value = ((int(words[0]) << 32) | int(words[1])) & _MASK
    return np.full(int(n), value, dtype=np.int64)


def draw_seeds(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent sample seeds from a method's generator."""
    return rng.integers(0, _MASK, size=int(n), dtype=np.int64)


class Stochastic:
    """An objective ``fun(x, xi)`` of a point and a sample chosen by the method (see the module docstring)."""

    def __init__(
        self,
        fun: Callable[..., Any],
        samples: int | None = None,
        *,
        vectorized: bool = False,
        check: int = 3,
    ) -> None:
        if not callable(fun):
            raise TypeError(f"Stochastic needs a callable fun(x, xi), got {type(fun).__name__}")
        if samples is not None and (
            isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1
        ):
            raise ValueError(
                f"samples must be None (xi is a seed) or the number N >= 1 of samples (xi in range(N)), "
                f"got {samples!r}"
            )
        if isinstance(check, bool) or not isinstance(check, (int, np.integer)) or check < 0:
            raise ValueError(
                f"check must be an int >= 0 (batches checked for a sample-blind objective), got {check!r}"
            )
        self.fun = fun
        self.samples = None if samples is None else int(samples)
        self.vectorized = bool(vectorized)
        self.check = int(check) if self.samples != 1 else 0  # one sample: nothing to compare
        self.start()

    def start(self) -> None:
        """Forget the checks and faults of an earlier run (``minimize`` calls it at the start of each run)."""
        self.check_queries = 0
        self.faults: list[dict[str, Any]] = []
        self._checked = 0
        self._varies: bool | None = None

    def __call__(self, x: Any, xi: Any) -> Any:
        return self.fun(x, xi)

    # ------------------------------------------------------------------ samples
    def sample(self, seeds: Any) -> np.ndarray:
        """The samples ``xi`` of the sample seeds (int64 array): the seeds, or ``seed % N``."""
        seeds = np.asarray(seeds, dtype=np.int64)
        return seeds.copy() if self.samples is None else seeds % self.samples

    @property
    def pending_checks(self) -> int:
        """Extra queries the check may still spend (0 once it has decided)."""
        return 0 if self._varies is not None else max(self.check - self.check_queries, 0)

    @property
    def report(self) -> dict[str, Any]:
        """What the checks found: ``ignores_sample`` (True / False / None: not checked), ``check_queries``."""
        ignores = None if self._varies is None else not self._varies
        return {
            "samples": "seed" if self.samples is None else self.samples,
            "ignores_sample": ignores if self.check else None,
            "check_queries": self.check_queries,
            "n_faults": len(self.faults),
        }

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, X: Any, seeds: Any, on_error: str = "raise") -> np.ndarray:
        """The values ``F(X[i]; xi_i)`` of a batch and its sample seeds (``opt.samples``)."""
        if on_error not in ("raise", "record"):
            raise ValueError(f"on_error must be 'raise' or 'record', got {on_error!r}")
        X = np.asarray(X, dtype=np.float64)
        if seeds is None:
            raise TypeError(
                "evaluate(X, seeds) needs the sample seeds of the batch: opt.samples after opt.ask()"
            )
        xi = self.sample(seeds)
        if X.ndim != 2 or xi.shape != (len(X),):
            raise ValueError(
                f"evaluate takes X (n, d) and one sample seed per row; got {X.shape} and {xi.shape}"
            )
        values = self._values(X, xi, on_error)
        if self.pending_checks and len(X):
            self._check_row(X[0], xi[0], values[0], on_error)
        return values

    def _values(self, X: np.ndarray, xi: np.ndarray, on_error: str) -> np.ndarray:
        if self.vectorized:
            try:
                out = np.asarray(self.fun(X, xi), dtype=np.float64)
            except Exception as exc:
                return self._fault(X, xi, exc, on_error, batch=True)
            if out.shape != (len(X),):
                raise ValueError(
                    f"a vectorized stochastic objective must return shape ({len(X)},), got {out.shape}"
                )
            return out
        out = np.empty(len(X))
        for i in range(len(X)):
            try:
                v = np.asarray(self.fun(X[i].copy(), int(xi[i])), dtype=np.float64)
            except Exception as exc:
                out[i] = self._fault(X[i : i + 1], xi[i : i + 1], exc, on_error)[0]
                continue
            if v.size != 1:
                raise ValueError(
                    f"the stochastic objective must return a scalar for one point, got shape {v.shape}"
                )
            out[i] = float(v.reshape(()))
        return out

    def _fault(
        self, X: np.ndarray, xi: np.ndarray, exc: Exception, on_error: str, batch: bool = False
    ) -> np.ndarray:
        message = f"{type(exc).__name__}: {exc}"
        if on_error == "raise":
            where = (
                f"on the batch in .x (samples {xi[:5].tolist()})" if batch else f"at sample xi={int(xi[0])}"
            )
            err = ObjectiveError(
                f"the objective raised {message} {where} (the point in .x)", X if batch else X[0]
            )
            err.sample = xi if batch else int(xi[0])  # type: ignore[attr-defined]
            raise err from exc
        for x, s in zip(X, xi):
            self.faults.append({"x": x.copy(), "sample": int(s), "kind": "raise", "message": message})
        return np.full(len(X), np.inf)

    def _check_row(self, x: np.ndarray, xi: int, value: float, on_error: str) -> None:
        other = int(xi) ^ _ALT if self.samples is None else (int(xi) + 1 + int(xi) % 7) % self.samples
        if other == int(xi):
            return
        self.check_queries += 1
        v2 = float(self._values(x[None], np.array([other], dtype=np.int64), on_error)[0])
        if not (math.isfinite(v2) and math.isfinite(float(value))):
            return  # a fault or a non-finite value says nothing about the sample; the next batch checks again
        self._checked += 1
        if v2 != float(value):
            self._varies = True
        elif self._checked >= self.check:  # every check equal (a non-finite pair decides nothing)
            self._varies = False
            warnings.warn(
                f"the stochastic objective returned the same value for two different samples xi at each of the "
                f"first {self.check} points checked: it seems to ignore xi (is the sample passed on? a "
                "deterministic objective needs no zoo.Stochastic)",
                StochasticWarning,
                stacklevel=3,
            )
