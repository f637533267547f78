"""SCAFFOLD (Karimireddy et al., ICML 2020) with zeroth-order estimates.

Local step: ``x <- rule(x, g_i(x) - c_i + c)`` with ``g_i`` the RGE estimate, ``c_i`` the client's control
variate and ``c`` the server's. After the local steps the client refreshes ``c_i``:

- option I: ``c_i+ = g_i(x_global)``, a fresh RGE estimate at the global point (``q + 1`` more queries, counted);
- option II: ``c_i+ = c_i - c + (x_global - x_i) / (K lr)``, which under SGD equals the mean of the raw local
  estimates ``(1/K) sum_k g_i(x_k)``; zoo uses that mean, so option II stays correct under Adam too.

Upload ``(x_i, c_i+ - c_i)``: ``2 d`` floats. Server: ``x <- weighted mean of x_i``,
``c <- c + (|S| / N) * weighted mean of (c_i+ - c_i)``; broadcast ``(x, c)``: ``2 d`` floats.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.federated.algorithms.base import AlgoParams, client_estimates, weighted_mean
from zoo.federated.algorithms.fedzo import FedZO


@dataclasses.dataclass(frozen=True)
class ScaffoldParams(AlgoParams):
    option: int = 2

    def check(self) -> None:
        super().check()
        if self.option not in (1, 2):
            raise ValueError(
                f"option must be 1 or 2 (SCAFFOLD's control-variate update), got {self.option!r}"
            )


class Scaffold(FedZO):
    """SCAFFOLD with RGE estimates and control variates (option I or II)."""

    name = "scaffold"
    Params = ScaffoldParams

    def init_server(self, x0, seed):
        return {"x": x0.copy(), "c": np.zeros_like(x0)}

    def broadcast(self, server, rnd):
        return {"x": server["x"], "c": server["c"]}

    def init_client(self, dim):
        return {"c": np.zeros(dim)}

    def correction(self, g, x, message, states, step):
        c_i = np.stack([s["c"] for s in states])
        return g - c_i + message["c"][None, :]

    def local_update(self, message, states, batch, rngs, rnd, bounds=None):
        uploads, states = super().local_update(message, states, batch, rngs, rnd, bounds)
        C = len(states)
        if self.params.option == 1:
            x_g = np.repeat(message["x"][None, :], C, axis=0)
            fresh, ok = client_estimates(batch, x_g, rngs, self.params.q, self.params.mu, bounds)
        else:
            fresh, ok = self._estimates, np.ones(C, dtype=bool)
        new_states = []
        for c in range(C):
            c_new = fresh[c] if ok[c] else states[c]["c"]
            uploads[c]["dc"] = c_new - states[c]["c"]
            new_states.append({"c": c_new})
        return uploads, new_states

    def aggregate(self, server, uploads, weights, rnd, n_clients):
        x = weighted_mean(weights, uploads, "x")
        dc = weighted_mean(weights, uploads, "dc")
        return {"x": x, "c": server["c"] + (len(uploads) / n_clients) * dc}
