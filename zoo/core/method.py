"""The one ask/tell interface every zoo method implements: the base class :class:`Method`.

The public methods (``ask``, ``tell``, ``stop``, ``best``, ``state_dict``, ``load_state_dict``) are written
here once. An algorithm is a subclass that supplies

- ``Params``: a dataclass of hyper-parameters (fixed for the run; the keyword options of ``zoo.make``),
- ``State``: a dataclass of the arrays that change every step,
- ``_init(x0, rng) -> State``, ``_ask(state, rng) -> X`` and ``_tell(state, X, values, rng) -> State``,
- optionally ``_setup()`` (derived, fixed values), ``_batch_size(state)`` (size of the next ``ask``) and
  ``_stop(state) -> dict``.

Contract kept by this base class, so no algorithm has to repeat it:

- ``ask()`` always returns a read-only batch ``X`` of shape ``(n, d)``; asking again before ``tell`` returns
  the same pending batch (nothing is lost).
- ``tell`` validates everything before any state changes; if the hook raises, the state and the random
  generator are exactly as before (the run can resume).
- Non-finite values (NaN, +inf, -inf) are replaced by ``+inf`` ("ranks worst") before the hook sees them,
  and counted in ``n_nonfinite``.
- One explicit seed drives one ``numpy.random.Generator``; no global random state is touched.
- ``state_dict()`` is complete by construction: what changes lives in ``State`` (plus the counters, the
  generator and the pending batch kept here); what ``_setup`` derives depends only on ``Params``, the
  dimension and the bounds, and ``load_state_dict`` refuses a state saved with other ``Params``.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from zoo.core.arrays import F64
from zoo.core.feedback import Comparisons, comparisons_from_values, normalize_comparisons
from zoo.core.serialize import copy_tree, plain, state_to_dict, tree_diff
from zoo.core.stochastic import sample_seeds
from zoo.core.validate import as_bounds, as_point, as_values, check_count, check_int, split_bounds

_COMMON_KEYS = ("seed", "bounds", "budget", "max_iter", "f_target", "dim")
_SD_KEYS = (
    "method",
    "dim",
    "seed",
    "params",
    "state",
    "rng",
    "nfev",
    "nit",
    "n_nonfinite",
    "best_x",
    "best_f",
)


@dataclasses.dataclass(frozen=True)
class Params:
    """Hyper-parameters shared by every method (none); subclasses add fields."""

    def check(self, dim: int) -> None:  # noqa: B027 - optional hook
        """Raise ``ValueError`` naming the field when a value is out of range."""


@dataclasses.dataclass
class State:
    """Arrays that change every step; subclasses add fields."""


_INF = math.inf
_GENERATED = State.__init__.__code__.co_filename  # where dataclasses compiles the __init__ it writes
_REPLACERS: dict[tuple[Any, ...], Any] = {}


def _plain_fields(cls: type) -> tuple[str, ...] | None:
    """The field names, in order, of a dataclass whose ``__init__`` only assigns them (the generated one, no
    ``__post_init__``, not frozen, no ``init=False`` field), else None."""
    params = getattr(cls, "__dataclass_params__", None)
    init = getattr(cls.__init__, "__code__", None)
    if (
        params is None
        or params.frozen
        or hasattr(cls, "__post_init__")
        or init is None
        or init.co_filename != _GENERATED
        or "__dict__" not in dir(cls)
    ):
        return None
    fields = dataclasses.fields(cls)
    if not all(f.init for f in fields):
        return None
    return tuple(f.name for f in fields)


def _replacer(cls: type, keys: tuple[str, ...]) -> Any:
    """For a plain State class (see :func:`_plain_fields`) and the names of the fields to change:
    ``replace(state, **changes)``, keyword-only parameters named ``keys``, the class's own ``__init__`` called
    with every field positionally, from the parameters where named, else from ``state`` (what
    ``dataclasses.replace`` passes, without its Python loop over the fields); None for any other class, or a
    name that is not a field."""
    names = _plain_fields(cls)
    if names is None or not set(keys) <= set(names) or {"s", "cls"} & set(names):
        return None  # (a field named s or cls would shadow the generated function's own names)
    args = ", ".join(n if n in keys else f"s.{n}" for n in names)
    ns: dict[str, Any] = {}
    # (as dataclasses writes __init__)
    exec(f"def replace(s, *, {', '.join(keys)}):\n    return cls({args})\n", {"cls": cls}, ns)
    return ns["replace"]


def replacer(cls: type, *keys: str) -> Any:
    """The function :func:`evolve` calls for a state of class ``cls`` and changes named ``keys`` (in that
    order): ``replacer(cls, "x", "t")(state, x=..., t=...)`` is ``evolve(state, x=..., t=...)``, the same new
    object, for a caller that changes the same fields at every step and keeps the function (None: ``evolve``
    goes through ``dataclasses.replace`` for this class)."""
    key = (cls, *keys)
    try:
        return _REPLACERS[key]
    except KeyError:
        rep = _REPLACERS[key] = _replacer(cls, keys)
        return rep


def evolve(state: Any, **changes: Any) -> Any:
    """``dataclasses.replace(state, **changes)``: the same new object. For a plain State (see
    :func:`_plain_fields`) the class is called with its fields positionally (:func:`_replacer`, one function per
    class and set of changed names), which is what ``replace`` does after its Python loop over every field
    (about 2 us a step for a gradient method's state); the new instance keeps its attributes inline (reading
    ``state.__dict__`` would make every later attribute read of it slower). Anything else, and a name that is
    not a field (which ``replace`` refuses), goes through ``dataclasses.replace`` itself."""
    key = (type(state), *changes)
    try:
        rep = _REPLACERS[key]
    except KeyError:
        rep = replacer(*key)
    if rep is None:
        return dataclasses.replace(state, **changes)
    return rep(state, **changes)


class Method(abc.ABC):
    """Base class of every method: public ask/tell written once, algorithms fill the hooks."""

    name: ClassVar[str] = "method"
    Params: ClassVar[type] = Params
    State: ClassVar[type] = State
    #: "values": tell(X, values). "ranking": tell(X, ranking=...) or tell(X, pairs=...); values are
    #: accepted too and turned into the full ranking they imply.
    feedback: ClassVar[str] = "values"
    #: whether the method needs x0 (False: it can start from ``bounds`` or ``dim`` alone).
    requires_x0: ClassVar[bool] = True

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
        self.budget = check_count(budget, "budget", none_ok=True)
        self.max_iter = check_count(max_iter, "max_iter", none_ok=True)
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
        #: queries spent on objective calls that raised or returned an unusable value (see ``count_failed``):
        #: part of the budget and of ``n_queries``, never told to the algorithm.
        self.n_failed = 0
        self._best_x = self.x0.copy()
        self._best_f = math.inf
        #: the ``nit`` of the tell that last lowered ``best`` (the gradient methods' convergence test reads it)
        self._best_nit = 0
        self._pending: np.ndarray | None = None
        #: True once ``samples`` was read: the objective is stochastic, ``F(x; xi)`` at the method's samples
        #: (the step-size control of the gradient methods then compares values only at one sample)
        self.samples_read = False
        #: values of the first rows of the pending batch answered before the objective raised or the run was
        #: interrupted (kept by ``minimize`` so that a resumed run never asks them again).
        self.pending_values: list[float] = []
        #: during ``tell``: the told values when ``tell`` found every one finite, else None (:meth:`finite_values`)
        self._finite: np.ndarray | None = None
        self._setup()
        self.state = self._init(self.x0.copy(), self.rng)

    # ------------------------------------------------------------------ hooks
    def _setup(self) -> None:  # noqa: B027 - optional hook
        """Derived values that never change during a run (rules, index tables, the inner class), set on
        ``self`` from ``self.params``, ``self.dim`` and ``self.bounds`` only: no random numbers, no
        dependence on the state. Called once by ``__init__`` before ``_init``; ``load_state_dict`` relies on
        it being a function of the (checked equal) params, so these values need not be saved."""

    @abc.abstractmethod
    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> State:
        """The initial state."""

    @abc.abstractmethod
    def _ask(self, state: State, rng: np.random.Generator) -> np.ndarray:
        """The next batch ``(n, d)``; may record the pending probe in ``state``."""

    @abc.abstractmethod
    def _tell(self, state: State, X: np.ndarray, values: Any, rng: np.random.Generator) -> State:
        """A new state from the batch's feedback; must not write into ``state``. ``rng`` is the method's
        generator (restored by ``tell`` if the hook raises)."""

    def _tell_draws(self, state: State) -> bool:
        """Whether ``_tell`` may draw from the generator at this step. ``tell`` then snapshots the generator
        first, to restore it if the hook raises (``bit_generator.state``, about 1.5 us: a tenth of a gradient
        method's step at d=10). Default True, always safe; a method returns False only for steps whose
        ``_tell`` draws nothing (``tests/core/test_method_base.py`` holds every registered method to it)."""
        return True

    def _batch_size(self, state: State) -> int:
        """Size of the next ask(); used to stop before a batch would overrun the budget."""
        return 1 if self._pending is None else len(self._pending)

    def _stop(self, state: State) -> dict[str, Any]:
        """Method-specific stopping reasons (e.g. a collapsed population)."""
        return {}

    def _samples(self, state: State, n: int) -> np.ndarray:
        """Sample seeds of the pending batch for a stochastic objective (:mod:`zoo.core.stochastic`), one per
        row. Default: one shared sample per batch, fresh each batch (common random numbers within a batch);
        a method that pairs rows with samples of its own records them in ``_ask`` and returns them here."""
        return sample_seeds(self.seed, self.nit, n)

    def finite_values(self, values: Any) -> bool:
        """Whether ``values`` is the array of the ``tell`` in progress and ``tell`` found every entry finite. A
        value enters through ``tell``, which tests it once (NaN and inf become ``+inf`` there); the hook's formulas
        ask this instead of scanning the same array again (``False`` for any other array, e.g. a slice of it, or
        outside ``tell``: then they test it themselves)."""
        return values is self._finite and values is not None

    def record(self) -> dict[str, float]:
        """Per-step figures for ``res.history`` beside ``nfev`` and ``fun`` (e.g. a stationarity measure);
        called by ``minimize`` after each tell. Default: none."""
        return {}

    def outcome(self) -> dict[str, Any]:
        """What the method says about its run, for ``zoo.minimize``'s result: an optional ``"failure"`` (a
        sentence; the result then has ``success=False``, ``status=6`` and the sentence in ``message``, e.g. a
        run that ends worse than it started), an optional ``"note"`` (a sentence added to ``message``, status
        unchanged) and any further entries, recorded in the result under their names (e.g. ``step_control``).
        Default: nothing to say."""
        return {}

    # ------------------------------------------------------------------ public
    def ask(self) -> np.ndarray:
        """The next batch of points to evaluate, shape ``(n, d)``, read-only."""
        if self._pending is None:
            X = self._ask(self.state, self.rng)
            # (np.asarray returns a float64 ndarray as it is: only anything else is converted)
            if type(X) is not np.ndarray or X.dtype is not F64:
                X = np.asarray(X, dtype=np.float64)
            if X.ndim != 2 or X.shape[1] != self.dim:
                raise RuntimeError(
                    f"{type(self).__name__}._ask returned shape {X.shape}, expected (n, {self.dim})"
                )
            X.setflags(write=False)  # (the method form: half the cost of assigning flags.writeable)
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
        if (values is not None) + (ranking is not None) + (pairs is not None) != 1:
            raise TypeError("tell() takes exactly one of values, ranking=, pairs=")
        fvals = None
        n_bad = 0
        i = None  # the index of the lowest value, once known
        if values is not None:
            fvals = as_values(values, n, "values")
            if n:
                # finite iff the lowest and the highest value are (argmin / argmax return the first NaN if there
                # is one): the lowest is the one the best point needs below, so one scan does both jobs
                i = fvals.argmin()
                lo = fvals.item(i)
                if not (-_INF < lo and fvals.item(fvals.argmax()) < _INF):
                    bad = ~np.isfinite(fvals)
                    n_bad = int(bad.sum())
                    fvals = np.where(bad, np.inf, fvals)
                    i = None
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
        rng_state = self.rng.bit_generator.state if self._tell_draws(self.state) else None
        # the values were checked here, once: the hook's formulas need not scan them again (see finite_values)
        self._finite = fvals if n_bad == 0 else None
        try:
            new_state = self._tell(self.state, X, feedback, self.rng)
        except BaseException:
            self._finite = None
            if rng_state is not None:
                self.rng.bit_generator.state = rng_state
            raise
        self._finite = None
        self.state = new_state
        self.nfev += n
        self.nit += 1
        self.n_nonfinite += n_bad
        if fvals is not None:
            if i is None:  # (values replaced above, or none: argmin raises for an empty batch, as it did)
                i = fvals.argmin()
                lo = fvals.item(i)  # (the Python float that float(fvals[i]) gives, without the numpy scalar)
            if lo < self._best_f:
                self._best_f = lo
                self._best_x = X[i].copy()
                self._best_nit = self.nit
        elif isinstance(feedback, Comparisons):
            self._track_best_from_ranking(X, feedback)
        self._pending = None
        self.pending_values = []

    def _track_best_from_ranking(self, X: np.ndarray, comparisons: Comparisons) -> None:
        """With rankings only there is no value: keep the batch winner as the best point seen."""
        winner = comparisons.winner()
        if winner is not None:
            self._best_x = X[winner].copy()

    def stop(self) -> dict[str, Any]:
        """Why the run should stop: a dict of reasons, empty (falsy) while it should go on."""
        reasons: dict[str, Any] = {}
        if self.budget is not None and self.nfev + self.n_failed + self._batch_size(self.state) > self.budget:
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

    @property
    def samples(self) -> np.ndarray | None:
        """The sample seeds of the pending batch (int64, one per row; rows that must share a sample share a
        seed), or None: for an objective ``F(x; xi)``, :class:`zoo.Stochastic` maps them to samples."""
        if self._pending is None:
            return None
        self.samples_read = True
        out = np.asarray(self._samples(self.state, len(self._pending)), dtype=np.int64)
        out.flags.writeable = False
        return out

    @property
    def n_queries(self) -> int:
        """Objective queries spent: the told batches, the answered rows of the pending batch and the queries of
        calls that failed (``n_failed``). ``minimize`` reports it as ``res.nfev``; it never exceeds the budget."""
        return self.nfev + len(self.pending_values) + self.n_failed

    def count_failed(self, n: int) -> None:
        """Record ``n`` queries spent by an objective call that raised (or returned something unusable): they
        count against the budget (``n_queries``, ``stop``) although no value was told. ``minimize`` calls it
        when the objective fails, so a resumed run keeps the budget a hard limit on calls."""
        self.n_failed += check_int(n, "n (failed queries)", 0)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume bit for bit: plain arrays, numbers and strings; no pickle."""
        return {
            "method": self.name,
            "dim": self.dim,
            "seed": self.seed,
            "params": plain(dataclasses.asdict(self.params)),
            "state": plain(state_to_dict(self.state)),
            "rng": plain(self.rng.bit_generator.state),
            "nfev": self.nfev,
            "nit": self.nit,
            "n_nonfinite": self.n_nonfinite,
            "best_x": self._best_x.copy(),
            "best_f": self._best_f,
            "best_nit": self._best_nit,
            "pending": None if self._pending is None else self._pending.copy(),
            "pending_values": np.array(self.pending_values, dtype=np.float64),
            "n_failed": self.n_failed,
        }

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, from an optimizer built with the same options.

        Refused with a ``ValueError`` (and nothing changed) when the state is for another method, another
        dimension or other hyper-parameters (``Params``), or is missing a field."""
        if not isinstance(sd, dict):
            raise TypeError(
                f"state_dict must be a dict (from state_dict() or checkpoint.load), got {type(sd).__name__}"
            )
        missing = [k for k in _SD_KEYS if k not in sd]
        if missing:
            raise ValueError(f"state_dict is missing {missing}: not a zoo state_dict, or a damaged one")
        if sd["method"] != self.name:
            raise ValueError(f"state_dict is for method {sd['method']!r}, this optimizer is {self.name!r}")
        if int(sd["dim"]) != self.dim:
            raise ValueError(f"state_dict has dimension {sd['dim']}, this optimizer has {self.dim}")
        mine = plain(dataclasses.asdict(self.params))
        theirs = sd["params"]
        differ = tree_diff(mine, theirs) if isinstance(theirs, dict) else ["params"]
        if differ:
            shown = ", ".join(f"{k}={theirs.get(k)!r} (here {mine.get(k)!r})" for k in differ[:4])
            raise ValueError(
                f"state_dict was saved with other options of {self.name!r}: {shown}; "
                "build the optimizer with the same options to resume"
            )
        try:
            state = self._state_from_dict(copy_tree(sd["state"]))
        except TypeError as exc:
            raise ValueError(f"state_dict['state'] does not fit {type(self).__name__}.State: {exc}") from exc
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = copy_tree(sd["rng"])
        self.state = state
        self.rng = rng
        self.seed = int(sd["seed"])
        self.nfev, self.nit, self.n_nonfinite = int(sd["nfev"]), int(sd["nit"]), int(sd["n_nonfinite"])
        self._best_x = np.array(sd["best_x"], dtype=np.float64)
        self._best_f = float(sd["best_f"])
        # absent in checkpoints written before it was kept: counted from the resume
        self._best_nit = int(sd.get("best_nit", sd["nit"]))
        pending = sd.get("pending")
        if pending is not None:
            pending = np.array(pending, dtype=np.float64)
            pending.flags.writeable = False
        self._pending = pending
        done = sd.get("pending_values")
        self.pending_values = [] if done is None or pending is None else [float(v) for v in np.ravel(done)]
        self.n_failed = int(sd.get("n_failed", 0))  # absent in checkpoints written before it was counted

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
            lo, hi = split_bounds(bounds)
            try:
                dim = max(
                    np.size(np.asarray(lo, dtype=np.float64)), np.size(np.asarray(hi, dtype=np.float64))
                )
            except (TypeError, ValueError) as exc:
                raise TypeError("bounds must be a pair (lower, upper) of numbers or arrays") from exc
        if dim is None:
            raise TypeError(f"method {self.name!r} needs x0, or dim= (or bounds) to know the dimension")
        dim = check_count(dim, "dim")
        if bounds is not None:
            b = as_bounds(bounds, dim)
            assert b is not None
            lo, hi = b
            return np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * lo + 0.5 * hi, np.clip(0.0, lo, hi))
        return np.zeros(dim)

    def project(self, X: np.ndarray) -> np.ndarray:
        """Clip points into the bounds (a no-op without bounds)."""
        if self.bounds is None:
            return X
        return np.clip(X, self.bounds[0], self.bounds[1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, seed={self.seed}, nfev={self.nfev}, nit={self.nit})"
