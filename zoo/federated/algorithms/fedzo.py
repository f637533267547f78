"""FedZO (Fang et al., IEEE TSP 2022) and FedProx with ZO estimates (Li et al., MLSys 2020).

FedZO: each sampled client starts from the server's ``x``, runs ``local_steps`` steps of RGE (``q`` = 20
Gaussian directions, ``mu`` = 0.01, forward differences: ``q + 1`` queries a step) with a local Adam, and
uploads its iterate (``d`` floats); the server averages the iterates with the client weights.

FedProx adds the proximal term's gradient ``prox * (x - x_global)`` to each local estimate (known in closed
form, so it costs no query), which holds heterogeneous clients near the global point.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.federated.algorithms.base import (
    AlgoParams,
    FederatedAlgorithm,
    client_estimates,
    new_rule,
    stacked_steps,
)


class FedZO(FederatedAlgorithm):
    """FedZO: local RGE + Adam steps, the server averages the iterates."""

    name = "fedzo"

    def correction(self, g, x, message, states, step):  # noqa: ARG002 - hook for FedProx / SCAFFOLD
        return g

    def local_update(self, message, states, batch, rngs, rnd, bounds=None):
        p = self.params
        C = len(states)
        x = np.repeat(message["x"][None, :], C, axis=0)
        rule = new_rule(p)
        rule_state = rule.init(x)
        self._estimates = np.zeros_like(x)
        for step in range(p.local_steps):
            g, ok = client_estimates(batch, x, rngs, p.q, p.mu, bounds)
            ok &= batch.alive
            self._estimates += np.where(ok[:, None], g, 0.0) / p.local_steps
            g = self.correction(g, x, message, states, step)
            x, rule_state = stacked_steps(x, rule, rule_state, g, ok, bounds)
        return self.uploads(x, message, states), states

    def uploads(self, x, message, states):
        return [{"x": x[c]} for c in range(len(states))]


@dataclasses.dataclass(frozen=True)
class FedProxParams(AlgoParams):
    prox: float = 0.1

    def check(self) -> None:
        super().check()
        if not (np.isfinite(self.prox) and self.prox >= 0):
            raise ValueError(f"prox (the proximal coefficient) must be >= 0, got {self.prox!r}")


class FedProx(FedZO):
    """FedZO with the proximal term ``prox/2 ||x - x_global||^2`` added to each local objective."""

    name = "fedprox"
    Params = FedProxParams

    def correction(self, g, x, message, states, step):
        return g + self.params.prox * (x - message["x"][None, :])
