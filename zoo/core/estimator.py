"""The one ask/tell interface every zoo method implements.

The public methods (``ask``, ``tell``, ``stop``, ``best``, ``state_dict``, ``load_state_dict``) are written
here once. An algorithm is a subclass that supplies

- ``Params``: a dataclass of hyper-parameters (fixed for the run; the keyword options of ``zoo.make``),
- ``State``: a dataclass of the arrays that change every step,
- ``_init(x0, rng) -> State``, ``_ask(state, rng) -> X`` and ``_tell(state, X, values) -> State``,
- optionally ``_batch_size(state)`` (size of the next ``ask``) and ``_stop(state) -> dict``.

Contract kept by this base class, so no algorithm has to repeat it:

- ``ask()`` always returns a read-only batch ``X`` of shape ``(n, d)``; asking again before ``tell`` returns
  the same pending batch (nothing is lost).
- ``tell`` validates everything before any state changes; if the hook raises, the state and the random
  generator are exactly as before (the run can resume).
- Non-finite values (NaN, +inf, -inf) are replaced by ``+inf`` ("ranks worst") before the hook sees them,
  and counted in ``n_nonfinite``.
- One explicit seed drives one ``numpy.random.Generator``; no global random state is touched.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from zoo.core.oracle import Comparisons, comparisons_from_values, normalize_comparisons

_COMMON_KEYS = ("seed", "bounds", "budget", "max_iter", "f_target", "dim")


@dataclasses.dataclass(frozen=True)
class Params:
    """Hyper-parameters shared by every method (none); subclasses add fields."""

    def check(self, dim: int) -> None:  # noqa: B027 - optional hook
        """Raise ``ValueError`` naming the field when a value is out of range."""


@dataclasses.dataclass
class State:
    """Arrays that change every step; subclasses add fields."""


def as_point(x0: Any, name: str = "x0") -> np.ndarray:
    """Validate a starting point: a finite 1-D float64 array with at least one coordinate."""
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(x0).__name__}") from exc
    if x.ndim == 0:
        x = x.reshape(1)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (d,), got shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} must have at least one coordinate (dimension 0 given)")
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x))[:5].tolist()
        raise ValueError(f"{name} must be finite; non-finite at coordinates {bad}")
    return x


def as_bounds(bounds: Any, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Validate ``(lower, upper)``: scalars or arrays broadcast to ``(d,)``, ``lower <= upper``, no NaN."""
    if bounds is None:
        return None
    try:
        lower, upper = bounds
    except (TypeError, ValueError) as exc:
        raise TypeError("bounds must be a pair (lower, upper) of scalars or arrays of shape (d,)") from exc
    lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (dim,)).copy()
    hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), (dim,)).copy()
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError("bounds must not contain NaN")
    if np.any(lo > hi):
        bad = np.flatnonzero(lo > hi)[:5].tolist()
        raise ValueError(f"bounds must satisfy lower <= upper; lower > upper at coordinates {bad}")
    return lo, hi


class Estimator(abc.ABC):
    """Base class of every method: public ask/tell written once, algorithms fill the hooks."""

    name: ClassVar[str] = "estimator"
    Params: ClassVar[type] = Params
    State: ClassVar[type] = State
    #: "values": tell(X, values). "ranking": tell(X, ranking=...) or tell(X, pairs=...); values are
    #: accepted too and turned into the full ranking they imply.
    feedback: ClassVar[str] = "values"
    #: whether the method needs x0 (False: it can start from ``bounds`` or ``dim`` alone).
    requires_x0: ClassVar[bool] = True
    #: whether ``_tell`` draws random numbers; if so the generator is snapshotted so a failed tell can restore it.
    tell_uses_rng: ClassVar[bool] = True

    def __init__(
        self,
        x0: Any = None,
        *,
        seed: int | None = None,
        bounds: Any = None,
        budget: int | None = None,
        max_iter: int | None = None,
        f_target: float | None = None,
        dim: int | None = None,
        **options: Any,
    ) -> None:
        self.params = self._make_params(options)
        self.x0 = self._resolve_x0(x0, dim, bounds)
        self.dim = int(self.x0.size)
        self.bounds = as_bounds(bounds, self.dim)
        if self.bounds is not None:
            outside = (self.x0 < self.bounds[0]) | (self.x0 > self.bounds[1])
            if outside.any():
                raise ValueError(
                    f"x0 lies outside bounds at coordinates {np.flatnonzero(outside)[:5].tolist()}; "
                    "move x0 inside the box or widen the bounds"
                )
        self.budget = _positive_int_or_none(budget, "budget")
        self.max_iter = _positive_int_or_none(max_iter, "max_iter")
        self.f_target = None if f_target is None else float(f_target)
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**63))  # fresh, but recorded
        if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise TypeError(f"seed must be a non-negative int, got {seed!r}")
        self.seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self.seed))
        self.params.check(self.dim)
        self.nfev = 0
        self.nit = 0
        self.n_nonfinite = 0
        self._best_x = self.x0.copy()
        self._best_f = math.inf
        self._pending: np.ndarray | None = None
        self.state = self._init(self.x0.copy(), self.rng)

    # ------------------------------------------------------------------ hooks
    @abc.abstractmethod
    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> State:
        """The initial state."""

    @abc.abstractmethod
    def _ask(self, state: State, rng: np.random.Generator) -> np.ndarray:
        """The next batch ``(n, d)``; may record the pending probe in ``state``."""

    @abc.abstractmethod
    def _tell(self, state: State, X: np.ndarray, values: Any) -> State:
        """A new state from the batch's feedback; must not write into ``state``."""

    def _batch_size(self, state: State) -> int:
        """Size of the next ask(); used to stop before a batch would overrun the budget."""
        return 1 if self._pending is None else len(self._pending)

    def _stop(self, state: State) -> dict[str, Any]:
        """Method-specific stopping reasons (e.g. a collapsed population)."""
        return {}

    # ------------------------------------------------------------------ public
    def ask(self) -> np.ndarray:
        """The next batch of points to evaluate, shape ``(n, d)``, read-only."""
        if self._pending is None:
            X = np.asarray(self._ask(self.state, self.rng), dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != self.dim:
                raise RuntimeError(
                    f"{type(self).__name__}._ask returned shape {X.shape}, expected (n, {self.dim})"
                )
            X.flags.writeable = False
            self._pending = X
        return self._pending

    def tell(
        self,
        X: Any,
        values: Any = None,
        *,
        ranking: Any = None,
        pairs: Any = None,
    ) -> None:
        """Report the objective values (or a ranking / pairwise comparisons) of the batch from ``ask``."""
        pending = self._pending
        if pending is None:
            raise RuntimeError("tell() needs a pending batch: call ask() first")
        if X is not pending:
            X = np.asarray(X, dtype=np.float64)
            if X.shape != pending.shape or not np.array_equal(X, pending):
                raise ValueError(
                    f"tell() must receive the batch returned by the last ask() (shape {pending.shape}); "
                    f"got a different array of shape {X.shape}"
                )
            X = pending
        n = len(X)
        given = sum(v is not None for v in (values, ranking, pairs))
        if given != 1:
            raise TypeError("tell() takes exactly one of values, ranking=, pairs=")
        fvals = None
        if values is not None:
            fvals = np.asarray(values, dtype=np.float64)
            if fvals.shape != (n,):
                if fvals.size == n and fvals.ndim == 2 and 1 in fvals.shape:
                    fvals = fvals.reshape(n)
                else:
                    raise ValueError(
                        f"values must have shape ({n},) for a batch of {n} points, got {fvals.shape}"
                    )
            n_bad = 0
            if not np.isfinite(fvals).all():
                bad = ~np.isfinite(fvals)
                n_bad = int(bad.sum())
                if n_bad:
                    fvals = np.where(bad, np.inf, fvals)
        else:
            n_bad = 0
        if self.feedback == "values":
            if fvals is None:
                raise TypeError(f"method {self.name!r} needs objective values: tell(X, values)")
            feedback: Any = fvals
        else:
            feedback = (
                comparisons_from_values(fvals)
                if fvals is not None
                else normalize_comparisons(n, ranking=ranking, pairs=pairs)
            )
        rng_state = self.rng.bit_generator.state if self.tell_uses_rng else None
        try:
            new_state = self._tell(self.state, X, feedback)
        except BaseException:
            if rng_state is not None:
                self.rng.bit_generator.state = rng_state
            raise
        self.state = new_state
        self.nfev += n
        self.nit += 1
        self.n_nonfinite += n_bad
        if fvals is not None:
            i = int(fvals.argmin())
            if fvals[i] < self._best_f:
                self._best_f = float(fvals[i])
                self._best_x = X[i].copy()
        elif isinstance(feedback, Comparisons):
            self._track_best_from_ranking(X, feedback)
        self._pending = None

    def _track_best_from_ranking(self, X: np.ndarray, comparisons: Comparisons) -> None:
        """With rankings only there is no value: keep the batch winner as the best point seen."""
        winner = comparisons.winner()
        if winner is not None:
            self._best_x = X[winner].copy()

    def stop(self) -> dict[str, Any]:
        """Why the run should stop: a dict of reasons, empty (falsy) while it should go on."""
        reasons: dict[str, Any] = {}
        if self.budget is not None and self.nfev + self._batch_size(self.state) > self.budget:
            reasons["budget"] = self.budget
        if self.max_iter is not None and self.nit >= self.max_iter:
            reasons["max_iter"] = self.max_iter
        if self.f_target is not None and self._best_f <= self.f_target:
            reasons["f_target"] = self.f_target
        reasons.update(self._stop(self.state))
        return reasons

    @property
    def best(self) -> tuple[np.ndarray, float]:
        """``(x_best, f_best)`` over every point told so far (``f_best = inf`` before the first tell)."""
        return self._best_x.copy(), self._best_f

    @property
    def deterministic(self) -> bool:
        """True when the method draws no random numbers (then the seed cannot matter)."""
        return False

    @property
    def pending(self) -> np.ndarray | None:
        """The batch asked but not yet told, or None."""
        return self._pending

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit: plain arrays, numbers and strings; no pickle."""
        return {
            "method": self.name,
            "dim": self.dim,
            "seed": self.seed,
            "params": _plain(dataclasses.asdict(self.params)),
            "state": _plain(_state_to_dict(self.state)),
            "rng": _plain(self.rng.bit_generator.state),
            "nfev": self.nfev,
            "nit": self.nit,
            "n_nonfinite": self.n_nonfinite,
            "best_x": self._best_x.copy(),
            "best_f": self._best_f,
            "pending": None if self._pending is None else self._pending.copy(),
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (from an optimizer built with the same options)."""
        if sd.get("method") != self.name:
            raise ValueError(
                f"state_dict is for method {sd.get('method')!r}, this optimizer is {self.name!r}"
            )
        if int(sd["dim"]) != self.dim:
            raise ValueError(f"state_dict has dimension {sd['dim']}, this optimizer has {self.dim}")
        state = self._state_from_dict(_copy_tree(sd["state"]))
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = _copy_tree(sd["rng"])
        self.state = state
        self.rng = rng
        self.seed = int(sd["seed"])
        self.nfev, self.nit, self.n_nonfinite = int(sd["nfev"]), int(sd["nit"]), int(sd["n_nonfinite"])
        self._best_x = np.array(sd["best_x"], dtype=np.float64)
        self._best_f = float(sd["best_f"])
        pending = sd.get("pending")
        if pending is not None:
            pending = np.array(pending, dtype=np.float64)
            pending.flags.writeable = False
        self._pending = pending

    def _state_from_dict(self, d: dict[str, Any]) -> State:
        """Rebuild the State dataclass; override when the state holds nested objects."""
        return self.State(**d)

    # ------------------------------------------------------------------ helpers
    @classmethod
    def _make_params(cls, options: dict[str, Any]) -> Params:
        fields = {f.name for f in dataclasses.fields(cls.Params)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise TypeError(
                f"unknown option(s) {unknown} for method {cls.name!r}; "
                f"valid options: {sorted(fields) or 'none'} (and {', '.join(_COMMON_KEYS)})"
            )
        return cls.Params(**options)

    def _resolve_x0(self, x0: Any, dim: int | None, bounds: Any) -> np.ndarray:
        if x0 is not None:
            x = as_point(x0)
            if dim is not None and int(dim) != x.size:
                raise ValueError(f"dim={dim} disagrees with x0 of size {x.size}")
            return x
        if self.requires_x0:
            raise TypeError(f"method {self.name!r} needs a starting point x0 of shape (d,)")
        if dim is None and bounds is not None:
            try:
                lo = np.atleast_1d(np.asarray(bounds[0], dtype=np.float64))
                hi = np.atleast_1d(np.asarray(bounds[1], dtype=np.float64))
                dim = max(lo.size, hi.size)
            except (TypeError, IndexError, ValueError) as exc:
                raise TypeError("bounds must be a pair (lower, upper)") from exc
        if dim is None:
            raise TypeError(f"method {self.name!r} needs x0, or dim= (or bounds) to know the dimension")
        if isinstance(dim, bool) or int(dim) != dim or int(dim) < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        dim = int(dim)
        if bounds is not None:
            b = as_bounds(bounds, dim)
            assert b is not None
            lo, hi = b
            mid = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi), np.clip(0.0, lo, hi))
            return mid
        return np.zeros(dim)

    def project(self, X: np.ndarray) -> np.ndarray:
        """Clip points into the bounds (a no-op without bounds)."""
        if self.bounds is None:
            return X
        return np.clip(X, self.bounds[0], self.bounds[1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, seed={self.seed}, nfev={self.nfev}, nit={self.nit})"


def _positive_int_or_none(v: Any, name: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer, float)) or int(v) != v:
        raise TypeError(f"{name} must be a positive int, got {v!r}")
    if int(v) <= 0:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def _state_to_dict(state: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(state):
        return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}
    if isinstance(state, dict):
        return dict(state)
    raise TypeError(f"State must be a dataclass or dict, got {type(state).__name__}")


def _plain(obj: Any) -> Any:
    """Copy a tree of dicts/lists/arrays/numbers into plain containers (arrays copied)."""
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if dataclasses.is_dataclass(obj):
        return {"__type__": type(obj).__name__, **_plain(dataclasses.asdict(obj))}
    if callable(obj):
        return getattr(obj, "__qualname__", repr(obj))
    return repr(obj)


def _copy_tree(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, dict):
        return {k: _copy_tree(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy_tree(v) for v in obj]
    return obj
