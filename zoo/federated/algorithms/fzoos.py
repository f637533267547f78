"""FZooS: federated zeroth-order optimization with trajectory-informed surrogate gradients
(Shu, Lin, Dai, Low: "Federated Zeroth-Order Optimization using Trajectory-Informed Surrogate Gradients", 2023).

Client ``i`` keeps a window of the last ``window`` points it queried (its trajectory and its active queries).
Local step ``k`` of round ``t``, for all clients of the stack at once:

1. active queries: ``f_i`` at ``x`` and at ``x + delta u_j`` for ``n_active`` Gaussian directions ``u_j`` (counted),
   appended to the window (the oldest points leave it);
2. GP surrogate on the window; its mean's analytic gradient ``grad mu_i(x)`` replaces fresh finite differences
   (old queries keep informing new steps);
3. adaptive correction, evaluated at the current local point (unlike SCAFFOLD's frozen control variate):
   ``g = grad mu_i(x) + gamma_t (grad F_hat(x) - grad f_hat_i(x))``, ``gamma_t = gamma / (t + 1)^decay``;
4. ``x <- x + s_i (rule(x, g) - x)`` with a zoo update rule (Adam) and the client's trust factor ``s_i``.

Communication: all parties build the same random Fourier features from one seed; after its local steps a client
fits ``nu_i`` (``n_features`` = M floats) on its window and uploads ``(x_i, nu_i)``; the server averages both with
the client weights and broadcasts ``(x, nu)``, so ``grad F_hat(z) = -sqrt(2/M) sum_j nu_j sin(w_j . z + b_j) w_j``.

Where zoo differs from the paper, and why (each measured in ``benchmarks/RESULTS.md``, issues 6 and 12):

- **Adam local steps** (lr 0.05, FedZO's rule) instead of plain gradient steps: the GP gradient's magnitude is
  the problem's, so a fixed SGD step that suits the quadratic diverges on a Rosenbrock mixture (|x| ~ 1e31 in
  round 1); Adam's steps are bounded by its lr whatever the scale.
- **GP hyper-parameters from each client's window**: the lengthscale by the median heuristic (a multiple of the
  window's median pairwise distance) and the multiple and the noise by the marginal likelihood over a small grid,
  refitted at the first local step of every round; the paper tunes one lengthscale per problem.
- **A trust factor per client** ``s_i`` in (0, 1], kept across rounds: multiplied by ``shrink`` (0.7) after a
  step that made the client's own ``f_i`` worse (it queries ``f_i(x)`` at every step anyway: no extra query),
  divided by ``shrink^(1/4)`` (up to 1) after one that did not. In narrow valleys (the Rosenbrock mixture) Adam
  with a fixed lr stalls on a floor set by the lr; the factor lowers the floor without a schedule to tune.
- **gamma_t = gamma / (t + 1)^0.5** instead of ``gamma / (t + 1)``: with ``1 / (t + 1)`` the correction is
  below 10 % after ten rounds, too little against strong heterogeneity (Ackley, Levy at h = 1.5).
- **A bounded trajectory window** (the last ``window`` queries, 60 by default = 10 steps) instead of the whole
  history: a round costs the same at round 1 and round 500 (the paper's GP grows cubically with the history).
- **The RFF lengthscale** is ``rff_scale`` times the median distance the clients moved in round 0 (one float
  each way), **the RFF seed is drawn from the run seed** (broadcast with the lengthscale, 2 floats each round),
  and a client fits its own ``nu_i`` on its current window when it needs ``grad f_hat_i`` (not a stale copy).
- The reference code accepts a round only if the true ``F`` improved, with uncounted queries; zoo never queries
  ``F`` and counts every client query.
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
from zoo.federated.algorithms.surrogate import (
    fit_hypers,
    gp_mean_gradient,
    rff_basis,
    rff_fit,
    rff_gradient,
    sq_dists,
    standardize,
)


@dataclasses.dataclass(frozen=True)
class FZooSParams(AlgoParams):
    lr: float = 0.05
    update: str = "adam"
    n_active: int = 5
    delta: float = 0.01
    window: int = 60
    n_features: int = 100
    rff_scale: float = 2.0
    gamma: float = 1.0
    decay: float = 0.5
    shrink: float = 0.7

    def check(self) -> None:
        super().check()
        for name in ("n_active", "n_features", "window"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if self.window < self.n_active + 1:
            raise ValueError(
                f"window must hold at least one step's queries (n_active + 1 = {self.n_active + 1}), "
                f"got {self.window}"
            )
        for name in ("delta", "rff_scale"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (np.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be >= 0, got {self.gamma!r}")
        if not (np.isfinite(self.decay) and self.decay >= 0):
            raise ValueError(f"decay (gamma_t = gamma / (t + 1)^decay) must be >= 0, got {self.decay!r}")
        if not (np.isfinite(self.shrink) and 0 < self.shrink <= 1):
            raise ValueError(
                f"shrink (the trust factor on a step that made f_i worse) must be in (0, 1], "
                f"got {self.shrink!r}"
            )


class FZooS(FederatedAlgorithm):
    """FZooS: GP-surrogate gradients on each client's trajectory window, corrected by the averaged RFF
    surrogate."""

    name = "fzoos"
    Params = FZooSParams

    def init_server(self, x0, seed):
        rff_seed = int(np.random.Generator(np.random.PCG64([seed, 0xFF5])).integers(2**31))
        return {
            "x": x0.copy(),
            "nu": np.zeros(self.params.n_features),
            "rff": np.array([0.0, float(rff_seed)]),
            "mixed": np.zeros(1),
        }

    def broadcast(self, server, rnd):
        msg = {"x": server["x"]}
        if server["rff"][0] > 0:
            msg["rff"] = server[
                "rff"
            ]  # (lengthscale, seed): 2 floats, so a client that missed a round has them
            if server["mixed"][0] > 0:
                msg["nu"] = server["nu"]
        return msg

    def init_client(self, dim):
        return {"X": np.zeros((0, dim)), "y": np.zeros(0), "scale": np.ones(1)}

    def _stack(self, states, d):
        """The clients' windows as padded stacks ``(C, W, d)``, ``(C, W)`` and the mask of filled rows (the
        newest points last)."""
        C, W = len(states), self.params.window
        Z, Y, mask = np.zeros((C, W, d)), np.zeros((C, W)), np.zeros((C, W), dtype=bool)
        for c, s in enumerate(states):
            n = min(len(s["y"]), W)
            if n:
                Z[c, W - n :], Y[c, W - n :], mask[c, W - n :] = s["X"][-n:], s["y"][-n:], True
        return Z, Y, mask

    def local_update(self, message, states, batch, rngs, rnd, bounds=None):
        p = self.params
        C, d = len(states), message["x"].shape[0]
        Z, Y, mask = self._stack(states, d)
        x = np.repeat(message["x"][None, :], C, axis=0)
        x_start = x.copy()
        rule = new_rule(p)
        rule_state = rule.init(x)
        basis = (
            rff_basis(int(message["rff"][1]), p.n_features, d, float(message["rff"][0]))
            if "rff" in message
            else None
        )
        gamma = p.gamma / (rnd + 1) ** p.decay
        correct = "nu" in message and gamma > 0
        mult = noise = None
        # the step's trust factor, per client and kept across rounds: halved when the client's own f went up
        # since the last step (f(x) is queried at every step anyway), grown back by 1/shrink^(1/4) otherwise
        scale = np.array([float(s.get("scale", np.ones(1))[0]) for s in states])
        f_prev = np.full(C, np.nan)
        for _ in range(p.local_steps):
            Xq, _ = probe_points(x, rngs, p.n_active, p.delta, bounds)
            values = batch(Xq)  # (C, n_active + 1)
            ok = batch.alive & ~batch.finished
            keep = np.isfinite(values) & ok[:, None]
            if p.shrink < 1:
                f_now = values[:, 0]
                worse = np.isfinite(f_prev) & np.isfinite(f_now) & (f_now > f_prev)
                better = np.isfinite(f_prev) & np.isfinite(f_now) & (f_now <= f_prev)
                scale = np.where(
                    worse, scale * p.shrink, np.where(better, np.minimum(1.0, scale / p.shrink**0.25), scale)
                )
                f_prev = np.where(np.isfinite(f_now), f_now, f_prev)
            k = Xq.shape[1]
            Z = np.concatenate([Z[:, k:], Xq], axis=1)
            Y = np.concatenate([Y[:, k:], np.where(keep, values, 0.0)], axis=1)
            mask = np.concatenate([mask[:, k:], keep], axis=1)
            if mult is None:  # the GP's hyper-parameters: once a round, from each client's own window
                yn, _, _ = standardize(Y, mask)
                mult, noise = fit_hypers(sq_dists(Z, Z), yn, mask)
            ok &= mask.sum(axis=1) >= 2
            g, _ = gp_mean_gradient(x, Z, Y, mask, mult, noise)
            if correct:
                W, b = basis
                own = rff_fit(W, b, Z, Y, mask)
                g += gamma * rff_gradient(W, b, message["nu"][None, :] - own, x)
            x_old = x
            x, rule_state = stacked_steps(x, rule, rule_state, g, ok, bounds)
            x = x_old + scale[:, None] * (x - x_old)
        uploads = [{"x": x[c]} for c in range(C)]
        if (
            basis is None
        ):  # round 0: each client reports how far it moved; the server sets the RFF lengthscale
            moved = np.linalg.norm(x - x_start, axis=1)
            for c in range(C):
                uploads[c]["moved"] = moved[c : c + 1]
        else:
            nu = rff_fit(*basis, Z, Y, mask)
            for c in range(C):
                uploads[c]["nu"] = nu[c]
        new_states = [{"X": Z[c][mask[c]], "y": Y[c][mask[c]], "scale": scale[c : c + 1]} for c in range(C)]
        return uploads, new_states

    def aggregate(self, server, uploads, weights, rnd, n_clients):
        w = weights / weights.sum()
        out = dict(server)
        out["x"] = weighted_mean(weights, uploads, "x")
        if server["rff"][0] == 0:
            moved = np.array([float(u["moved"][0]) for u in uploads if "moved" in u])
            if len(moved):
                out["rff"] = np.array(
                    [max(self.params.rff_scale * float(np.median(moved)), 1e-8), server["rff"][1]]
                )
            return out
        fitted = [(wi, u["nu"]) for wi, u in zip(w, uploads) if "nu" in u]
        if fitted:
            total = sum(wi for wi, _ in fitted)
            out["nu"] = sum(wi * nu for wi, nu in fitted) / total
            out["mixed"] = np.ones(1)
        return out
