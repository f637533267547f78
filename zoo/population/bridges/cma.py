"""``"cma"``: CMA-ES through pycma (Hansen & Ostermeier 2001; Hansen 2016, "The CMA Evolution Strategy: A
Tutorial", arXiv:1604.00772) behind the zoo ask/tell contract, with box constraints and rank feedback.

Seeding: pycma draws its N(0, I) samples through its ``randn`` option; zoo passes a function reading a
``numpy.random.Generator`` seeded from the zoo rng (pycma's ``seed`` option is NaN, so pycma never touches
``np.random``'s global state). Resuming: by replay (:mod:`zoo.population.bridges.replay`).

Bounds (``bound_handling``): "penalty" (default; queries are ``clip(x)``, pycma ranks
``f(clip(x))`` plus the adaptive penalty of Hansen et al. 2009, :class:`~zoo.population.bridges.bounds.AdaptivePenalty`,
which stays off while the mean is inside the box, so boundary optima are not slowed), "mirror" (reflection
into the box), "clip" (projection only) or "pycma" (pycma's ``BoundTransform``, about 0.1 ms per sample).

Rankings: ``tell(X, ranking=...)`` / ``pairs=`` (:mod:`zoo.population.order_feedback`); CMA-ES uses only the
order, unranked points of a top-k answer are told as the mean (no weight), and pycma's value-based stopping
rules (``tolfun``, ``tolfunhist``, ``tolflatfitness``) are ignored once a ranking was told, since order values
carry no scale. Overhead: pycma's, about 0.13 ms per candidate in d = 10 (docs/methods/cma.md).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.feedback import Comparisons
from zoo.core.method import Params
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int, check_real, check_type
from zoo.population.bridges.bounds import AdaptivePenalty, mirror_into_box
from zoo.population.bridges.replay import ReplayBridge, ReplayState, finite_values
from zoo.population.order_feedback import AcceptsRankings, order_values

_BOUND_HANDLINGS = ("mirror", "penalty", "clip", "pycma")
_CMA_RESERVED = ("randn", "seed", "popsize", "bounds", "CMA_mirrors_seed", "verbose", "verb_log", "verb_disp")
#: pycma stopping rules that read the scale of the values (meaningless for order values)
_VALUE_STOPS = ("tolfun", "tolfunhist", "tolflatfitness", "tolfunrel")
#: the largest step size derived from bounds: sigma^2 * C must stay finite in float64
_MAX_BOUND_SIGMA = 1e100


@dataclasses.dataclass(frozen=True)
class CMAParams(Params):
    """``sigma0``: initial step size (None: 0.2 x the mean width of finite bounds, else 0.5);
    ``popsize``: lambda (None: pycma's 4 + floor(3 ln d)); ``cma_options``: further pycma options
    (e.g. ``{"CMA_diagonal": True, "tolfun": 1e-12}``); ``bound_handling``: "penalty" (adaptive, Hansen et al.
    2009), "mirror", "clip" or "pycma" (see the module docstring)."""

    sigma0: float | None = None
    popsize: int | None = None
    cma_options: dict | None = None
    bound_handling: str = "penalty"

    def check(self, dim: int) -> None:
        check_real(self.sigma0, "sigma0", 0, low_open=True, none_ok=True)
        check_int(self.popsize, "popsize", 2, none_ok=True, why=" (CMA-ES needs two samples to rank)")
        check_choice(self.bound_handling, "bound_handling", _BOUND_HANDLINGS)
        if check_type(self.cma_options, "cma_options", dict, "a dict of pycma options", none_ok=True):
            clash = sorted(set(self.cma_options) & set(_CMA_RESERVED))
            if clash:
                raise ValueError(f"cma_options {clash} are set by zoo (use popsize=, bounds=, seed=)")


def default_cma_popsize(dim: int) -> int:
    """pycma's default population size 4 + floor(3 ln d) (Hansen 2016, Table 1)."""
    return 4 + int(3 * math.log(dim))


@register("cma", "cmaes")
class CMA(AcceptsRankings, ReplayBridge):
    """CMA-ES through pycma (Hansen & Ostermeier 2001), ask/tell, values or rankings; the overhead is pycma's."""

    Params = CMAParams

    @property
    def popsize(self) -> int:
        return self.params.popsize or default_cma_popsize(self.dim)

    @property
    def initial_sigma(self) -> float:
        """``sigma0``, or 0.2 x the mean width of finite bounds (2 on BBOB's [-5, 5]), else 0.5. Bounds so wide
        that this step exceeds 1e100 (``(-1e160, 1e160)``) say nothing about the scale: 0.5 then."""
        if self.params.sigma0 is not None:
            return float(self.params.sigma0)
        if self.bounds is not None:
            with np.errstate(over="ignore"):
                width = self.bounds[1] - self.bounds[0]
            if np.all(np.isfinite(width)) and np.all(width > 0):
                sigma = float(0.2 * np.mean(width))
                if math.isfinite(sigma) and sigma <= _MAX_BOUND_SIGMA:
                    return sigma
        return 0.5

    def _new_backend(self, library_seed: int) -> Any:
        import cma

        gen = np.random.Generator(np.random.PCG64(library_seed))

        def randn(*shape: int) -> np.ndarray:
            return gen.standard_normal(shape)

        opts: dict[str, Any] = {
            "randn": randn,
            "seed": float("nan"),  # never seed (or read) numpy's global RNG
            "popsize": self.popsize,
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
            **(self.params.cma_options or {}),
        }
        if self.bounds is not None and self.params.bound_handling == "pycma":
            opts["bounds"] = [self.bounds[0].tolist(), self.bounds[1].tolist()]
        self._asked: list | None = None
        self._penalty = (
            AdaptivePenalty(*self.bounds)
            if self.bounds is not None and self.params.bound_handling == "penalty"
            else None
        )
        return cma.CMAEvolutionStrategy(self.x0.copy(), self.initial_sigma, opts)

    def _backend_ask(self) -> np.ndarray:
        self._asked = self._backend.ask()
        X = np.asarray(self._asked, dtype=np.float64)
        if self.bounds is not None and self.params.bound_handling == "mirror":
            X = mirror_into_box(X, self.bounds[0], self.bounds[1])  # pycma is told its own samples
        elif self.bounds is not None and self.params.bound_handling in ("clip", "penalty"):
            X = np.clip(X, self.bounds[0], self.bounds[1])
        return X

    def _values_to_tell(self, state: ReplayState, feedback: Any) -> np.ndarray:
        if isinstance(feedback, Comparisons):
            return order_values(feedback)  # +inf: unranked (no weight); kept so in the record
        return finite_values(np.asarray(feedback, dtype=np.float64), state.worst)

    def _backend_tell(self, values: np.ndarray) -> None:
        es = self._backend
        solutions = [np.asarray(s, dtype=np.float64) for s in self._asked]
        told = np.array(values, dtype=np.float64)
        unranked = np.isinf(told)
        if unranked.any():
            # a top-k answer: the unranked points are told as the mean, a zero step, so they carry no weight;
            # distinct order values behind the ranked ones keep pycma's flat-fitness rule quiet
            top = float(told[~unranked].max()) if (~unranked).any() else 0.0
            told[unranked] = top + 1.0 + np.arange(int(unranked.sum()))
            for i in np.flatnonzero(unranked):
                solutions[i] = np.array(es.mean, dtype=np.float64)
        if self._penalty is not None:
            stds = es.sigma * np.sqrt(np.asarray(es.sm.variances, dtype=np.float64))
            self._penalty.update(told, np.asarray(es.mean), stds, float(es.sp.weights.mueff), len(told))
            told = told + self._penalty.penalty(np.array(solutions))
        es.tell(solutions, told.tolist())
        self._asked = None

    def _track_best_from_ranking(self, X: np.ndarray, comparisons: Comparisons) -> None:
        # rankings carry no value to compare across batches: keep the batch winner when the answer names
        # one, else (disjoint pairs) the distribution mean, CMA-ES's own estimate (pycma's xfavorite)
        winner = comparisons.winner()
        self._best_x = (
            X[winner].copy() if winner is not None else np.array(self._backend.mean, dtype=np.float64)
        )

    def _batch_size(self, state: ReplayState) -> int:
        return self.popsize

    def _stop(self, state: ReplayState) -> dict[str, Any]:
        if not state.told:
            return {}
        ignore = {"ftarget", "maxfevals"}
        if state.rankings:
            ignore.update(_VALUE_STOPS)
        reasons = {k: v for k, v in dict(self._backend.stop()).items() if k not in ignore}
        return {f"cma_{k}": v for k, v in reasons.items()}
