"""``method="auto"``: a portfolio chosen from the dimension, the budget, the feedback and batching.

The rule (the measurements behind it: docs/choosing-a-method.md, benchmarks/RESULTS.md, issue 16):

- values, ``d <= 100``: a **separable line search first**, ``"separable-step"`` (STEP on every coordinate,
  Swarzberg et al. 1994; HCMA's separable phase, Loshchilov et al. 2013), at most half the budget: it solves
  separable functions, multimodal ones included, and stops itself after ``3d + 2`` evaluations when its
  separability test fails. Then a **model-based trust region**, ``"bobyqa"`` (Powell 2009) for at most
  ``MODEL_EVALS_PER_DIM * d`` evaluations (it usually stops earlier, on its own convergence), then
  **BIPOP-CMA-ES** (``"cma-bipop"``; Hansen 2009) with the remaining budget, its first run started at the
  best point so far. The trust region solves smooth unimodal problems within ``1e2 d`` evaluations, where
  CMA-ES is still learning its covariance; BIPOP's restarts handle the multimodal and weakly structured ones.
  A budget below ``10 d``: ``"bobyqa"`` alone. Without ``nlopt`` (the ``bench`` extra): BIPOP-CMA-ES alone.
- values, ``100 < d <= 1000``: separable CMA-ES with IPOP restarts (``CMA_diagonal``; Ros & Hansen 2008).
- values, ``d > 1000``: ``"rge"`` (Adam); with ``batched=True`` it asks ``q = 16`` directions per step.
- rankings (``feedback="ranking"``), by the kind of answer (:func:`answer_kind`, read off the first answer):
  full rankings (noisy or not): ``"rank-sgd"`` for ``d >= RANK_SGD_MIN_DIM``, else ``"cma-bipop"`` told the
  rankings (CMA-ES uses only the order, see :mod:`zoo.population.order_feedback`); **top-k** answers
  (``k < n``): plain ``"cma"``, no restarts (a restart's larger population gets the same k answers, less
  information per query, and a restarted run's winner cannot be compared with the earlier runs'); **pairs**:
  ``"rank-sgd"`` (n/2 pairs per batch hold too little order for CMA-ES's selection). The first batch is asked
  by the full-ranking choice; when the answer's kind picks another method, that method starts from ``x0``
  and the batch is spent (one batch, 10-16 queries).

``choice=`` overrides the rule with one registered name. ``opt.ran`` (and ``res.stop["auto"]`` at the end of
``zoo.minimize``) says what ran and how many evaluations each stage used.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from typing import Any

import numpy as np

from zoo.core import registry
from zoo.core._deprecated import warn_once
from zoo.core.feedback import Comparisons
from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_choice, check_type
from zoo.population.nested import NestedMethod
from zoo.population.order_feedback import AcceptsRankings, forward

#: the trust-region stage's cap, evaluations per dimension (tuned on BBOB d = 10, all 24 functions)
MODEL_EVALS_PER_DIM = 100
#: from this dimension on, rank-sgd is chosen for full rankings (issue 16 ranking benchmark and held-out set)
RANK_SGD_MIN_DIM = 50
_FEEDBACKS = ("values", "ranking")
#: the kinds of ranking answer the rule tells apart (:func:`answer_kind`)
ANSWER_KINDS = ("full", "top-k", "pairs")
_UNSET = object()  # ranking_choice: the deprecated budget argument was not given


@dataclasses.dataclass(frozen=True)
class AutoParams(Params):
    """``batched``: the objective evaluates a batch in one call (``vectorized=True``); ``feedback``: "values"
    or "ranking" (only comparisons will be told); ``choice``: force one registered method; ``options``:
    options for the chosen method (with ``choice``) or for the last stage of the portfolio."""

    batched: bool = False
    feedback: str = "values"
    choice: str | None = None
    options: dict | None = None

    def check(self, dim: int) -> None:
        check_type(self.batched, "batched", bool, "True or False")
        check_choice(self.feedback, "feedback", _FEEDBACKS)
        if self.choice is not None:
            if self.choice == "auto":
                raise ValueError("choice='auto' would choose itself; name a method")
            registry.get(self.choice)  # a clear error for an unknown name
        check_type(self.options, "options", dict, "a dict of the chosen method's options", none_ok=True)


def answer_kind(c: Comparisons) -> str:
    """What a ranking answer says: ``"full"`` (every point of the batch ranked), ``"top-k"`` (only the best
    ``k < n``), or ``"pairs"`` (pairwise comparisons)."""
    if c.ranking is None:
        return "pairs"
    return "full" if len(c.ranking) >= c.n else "top-k"


def ranking_choice(dim: int, answer: str = "full", *old: str, budget: Any = _UNSET) -> str:
    """The method ``auto`` runs from rankings (see the module docstring; the measurements behind it:
    docs/choosing-a-method.md): by the kind of ``answer`` and, for full rankings, by ``dim``.

    The budget does not enter the rule (no measurement in issue 16 showed a budget where the pick should change),
    so the old form ``ranking_choice(dim, budget, answer)`` is deprecated: it warns once and gives the same
    pick as ``ranking_choice(dim, answer)``.
    """
    if budget is not _UNSET or not isinstance(answer, str):  # the old (dim, budget, answer) form
        if len(old) > 1:
            raise TypeError(f"ranking_choice takes (dim, answer); got {2 + len(old)} positional arguments")
        warn_once(
            "ranking_choice(dim, budget, answer)",
            "ranking_choice(dim, answer) (the budget never entered the rule)",
        )
        if not isinstance(answer, str):
            answer = old[0] if old else "full"
    elif old:
        raise TypeError(f"ranking_choice takes (dim, answer); got {2 + len(old)} positional arguments")
    if answer not in ANSWER_KINDS:
        raise ValueError(f"answer must be one of {ANSWER_KINDS}, got {answer!r}")
    if answer == "top-k":
        return "cma"
    if answer == "pairs":
        return "rank-sgd"
    return "rank-sgd" if dim >= RANK_SGD_MIN_DIM else "cma-bipop"


def plan(
    dim: int, budget: int | None, batched: bool = False, feedback: str = "values", answer: str = "full"
) -> list[tuple[str, dict[str, Any], int | None]]:
    """The stages ``auto`` runs: ``(method, options, evaluation cap or None)``, in order."""
    if dim < 1:
        raise ValueError(f"dimension must be >= 1, got {dim}")
    if feedback == "ranking":
        return [(ranking_choice(dim, answer), {}, None)]
    small_budget = budget is not None and budget < 10 * dim
    if dim <= 100 and importlib.util.find_spec("nlopt") is None:  # the trust region needs nlopt (bench extra)
        return [("cma-bipop", {}, None)]
    if dim <= 100:
        if small_budget:
            return [("bobyqa", {}, None)]
        cap = MODEL_EVALS_PER_DIM * dim
        sep = None if budget is None else max(budget // 2, 1)
        return [
            ("separable-step", {"max_evals": sep}, sep),
            ("bobyqa", {"max_evals": cap}, cap),
            ("cma-bipop", {}, None),
        ]
    if dim <= 1000 and not small_budget:
        return [("cma-ipop", {"inner_options": {"cma_options": {"CMA_diagonal": True}}}, None)]
    return [("rge", {"q": 16} if batched else {}, None)]


def choose(dim: int, budget: int | None, batched: bool = False) -> tuple[str, dict[str, Any]]:
    """The method (and options) of the *last* stage ``auto`` runs for values feedback (kept for callers of
    the single-method rule)."""
    name, opts, _ = plan(dim, budget, batched)[-1]
    return name, opts


@dataclasses.dataclass
class AutoState(State):
    stage: int  # index into the plan
    stage_start: int  # nfev when the stage started
    inner_seed: int
    inner_x0: np.ndarray
    ran: list  # [name, evaluations] of the finished stages
    plan: list  # [name, options] of every stage: the plan depends on the budget, which a resume may change
    answer: str = ""  # rankings: the kind of the first answer ("full", "top-k", "pairs"); "" before it


@register("auto")
class Auto(AcceptsRankings, NestedMethod):
    """A portfolio: a separable line search, a trust region, then BIPOP-CMA-ES for d <= 100 (see the module
    docstring)."""

    Params = AutoParams
    State = AutoState

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> AutoState:
        if self.params.choice is not None:
            stages = [[self.params.choice, dict(self.params.options or {})]]
        else:
            stages = [
                [n, dict(o)]
                for n, o, _ in plan(self.dim, self.budget, self.params.batched, self.params.feedback)
            ]
            stages[-1][1].update(self.params.options or {})
        # A plan of one method hands it the user's seed unchanged: auto(seed=s) then runs exactly
        # chosen(seed=s), what a user expects of a dispatcher (and a comparison then measures the choice,
        # not the seed). A portfolio's stages draw their seeds from auto's generator, one per stage.
        state = AutoState(
            stage=0,
            stage_start=0,
            inner_seed=self.seed if len(stages) == 1 else int(rng.integers(2**63 - 1)),
            inner_x0=x0.copy(),
            ran=[],
            plan=stages,
        )
        self._inner = self._build_inner(state)
        return state

    def _build_inner(self, state: AutoState) -> Method:
        name, opts = state.plan[state.stage]
        budget = None if self.budget is None else self.budget - state.stage_start
        return registry.get(name)(
            state.inner_x0.copy(),
            seed=state.inner_seed,
            bounds=self.bounds,
            budget=budget,
            f_target=self.f_target,
            **opts,
        )

    @property
    def chosen(self) -> str:
        """The method auto is running now."""
        return self.state.plan[self.state.stage][0]

    @property
    def stages(self) -> list[str]:
        """The methods of the plan, in order."""
        return [name for name, _ in self.state.plan]

    @property
    def ran(self) -> str:
        """What ran: ``"separable-step (32 evals) -> bobyqa (412 evals) -> cma-bipop (9556 evals)"``."""
        done = [f"{n} ({e} evals)" for n, e in self.state.ran]
        done.append(f"{self.chosen} ({self.nfev - self.state.stage_start} evals)")
        return " -> ".join(done)

    @property
    def deterministic(self) -> bool:
        """Whether the stage running now draws no random numbers (the trust region does not: its first
        batches do not depend on the seed; the CMA stage does)."""
        return self._inner.deterministic

    def _tell(self, state: AutoState, X: np.ndarray, feedback: Any, rng: np.random.Generator) -> AutoState:
        if isinstance(feedback, Comparisons) and not state.answer:
            switched = self._choose_by_answer(state, X, feedback, rng)
            if switched is not None:
                return switched
        forward(self._inner, X, feedback, self)
        if state.stage + 1 >= len(state.plan):
            return state
        reasons = {k: v for k, v in self._inner.stop().items() if k != "f_target"}
        if not reasons:
            return state
        # the stage stopped on its own (converged, or its cap): the next stage goes on from the best point
        nfev = self.nfev + len(X)  # the core counts this batch after _tell
        if self.budget is not None and nfev >= self.budget:
            return state
        best_x = self._inner.best[0] if np.isfinite(self._inner.best[1]) else state.inner_x0
        new = AutoState(
            stage=state.stage + 1,
            stage_start=nfev,
            inner_seed=int(rng.integers(2**63 - 1)),
            inner_x0=np.asarray(best_x, dtype=np.float64).copy(),
            ran=[*state.ran, [state.plan[state.stage][0], nfev - state.stage_start]],
            plan=state.plan,
        )
        if hasattr(self._inner, "close"):
            self._inner.close()
        self._inner = self._build_inner(new)
        return new

    def _choose_by_answer(
        self, state: AutoState, X: np.ndarray, c: Comparisons, rng: np.random.Generator
    ) -> AutoState | None:
        """The first ranking answer says its kind (full, top-k, pairs), which the rule reads: when the rule
        picks another method for it, that method starts from ``x0`` now (this first batch, asked by the
        method chosen for full rankings, is spent); else the kind is only recorded."""
        state.answer = answer_kind(c)
        if self.params.choice is not None or self.params.feedback != "ranking" or self.nfev > 0:
            return None  # a forced method, values promised, or a state saved before the answer was recorded
        name = plan(self.dim, self.budget, self.params.batched, "ranking", state.answer)[0][0]
        if name == state.plan[0][0]:
            return None
        nfev = self.nfev + len(X)
        if self.budget is not None and nfev >= self.budget:
            return None
        new = AutoState(
            stage=0,
            stage_start=nfev,
            inner_seed=self.seed,  # the whole rest of the run is this method's: the user's seed, as above
            inner_x0=self.x0.copy(),
            ran=[[state.plan[0][0], nfev]],
            plan=[[name, dict(self.params.options or {})]],
            answer=state.answer,
        )
        self._inner = self._build_inner(new)
        return new

    def _stop(self, state: AutoState) -> dict[str, Any]:
        return {k: v for k, v in self._inner.stop().items() if k not in ("budget", "f_target")}

    def stop(self) -> dict[str, Any]:
        reasons = super().stop()
        if reasons:
            reasons["auto"] = self.ran  # the result says what ran
        return reasons

    def _state_from_dict(self, d: dict[str, Any]) -> AutoState:
        state = super()._state_from_dict(d)
        state.inner_x0 = np.asarray(state.inner_x0, dtype=np.float64)
        state.ran = [[str(n), int(e)] for n, e in state.ran]
        state.plan = [[str(n), dict(o)] for n, o in state.plan]
        return state
