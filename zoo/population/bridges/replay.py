"""The replay base of the library bridges (``cma``, ``ng:<Name>``): seeding and exact resume.

Resuming. Neither pycma's nor nevergrad's internal state has a plain (pickle-free) form, so the state of a
bridge is its *record*: the seed of the library's generator and every batch of values told so far.
``load_state_dict`` builds a fresh library optimizer with the same options and seed and replays the record
(ask, then tell the recorded values). The library is deterministic given its generator, so the replayed
optimizer is bit for bit the one that was saved. Cost: the state grows by one float per evaluation, and loading
costs the library's own overhead for the whole run again (no objective calls).

Non-finite values. zoo's core turns NaN / inf into +inf; the libraries need finite numbers (pycma's
termination checks take differences, nevergrad refuses NaN), so a non-finite value is told as a finite
stand-in that ranks *worst*: larger than every finite value of the run so far (``worst + 1 + |worst|``, with
``worst`` the largest finite value told in the run, kept in the state), never a constant such as 1.0 that a
batch of one point (nevergrad's default single worker) would rank best.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.feedback import Comparisons
from zoo.core.method import Method, State

#: the stand-in before any finite value was seen: finite, and above any value a real objective returns
FIRST_STAND_IN = 1e300


def finite_values(values: np.ndarray, worst_seen: float = -math.inf) -> np.ndarray:
    """Replace non-finite values by a finite value ranking worst in the batch *and* in the run.

    ``worst_seen``: the largest finite value told before (``-inf``: none). The stand-in is
    ``w + 1 + |w|`` for ``w`` the larger of ``worst_seen`` and the batch's largest finite value;
    :data:`FIRST_STAND_IN` when no finite value exists yet.
    """
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    good = values[~bad]
    worst = max(float(good.max()) if good.size else -math.inf, worst_seen)
    stand_in = FIRST_STAND_IN if not math.isfinite(worst) else worst + 1.0 + abs(worst)
    if not math.isfinite(stand_in):  # worst is near the float maximum
        stand_in = np.finfo(np.float64).max
    return np.where(bad, stand_in, values)


@dataclasses.dataclass
class ReplayState(State):
    """The record a bridge resumes from: the library generator's seed and every batch of values told;
    ``worst``: the largest finite value told (the base of the non-finite stand-in)."""

    library_seed: int
    told: list
    asked: bool = False
    worst: float = -math.inf
    rankings: int = 0  # ranking / pairs answers told (their order values carry no scale)


class ReplayBridge(Method):
    """A library optimizer driven through ask/tell, resumed by replaying its record (see module docstring)."""

    State = ReplayState

    # -------------------------------------------------------------- library hooks
    @abc.abstractmethod
    def _new_backend(self, library_seed: int) -> Any:
        """A fresh library optimizer seeded with ``library_seed``."""

    @abc.abstractmethod
    def _backend_ask(self) -> np.ndarray:
        """The library's next batch."""

    @abc.abstractmethod
    def _backend_tell(self, values: np.ndarray) -> None:
        """Report the values of the library's last batch."""

    def _values_to_tell(self, state: ReplayState, feedback: Any) -> np.ndarray:
        """The finite values the library is told (subclasses accepting rankings override this)."""
        return finite_values(np.asarray(feedback, dtype=np.float64), state.worst)

    # -------------------------------------------------------------- zoo hooks
    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> ReplayState:
        library_seed = int(rng.integers(2**31 - 1))
        self._backend = self._new_backend(library_seed)
        return ReplayState(library_seed=library_seed, told=[])

    def _ask(self, state: ReplayState, rng: np.random.Generator) -> np.ndarray:
        X = np.array(self._backend_ask(), dtype=np.float64)
        state.asked = True
        return X

    def _tell(
        self, state: ReplayState, X: np.ndarray, feedback: Any, rng: np.random.Generator
    ) -> ReplayState:
        told = np.array(self._values_to_tell(state, feedback), dtype=np.float64)
        worst, rankings = state.worst, state.rankings
        if isinstance(feedback, Comparisons):
            rankings += 1
        else:
            raw = np.asarray(feedback, dtype=np.float64)
            finite = raw[np.isfinite(raw)]
            if finite.size:
                worst = max(worst, float(finite.max()))
        self._backend_tell(told)
        return ReplayState(
            library_seed=state.library_seed,
            told=[*state.told, told],
            asked=False,
            worst=worst,
            rankings=rankings,
        )

    def _state_from_dict(self, d: dict[str, Any]) -> ReplayState:
        return ReplayState(
            library_seed=int(d["library_seed"]),
            told=[np.asarray(v, dtype=np.float64) for v in d["told"]],
            asked=bool(d["asked"]),
            worst=float(d.get("worst", -math.inf)),
            rankings=int(d.get("rankings", 0)),
        )

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore the record, then rebuild the library optimizer by replaying it (no objective calls)."""
        super().load_state_dict(sd)
        self._backend = self._new_backend(self.state.library_seed)
        for told in self.state.told:
            X = self._backend_ask()
            if len(X) != len(told):
                raise ValueError(
                    f"{self.name}: replay mismatch, the library asked {len(X)} points, "
                    f"the record holds {len(told)} values (saved with other options?)"
                )
            self._backend_tell(told)
        if self.state.asked:
            X = np.asarray(self._backend_ask(), dtype=np.float64)
            if self._pending is not None and not np.array_equal(X, self._pending):
                raise ValueError(
                    f"{self.name}: replay did not reproduce the pending batch "
                    "(the library is not deterministic given its seed)"
                )
