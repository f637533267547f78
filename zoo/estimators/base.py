"""Estimate-then-step: the shape shared by every gradient estimator in zoo.

An estimator's ``ask`` returns probe points around the iterate ``x``; its ``tell`` turns their values into a
gradient estimate ``g``; an update rule from :mod:`zoo.updates` (``update=`` option: "sgd", "momentum",
"adam", "sign", or any transform such as ``zoo.updates.chain(...)``; ``lr=`` a number or a schedule) turns
``g`` into the step.
So RGE + Adam or CGE + SGD are compositions of options, not classes.

Subclasses implement ``_probe(x, rng) -> (X, probe)`` and ``_estimate(state, X, values) -> g | None``
(None: nothing usable in this batch, the step is skipped and counted in ``state.n_skipped``).

Bounds: the iterate is projected onto the box after each step and probe points are clipped into it;
estimators then use the actual displacement of each clipped probe, so no query ever leaves the box.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.validate import check_real
from zoo.updates.base import LearningRate, Transform, make_rule


@dataclasses.dataclass(frozen=True)
class GradientParams(Params):
    mu: float = 1e-3
    update: str | Transform = "adam"
    lr: LearningRate = 0.1

    def check(self, dim: int) -> None:
        check_real(self.mu, "mu (the smoothing radius)", 0, low_open=True)
        if not callable(self.lr):  # a rule accepts lr 0 (torch schedules reach it); a minimizer needs lr > 0
            check_real(self.lr, "lr", 0, low_open=True)
        make_rule(self.update, self.lr)  # validates the rule name and lr


@dataclasses.dataclass
class GradientState(State):
    x: np.ndarray
    t: int
    rule: dict[str, Any]
    probe: dict[str, Any]
    g: np.ndarray
    n_skipped: int = 0


class GradientMethod(Method):
    """Base of the value-based gradient estimators (RGE, CGE)."""

    Params = GradientParams
    State = GradientState

    def _setup(self) -> None:
        self.rule = make_rule(self.params.update, self.params.lr)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> GradientState:
        return GradientState(x=x0, t=0, rule=self.rule.init(x0), probe={}, g=np.zeros_like(x0))

    @abc.abstractmethod
    def _probe(self, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
        """The probe batch around ``x`` and what the estimate needs to remember about it."""

    @abc.abstractmethod
    def _estimate(self, state: GradientState, X: np.ndarray, values: np.ndarray) -> np.ndarray | None:
        """The gradient estimate from the probe values (None: nothing usable, skip the step)."""

    def _ask(self, state: GradientState, rng: np.random.Generator) -> np.ndarray:
        X, probe = self._probe(state.x, rng)
        state.probe = probe  # the pending probe is part of the state, so state_dict() can resume mid-step
        return self.project(X) if self.bounds is not None else X

    def _tell(
        self, state: GradientState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> GradientState:
        g = self._estimate(state, X, values)
        if g is None:
            return dataclasses.replace(state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1)
        x_new, rule_state = self.rule.apply(state.x, g, state.rule)
        # a non-finite g or an exploding step never poisons the iterate (NaN/inf in g reach x_new)
        if not np.isfinite(x_new).all():
            return dataclasses.replace(state, probe={}, t=state.t + 1, n_skipped=state.n_skipped + 1)
        if self.bounds is not None:
            x_new = self.project(x_new)
        return GradientState(
            x=x_new, t=state.t + 1, rule=rule_state, probe={}, g=g, n_skipped=state.n_skipped
        )

    @property
    def x(self) -> np.ndarray:
        """The current iterate."""
        return self.state.x.copy()

    @property
    def gradient(self) -> np.ndarray:
        """The last gradient estimate."""
        return self.state.g.copy()

    def estimate_gradient(self, fun, x: Any | None = None) -> np.ndarray:
        """One estimate of the gradient of a vectorized ``fun`` at ``x`` (default: the iterate), without
        stepping or counting: for tests and diagnostics."""
        x = self.state.x if x is None else np.asarray(x, dtype=np.float64)
        X, probe = self._probe(x, self.rng)
        state = dataclasses.replace(self.state, x=x, probe=probe)
        values = np.asarray(fun(X), dtype=np.float64)
        values = np.where(np.isfinite(values), values, np.inf)
        g = self._estimate(state, X, values)
        return np.zeros_like(x) if g is None else g
