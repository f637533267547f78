"""FZooS: federated zeroth-order optimization with trajectory-informed surrogate gradients
(Shu, Lin, Dai, Low: "Federated Zeroth-Order Optimization using Trajectory-Informed Surrogate Gradients", 2023).

Client ``i`` keeps every point it queried (its trajectory and its active queries). Local step ``k`` of round ``t``:

1. active queries: ``f_i`` at ``x`` and at ``x + delta u_j`` for ``n_active`` Gaussian directions ``u_j`` (counted);
2. GP surrogate on the ``n_nearest`` history points nearest to ``x``; its mean's analytic gradient
   ``grad mu_i(x)`` replaces fresh finite differences (old queries keep informing new steps);
3. adaptive correction, evaluated at the current local point (unlike SCAFFOLD's frozen control variate):
   ``g = grad mu_i(x) + gamma_t (grad F_hat(x) - grad f_hat_i(x))``, ``gamma_t = gamma / (t + 1)``;
4. ``x <- rule(x, g)`` with a zoo update rule (Adam by default).

Communication: all parties build the same random Fourier features from one seed; after its local steps a client
fits ``nu_i`` (``n_features`` = M floats) on its history and uploads ``(x_i, nu_i)``; the server averages both with
the client weights and broadcasts ``(x, nu)``. So ``grad F_hat(z) = -sqrt(2/M) sum_j nu_j sin(w_j . z + b_j) w_j``.
The RFF lengthscale is fixed after round 0 from how far the clients moved (one float, broadcast once).
Every query, the active ones and those that seed the history, counts; the server never queries.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.federated.algorithms.base import (
    AlgoParams,
    FederatedAlgorithm,
    new_rule,
    probe_points,
    stacked_steps,
    weighted_mean,
)
from zoo.federated.algorithms.surrogate import gp_mean_gradient, nearest, rff_basis, rff_fit, rff_gradient


@dataclasses.dataclass(frozen=True)
class FZooSParams(AlgoParams):
    lr: float = 0.2
    update: str = "sgd"
    n_active: int = 5
    delta: float = 0.01
    n_nearest: int = 400
    lengthscale: float = 0.4
    gp_noise: float = 1e-6
    n_features: int = 100
    rff_points: int = 200
    rff_scale: float = 2.0
    gamma: float = 1.0
    history: int = 2000
    seed: int = 0

    def check(self) -> None:
        super().check()
        for name in ("n_active", "n_nearest", "n_features", "rff_points", "history"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("delta", "lengthscale", "gp_noise", "rff_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (np.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be >= 0, got {self.gamma!r}")


class FZooS(FederatedAlgorithm):
    """FZooS: GP-surrogate gradients on each client's history, corrected by the averaged RFF surrogate."""

    name = "fzoos"
    Params = FZooSParams

    def init_server(self, x0, seed):
        return {"x": x0.copy(), "nu": np.zeros(self.params.n_features), "rff_ls": np.zeros(1)}

    def broadcast(self, server, rnd):
        msg = {"x": server["x"]}
        if server["rff_ls"][0] > 0:
            msg["nu"] = server["nu"]
            if rnd == server.get("ls_round", -1) + 1:  # the lengthscale travels once
                msg["rff_ls"] = server["rff_ls"]
        return msg

    def init_client(self, dim):
        return {"X": np.zeros((0, dim)), "y": np.zeros(0), "nu": np.zeros(self.params.n_features),
                "rff_ls": np.zeros(1)}

    def local_update(self, message, states, batch, rngs, rnd, bounds=None):
        p = self.params
        C, d = len(states), message["x"].shape[0]
        # a newly broadcast RFF lengthscale replaces the client's own and voids the nu fitted with it
        fresh_ls = "rff_ls" in message
        own_ls = [message["rff_ls"].copy() if fresh_ls else s["rff_ls"] for s in states]
        own_nu = [np.zeros(p.n_features) if fresh_ls else s["nu"] for s in states]
        hist_X = [s["X"] for s in states]
        hist_y = [s["y"] for s in states]
        x = np.repeat(message["x"][None, :], C, axis=0)
        x_start = x.copy()
        rule = new_rule(p)
        rule_state = rule.init(x)
        gamma = p.gamma / (rnd + 1)
        correct = "nu" in message and gamma > 0
        for _ in range(p.local_steps):
            X, _ = probe_points(x, rngs, p.n_active, p.delta, bounds)
            values = batch(X)  # (C, n_active + 1)
            ok = batch.alive.copy()
            g = np.zeros_like(x)
            for c in np.flatnonzero(ok):
                keep = np.isfinite(values[c])
                hist_X[c] = np.concatenate([hist_X[c], X[c][keep]])[-p.history:]
                hist_y[c] = np.concatenate([hist_y[c], values[c][keep]])[-p.history:]
                if len(hist_y[c]) < 2:
                    ok[c] = False
                    continue
                idx = nearest(x[c], hist_X[c], p.n_nearest)
                ls = p.lengthscale * np.sqrt(d)
                g[c] = gp_mean_gradient(x[c], hist_X[c][idx], hist_y[c][idx], ls, p.gp_noise)
            if correct:
                for c in np.flatnonzero(ok):
                    W, b = rff_basis(p.seed, p.n_features, d, float(own_ls[c][0]))
                    g[c] += gamma * (rff_gradient(W, b, message["nu"] - own_nu[c], x[c]))
            x, rule_state = stacked_steps(x, rule, rule_state, g, ok, bounds)
        uploads, new_states = [], []
        moved = np.linalg.norm(x - x_start, axis=1)
        for c in range(C):
            ls = float(own_ls[c][0]) or max(p.rff_scale * float(moved[c]), 1e-8)
            W, b = rff_basis(p.seed, p.n_features, d, ls)
            idx = nearest(x[c], hist_X[c], p.rff_points)
            nu = rff_fit(W, b, hist_X[c][idx], hist_y[c][idx]) if len(idx) >= 2 else np.zeros(p.n_features)
            uploads.append({"x": x[c], "nu": nu})
            if not own_ls[c][0]:
                uploads[-1]["moved"] = moved[c:c + 1]
            new_states.append({"X": hist_X[c], "y": hist_y[c], "nu": nu, "rff_ls": np.array([ls])})
        return uploads, new_states

    def aggregate(self, server, uploads, weights, rnd, n_clients):
        out = dict(server)
        out["x"] = weighted_mean(weights, uploads, "x")
        if server["rff_ls"][0] == 0:
            moved = np.array([float(u["moved"][0]) for u in uploads if "moved" in u])
            if len(moved):
                out["rff_ls"] = np.array([max(self.params.rff_scale * float(np.median(moved)), 1e-8)])
                out["ls_round"] = rnd
            return out  # nu of round 0 were fitted on each client's own lengthscale: not averaged
        out["nu"] = weighted_mean(weights, uploads, "nu")
        return out
