"""``method="auto"``: pick a method from the dimension, the budget and whether the objective is batched.

The rule (see docs/choosing-a-method.md for the reasoning and docs/bbob.md for the measurements):

- ``d <= 100`` and a budget of at least ``10 d``: BIPOP-CMA-ES (``"cma-bipop"``; Hansen 2009), the most
  robust of zoo's methods on the 24 BBOB functions (multimodal, ill-conditioned, weakly structured).
- ``100 < d <= 1000``: separable CMA-ES with IPOP restarts (diagonal covariance, linear cost in ``d``;
  Ros & Hansen 2008), ``"cma-ipop"`` with ``cma_options={"CMA_diagonal": True}``.
- ``d > 1000`` (or a budget below ``10 d``): a gradient estimator, ``"rge"`` with Adam; with a batched
  objective (``batched=True``) it asks ``q = 16`` directions per step so one call evaluates a big batch.

``choice=`` overrides the rule with a registered name. ``zoo.make("auto", x0=x0).chosen`` says what it picked.
The inner optimizer does the work; ``state_dict`` nests its state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core import registry
from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_type
from zoo.population.nested import NestedMethod


@dataclasses.dataclass(frozen=True)
class AutoParams(Params):
    """``batched``: the objective evaluates a batch in one call (``vectorized=True``); ``choice``: force a
    registered method; ``options``: options for the chosen method."""

    batched: bool = False
    choice: str | None = None
    options: dict | None = None

    def check(self, dim: int) -> None:
        check_type(self.batched, "batched", bool, "True or False")
        if self.choice is not None:
            if self.choice == "auto":
                raise ValueError("choice='auto' would choose itself; name a method")
            registry.get(self.choice)  # a clear error for an unknown name
        check_type(self.options, "options", dict, "a dict of the chosen method's options", none_ok=True)


def choose(dim: int, budget: int | None, batched: bool = False) -> tuple[str, dict[str, Any]]:
    """The (method, options) ``auto`` runs for a problem of dimension ``dim`` with ``budget`` queries."""
    if dim < 1:
        raise ValueError(f"dimension must be >= 1, got {dim}")
    small_budget = budget is not None and budget < 10 * dim
    if dim <= 100 and not small_budget:
        return "cma-bipop", {}
    if dim <= 1000 and not small_budget:
        return "cma-ipop", {"inner_options": {"cma_options": {"CMA_diagonal": True}}}
    return "rge", ({"q": 16} if batched else {})


@dataclasses.dataclass
class AutoState(State):
    chosen: str
    inner_seed: int
    inner_options: dict


@register("auto")
class Auto(NestedMethod):
    """Picks a method from the dimension, budget and batching (BIPOP-CMA-ES for d <= 100), and runs it."""

    Params = AutoParams
    State = AutoState

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> AutoState:
        if self.params.choice is not None:
            name, opts = self.params.choice, {}
        else:
            name, opts = choose(self.dim, self.budget, self.params.batched)
        opts.update(self.params.options or {})
        # the choice depends on the budget, which a resume may change: it is state, not a derived value
        state = AutoState(chosen=name, inner_seed=int(rng.integers(2**63 - 1)), inner_options=opts)
        self._inner = self._build_inner(state)
        return state

    def _build_inner(self, state: AutoState) -> Method:
        return registry.get(state.chosen)(
            self.x0.copy(),
            seed=state.inner_seed,
            bounds=self.bounds,
            budget=self.budget,
            f_target=self.f_target,
            **state.inner_options,
        )

    @property
    def chosen(self) -> str:
        """The method auto is running."""
        return self.state.chosen

    @property
    def deterministic(self) -> bool:
        return self._inner.deterministic

    def _tell(
        self, state: AutoState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> AutoState:
        self._inner.tell(X, values)
        return state

    def _stop(self, state: AutoState) -> dict[str, Any]:
        return {k: v for k, v in self._inner.stop().items() if k not in ("budget", "f_target")}
