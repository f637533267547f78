"""FZooS: federated zeroth-order optimization with trajectory-informed surrogate gradients
(Shu, Lin, Dai, Low: "Federated Zeroth-Order Optimization using Trajectory-Informed Surrogate Gradients", 2023).

Client ``i`` keeps a window of the last ``window`` points it queried (its trajectory and its active queries).
Local step ``k`` of round ``t``, for all clients of the stack at once:

1. active queries: ``f_i`` at ``x`` and at ``x + r_t u_j`` for ``n_active`` Gaussian directions ``u_j`` (counted),
   appended to the window (the oldest points leave it); the radius ``r_t = max(delta, smooth 2^(-t / smooth_half))``
   shrinks from ``smooth`` (2.0) to the paper's fixed ``delta`` (see the differences below);
2. GP surrogate on the window; its mean's analytic gradient ``grad mu_i(x)`` replaces fresh finite differences
   (old queries keep informing new steps);
3. adaptive correction, evaluated at the current local point (unlike SCAFFOLD's frozen control variate):
   ``g = grad mu_i(x) + gamma_t (grad F_hat(x) - grad f_hat_i(x))``, ``gamma_t = gamma / (t + 1)^decay``;
4. ``x <- x + S s_i (rule(x, g) - x)`` with a zoo update rule (Adam), the client's trust factor ``s_i`` and the
   server's step factor ``S``.

Server step control (no extra query): a client's first query of a round is ``f_i(x_t)`` at the broadcast point;
it uploads that value, so the server knows ``F(x_t)`` over the clients that answered. It keeps the best point; a
round that started from a worse point is undone (the next one restarts from the best) and ``S`` shrinks by
``server_shrink``, else ``S`` grows back by ``server_shrink^(-1/2)`` (up to ``step_max``, 1 by default). When ``S < switch`` (small Adam
steps keep failing: the average of per-client-normalized steps is not a descent direction of ``F``, the fixed
point of local adaptive methods, Wang et al. 2021), local steps switch for good to one preconditioner shared by
every client and fixed within the round: ``sgd`` on ``clip(g / sqrt(v), -clip, clip)``, ``v`` the clients'
weighted mean of ``g^2`` per coordinate in the last round, so the average step follows ``grad F``.

Communication: all parties build the same random Fourier features from one seed; after its local steps a client
fits ``nu_i`` (``n_features`` = M floats) on its window and uploads ``(x_i, nu_i)``; the server averages both with
the client weights and broadcasts ``(x, nu)``, so ``grad F_hat(z) = -sqrt(2/M) sum_j nu_j sin(w_j . z + b_j) w_j``.

Where zoo differs from the paper, and why (each measured in ``benchmarks/RESULTS.md``, issues 6 and 12):

- **Adam local steps** (lr 0.1, twice FedZO's: the server's step control shrinks it where it overshoots)
  instead of plain gradient steps: the GP gradient's magnitude is the problem's, so a fixed SGD step that suits
  the quadratic diverges on a Rosenbrock mixture (|x| ~ 1e31 in round 1); Adam's steps are bounded by its lr
  whatever the scale. lr 0.1 was chosen on the whole suite with tuning seeds 100-104 (0.05: Ackley h=1.5 reached
  FedZO's final loss on 2/5 of them; 0.1: every problem 5/5; 0.2: 5/5 but up to 0.9 of FedZO's queries on the
  attack). With bounds, the step size is at most ``lr_box`` (0.25, the ratio of lr to the box on the
  built-in attack, where lr was tuned) times the box's narrowest side: on the
  attack with a box 100 times narrower (width 0.004) lr 0.1 missed FedZO's final loss on 5 of 5 seeds, with
  the cap on none (the built-in attack's box, 0.4 wide, leaves lr at 0.1).
- **GP hyper-parameters from each client's window**: the lengthscale by the median heuristic (a multiple of the
  window's median pairwise distance) and the multiple and the noise by the marginal likelihood over a small grid,
  refitted at the first local step of every other round (kept in the client's state between) on at most
  ``fit_points`` (30) of the window's points, evenly spaced in age (subset-of-data hyper-parameter estimation,
  Rasmussen and Williams 2006, section 8.3.1; Chalupka, Williams and Murray 2013): the fit is 9 Cholesky
  solves, which on the whole 60-point window cost a third of a round, on 30 points an eighth of that; the
  median and the GP itself use the whole window. The paper tunes one lengthscale per problem.
- **Server step control and the switch to a shared preconditioner** (above): Adam alone stalled above FedZO's
  final loss on the heterogeneous quadratic (0/5 seeds) and could not be fixed by the lr or the window; linear
  steps alone stalled in Ackley's local minima. The reference code's acceptance test on the true ``F`` (with
  uncounted queries) becomes the counted ``f_i(x_t)`` the clients query anyway.
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
  and ``grad f_hat_i`` uses the client's own ``nu_i`` of its last round (fitted once if it has none yet).
- **A probe radius that shrinks from a large start** (Gaussian homotopy; Hazan, Levy, Shalev-Shwartz, "On
  Graduated Optimization for Stochastic Non-Convex Problems", 2016; Mobahi and Fisher 2015): the paper queries at
  a fixed small ``delta``; zoo queries round ``t`` at ``r_t = max(delta, smooth * 2^(-t / smooth_half))``
  (``smooth`` 2.0, ``smooth_half`` 5 rounds: 0.0625 by round 25, ``delta`` by round 38). The GP on those points
  (its lengthscale follows their spread by the median heuristic) fits ``f_i`` smoothed at the scale ``r_t``, so the
  first rounds, in which the descent picks its basin, follow the smoothed objective's gradient over Levy's and
  Rastrigin's bumps, and the radius shrinks to the paper's as the iterate settles. Without it FZooS settled in a
  worse basin than FedZO in its first 5-9 fast rounds on 9 of 140 tuning runs (Levy, Rastrigin); with it on none
  (``benchmarks/RESULTS.md``, issue 12, section 1d). ``smooth=0`` is the paper's fixed ``delta``. Like ``lr``,
  the radius is in the problem's units (per coordinate: ``u_j ~ N(0, I)``).
- **Units.** ``lr``, ``delta`` and ``smooth`` are lengths in ``x`` (as FedZO's ``lr`` and ``mu`` are); nothing
  else depends on the units of ``x`` or ``f`` (the GP's values are standardized and its lengthscale follows the
  window, the RFF lengthscale the distance moved in round 0, Adam's step is invariant to the gradient's scale,
  the step control compares values). Measured on the suite's problems with ``x`` 100 times finer or coarser and
  ``f`` times 1e-3 / 1e3 (``benchmarks/fed_units.py``; ``benchmarks/RESULTS.md``, issue 12, session 9): FZooS
  never diverged and reached FedZO's final F on every run; ``f``'s scale changed nothing; with ``x`` in units
  100 times smaller (``x = 100 u``) FZooS's progress in the same queries fell (``F / F(x0)`` 0.16-0.95 against
  0.002-0.39); with the three lengths times 100 every algorithm gave its unit-scale figures again. With bounds, ``lr`` is capped by the box (``lr_box``, above): on the
  attack in a box 100 times narrower that cap made FZooS reach FedZO's final F on 5 of 5 seeds (0 of 5 without).
  A problem whose length unit is ``L`` (e.g. a box of width ``L``) wants ``lr=0.1 L``, ``delta=0.01 L``, ``smooth=2 L``
  (FedZO / SCAFFOLD: ``lr=0.05 L``, ``mu=0.01 L``). The defaults are not scaled from ``x0`` or the bounds: ``x0``
  carries no length on problems that start at 0 (the quadratic), and the suite's problems have no box to measure.
  ``step_max > 1`` lets the server's step factor grow past 1 on rounds that improved ``F``, so the steps find a
  larger unit by themselves (at ``x = 100 u`` it restored the unit-scale figures on Ackley, Rosenbrock and the
  quadratic), at a price on the unit-scale quadratic (FedZO's final F missed on 5 of 5 seeds): not the
  default.
- **Optional, off by default: ``trust="measured"``**, each client scales its correction by its measured
  agreement: every client uploads its GP gradient at the broadcast point ``x_t`` (``d`` floats more up), the
  server broadcasts their weighted mean ``G_t`` (a fresh estimate of ``grad F(x_t)``, ``d`` floats more down),
  and next round client ``i`` evaluates the correction it is about to use at ``x_t`` and takes
  ``a_i = clip(<c_i, G_t - grad mu_i(x_t)> / |c_i|^2, 0, 1)``, the least-squares factor onto the measured
  correction; ``g = grad mu_i(x) + gamma_t a_i c_i(x)``. Measured in ``benchmarks/RESULTS.md`` (issue 12,
  session 5): it fixes the Levy stall it was built for on one seed and loses others, so it is not the default.
- Cost per step: the window is a ring buffer (only the new rows of the squared distances are computed, by the
  batched kernel of :mod:`zoo.kernels.distances`), each GP solve is one pass of a batched Cholesky kernel
  (:mod:`zoo.kernels.spd`: factorization, both triangular solves and the log determinant), and the median
  heuristic takes clients filled in the same rows together. The RFF fit at a round's end uses float32 features
  (:func:`~zoo.federated.algorithms.surrogate.rff_features`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.core.validate import check_int
from zoo.federated.algorithms.base import (
    AlgoParams,
    FederatedAlgorithm,
    probe_points,
    stacked_steps,
    weighted_mean,
)
from zoo.federated.algorithms.surrogate import (
    filled_prefix,
    fit_hypers,
    gp_gradient,
    kernel_matrix,
    median_distance,
    pad_identity,
    rff_basis,
    rff_fit,
    rff_gradient,
    standardize,
)
from zoo.kernels.distances import sq_dists, sq_norms
from zoo.updates.base import make_rule


@dataclasses.dataclass(frozen=True)
class FZooSParams(AlgoParams):
    lr: float = 0.1
    update: str = "adam"
    n_active: int = 5
    delta: float = 0.01
    window: int = 60
    n_features: int = 100
    rff_scale: float = 2.0
    gamma: float = 1.0
    decay: float = 0.5
    shrink: float = 0.7
    server_shrink: float = 0.5
    switch: float = 0.25
    clip: float = 3.0
    trust: str = "off"
    smooth: float = 2.0
    smooth_half: float = 5.0
    step_max: float = 1.0
    lr_box: float = 0.25
    fit_points: int = 30

    def check(self) -> None:
        super().check()
        for name in ("n_active", "n_features", "window"):
            check_int(getattr(self, name), name, 1)
        check_int(self.fit_points, "fit_points", 2, why=" (the window points the hyper-parameter fit uses)")
        if self.window < self.n_active + 1:
            raise ValueError(
                f"window must hold at least one step's queries (n_active + 1 = {self.n_active + 1}), "
                f"got {self.window}"
            )
        for name in ("delta", "rff_scale", "clip"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (np.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be >= 0, got {self.gamma!r}")
        if not (np.isfinite(self.decay) and self.decay >= 0):
            raise ValueError(f"decay (gamma_t = gamma / (t + 1)^decay) must be >= 0, got {self.decay!r}")
        for name, what in (
            ("shrink", "the trust factor on a step that made f_i worse"),
            ("server_shrink", "the server's step factor after a round that made F worse"),
        ):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0 < v <= 1):
                raise ValueError(f"{name} ({what}) must be in (0, 1], got {v!r}")
        if not (np.isfinite(self.smooth) and self.smooth >= 0):
            raise ValueError(
                f"smooth (the probe radius at round 0; 0: off) must be >= 0, got {self.smooth!r}"
            )
        if not (np.isfinite(self.smooth_half) and self.smooth_half > 0):
            raise ValueError(
                f"smooth_half (rounds to halve the probe radius) must be > 0, got {self.smooth_half!r}"
            )
        if not (np.isfinite(self.step_max) and self.step_max >= 1):
            raise ValueError(
                f"step_max (the cap of the server's step factor; 1: Adam's lr bounds the step) must be a number "
                f">= 1, got {self.step_max!r}"
            )
        if not (np.isfinite(self.lr_box) and self.lr_box >= 0):
            raise ValueError(
                f"lr_box (lr at most lr_box x the narrowest side of the bounds; 0: no cap) must be >= 0, "
                f"got {self.lr_box!r}"
            )
        if self.trust not in ("off", "measured"):
            raise ValueError(f"trust must be 'off' or 'measured', got {self.trust!r}")
        if not (np.isfinite(self.switch) and 0 <= self.switch <= 1):
            raise ValueError(
                f"switch (the server's step factor below which local steps use the shared preconditioner) "
                f"must be in [0, 1], got {self.switch!r}"
            )


def fit_subset(n: int, k: int) -> np.ndarray:
    """Indices of at most ``k`` of ``n`` window rows, evenly spaced from the first to the last (all when
    ``n <= k``): the points the hyper-parameter fit sees."""
    if n <= k:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, k)).astype(np.intp))


def _uploads(x, f0):
    """Each client's ``{"x": x_i, "f0": [f_i(x_t)]}``, without ``f0`` where it has none: a client whose query
    allowance ran out before its first query (a budget that ends within a round) has none, and a NaN there would
    read as the algorithm diverging; the server measures ``F`` over the clients that sent one."""
    seen, col = np.isfinite(f0), f0[:, None]
    return [{"x": x[c], "f0": col[c]} if seen[c] else {"x": x[c]} for c in range(len(x))]


class FZooS(FederatedAlgorithm):
    """FZooS: GP-surrogate gradients on each client's trajectory window, corrected by the averaged RFF
    surrogate; the server keeps the best point by the clients' own first queries and controls the step."""

    name = "fzoos"
    Params = FZooSParams

    def init_server(self, x0, seed):
        rff_seed = int(np.random.Generator(np.random.PCG64([seed, 0xFF5])).integers(2**31))
        return {
            "x": x0.copy(),
            "nu": np.zeros(self.params.n_features),
            "rff": np.array([0.0, float(rff_seed)]),
            "mixed": np.zeros(1),
            "step": np.ones(1),  # the server's step factor
            "best_x": x0.copy(),
            # no F measured yet: a finite stand-in for +inf (the simulator takes a non-finite server state for a
            # diverged algorithm, which server_shrink=1, the step control off, used to trigger in round 0)
            "best_F": np.full(1, np.finfo(np.float64).max),
            "v": np.zeros_like(x0),  # the clients' mean squared gradient, per coordinate (last round)
            "linear": np.zeros(1),  # 1: local steps use the shared preconditioner
        }

    def broadcast(self, server, rnd):
        msg = {"x": server["x"], "step": server["step"]}
        if self.params.trust == "measured" and "G" in server and int(server["G_t"][0]) == rnd - 1:
            msg["G"] = server["G"]
        if server["linear"][0] > 0:
            msg["v"] = server["v"]
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
        newest points last, the padding first)."""
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
        linear = "v" in message  # the shared preconditioner: steps linear in each client's gradient
        lr = self._lr(bounds)
        rule = make_rule("sgd" if linear else p.update, lr)
        rule_state = rule.init(x)
        root_v = np.sqrt(message["v"]) + 1e-300 if linear else None
        step_mult = float(message["step"][0]) if "step" in message else 1.0
        sum_g2, n_g = np.zeros_like(x), np.zeros(C)
        basis = (
            rff_basis(int(message["rff"][1]), p.n_features, d, float(message["rff"][0]))
            if "rff" in message
            else None
        )
        gamma = p.gamma / (rnd + 1) ** p.decay
        correct = "nu" in message and gamma > 0
        own = None  # the client's own RFF weights nu_i: from its last round if it has them, else fitted once
        if correct and all("nu" in st for st in states):
            own = np.stack([st["nu"] for st in states])
        mult = noise = None
        if rnd % 2 == 1 and all("hyper" in st for st in states):  # refitted every other round (kept between)
            mult, noise = (np.array([st["hyper"][k] for st in states]) for k in (0, 1))
        # the step's trust factor, per client and kept across rounds: shrunk when the client's own f went up
        # since the last step (f(x) is queried at every step anyway), grown back by 1/shrink^(1/4) otherwise
        scale = np.array([float(s.get("scale", np.ones(1))[0]) for s in states])
        trust, g_start = None, None
        f_prev = f_start = np.full(C, np.nan)
        # the window is a ring buffer: each step overwrites the oldest k rows (padding first) in place, and only
        # those rows and columns of the squared distances are recomputed
        head = 0
        zz = sq_norms(Z)  # the window rows' squared norms, kept with the ring buffer
        D2 = sq_dists(Z, Z, zz, zz)
        K = ls = (
            None  # the kernel matrix and lengthscales: rebuilt while the window fills, then updated by rows
        )
        delta = self._radius(rnd)
        for step in range(p.local_steps):
            Xq, _ = probe_points(x, rngs, p.n_active, delta, bounds)
            values = batch(Xq)  # (C, n_active + 1)
            ok = batch.alive & ~batch.finished
            keep = np.isfinite(values) & ok[:, None]
            f_now = np.where(ok, values[:, 0], np.nan)
            if (
                step == 0
            ):  # f_i at the broadcast point: the server's measure of the last round, no extra query
                f_start = f_now
            if p.shrink < 1:
                worse = np.isfinite(f_prev) & np.isfinite(f_now) & (f_now > f_prev)
                better = np.isfinite(f_prev) & np.isfinite(f_now) & (f_now <= f_prev)
                scale = np.where(
                    worse, scale * p.shrink, np.where(better, np.minimum(1.0, scale / p.shrink**0.25), scale)
                )
                f_prev = np.where(np.isfinite(f_now), f_now, f_prev)
            k = Xq.shape[1]
            rows = (head + np.arange(k)) % p.window
            head = (head + k) % p.window
            Z[:, rows], Y[:, rows], mask[:, rows] = Xq, np.where(keep, values, 0.0), keep
            zz[:, rows] = qq = sq_norms(Xq)
            fresh = sq_dists(Xq, Z, qq, zz)  # (C, k, W)
            D2[:, rows, :] = fresh
            D2[:, :, rows] = fresh.transpose(0, 2, 1)
            # while the windows fill (round 0), rows n.. are padding in every client: the hyper-parameter fit, the
            # median heuristic and the kernel's exponentials work on the first n rows (the grid choice, the median
            # and K are the same numbers; the solves keep the whole window, whose sums would round differently)
            n = filled_prefix(mask)
            Dn, Mn = D2[:, :n, :n], mask[:, :n]
            rebuild = K is None or not mask.all()
            med = median_distance(Dn, Mn) if rebuild or mult is None else None
            if mult is None:  # the GP's hyper-parameters: every other round, from each client's own window
                yn, _, _ = standardize(Y, mask)
                used = np.flatnonzero(Mn.any(axis=0))  # rows holding a point in some client
                sub = used[fit_subset(len(used), p.fit_points)]
                mult, noise = fit_hypers(Dn[:, sub][:, :, sub], yn[:, sub], Mn[:, sub], med)
            if rebuild:  # the median heuristic on the current window
                ls = mult * med
                K = pad_identity(kernel_matrix(Dn, Mn, ls, noise), p.window)
            else:  # full window, lengthscale fixed for the round: only the new rows and columns change
                Kr = np.exp(fresh * (-0.5 / ls[:, None, None] ** 2))
                K[:, rows, :] = Kr
                K[:, :, rows] = Kr.transpose(0, 2, 1)
                K[:, rows, rows] += noise[:, None]
            ok &= mask.sum(axis=1) >= 2
            # the step's first probe is x itself (inside the bounds): its distances to the window are computed
            dx2 = fresh[:, 0] if np.array_equal(Xq[:, 0], x) else sq_dists(x[:, None, :], Z)[:, 0]
            g = gp_gradient(x, Z, Y, mask, K, ls, dx2)
            if step == 0 and p.trust == "measured":  # the GP gradient at the broadcast point (see _trust)
                g_start = g.copy()
            if correct:
                W, b = basis
                if own is None:
                    own = rff_fit(W, b, Z, Y, mask)
                if step == 0 and p.trust == "measured":
                    trust = self._trust(message, states, basis, own, rnd)
                c = rff_gradient(W, b, message["nu"][None, :] - own, x)
                g += gamma * (c if trust is None else trust[:, None] * c)
            good = ok & np.all(np.isfinite(g), axis=1)
            sum_g2 += np.where(good[:, None], g * g, 0.0)
            n_g += good
            if linear:  # one preconditioner for every client, fixed within the round
                g = np.clip(g / root_v, -p.clip, p.clip)
            x_old = x
            x, rule_state = stacked_steps(x, rule, rule_state, g, ok, bounds)
            x = x_old + (step_mult * scale)[:, None] * (x - x_old)
        uploads = _uploads(x, f_start)
        if (
            linear or step_mult < 2 * p.switch
        ):  # the server needs the preconditioner (or may switch this round)
            v_i = sum_g2 / np.maximum(n_g, 1)[:, None]
            for c in range(C):
                uploads[c]["v"] = v_i[c]
        if head:  # oldest first (with full windows a round's queries fill the window: head is back at 0)
            order = (head + np.arange(p.window)) % p.window
            Z, Y, mask = Z[:, order], Y[:, order], mask[:, order]
        full = mask.all(axis=1)  # a full window is kept as a view of the stack (no copy per client)
        new_states = [
            {
                "X": Z[c] if full[c] else Z[c][mask[c]],
                "y": Y[c] if full[c] else Y[c][mask[c]],
                "scale": scale[c : c + 1],
                "hyper": np.array([mult[c], noise[c]]),
            }
            for c in range(C)
        ]
        if basis is not None and g_start is not None:
            # the GP gradient at the broadcast point: the server averages them into grad F(x_t), against which
            # each client measures its correction next round (see _trust)
            for c in range(C):
                if np.all(np.isfinite(g_start[c])):
                    uploads[c]["g0"] = g_start[c]
                    new_states[c]["g0"] = g_start[c]
                    new_states[c]["x_t"] = message["x"].copy()
                    new_states[c]["t"] = np.array([float(rnd)])
        if trust is not None:
            for c in range(C):
                new_states[c]["trust"] = trust[c : c + 1]
        if (
            basis is None
        ):  # round 0: each client reports how far it moved; the server sets the RFF lengthscale
            moved = np.linalg.norm(x - x_start, axis=1)
            for c in range(C):
                uploads[c]["moved"] = moved[c : c + 1]
        else:
            nu = rff_fit(*basis, Z, Y, mask)
            for c in range(C):
                uploads[c]["nu"] = new_states[c]["nu"] = nu[c]
        return uploads, new_states

    def _lr(self, bounds):
        """The local step size: ``lr``, at most ``lr_box`` times the narrowest (positive, finite) side of the
        bounds when there are bounds (an Adam step of about ``lr`` per coordinate in a box narrower than that
        bounces between its walls)."""
        p = self.params
        if bounds is None or p.lr_box <= 0:
            return p.lr
        width = np.asarray(bounds[1], dtype=np.float64) - np.asarray(bounds[0], dtype=np.float64)
        width = width[np.isfinite(width) & (width > 0)]
        return p.lr if width.size == 0 else min(p.lr, p.lr_box * float(width.min()))

    def _radius(self, rnd):
        """The active queries' radius in round ``rnd``: ``max(delta, smooth * 2^(-rnd / smooth_half))``."""
        p = self.params
        if p.smooth <= 0:
            return p.delta
        return max(p.delta, p.smooth * 0.5 ** (rnd / p.smooth_half))

    def _trust(self, message, states, basis, own, rnd):
        """Each client's trust in its correction, in [0, 1]: the least-squares factor ``a_i`` that best maps the
        correction it uses this round, evaluated at the last round's broadcast point ``x_{t-1}``, onto the
        measured one there, ``G_{t-1} - grad mu_i(x_{t-1})`` (``G_{t-1}``: the clients' weighted mean of their
        GP gradients at ``x_{t-1}``, i.e. fresh estimates of ``grad F``):
        ``a_i = clip(<c_i, G - g_i> / |c_i|^2, 0, 1)``. A correction that does not agree with the measured one
        is scaled down; one the client cannot check (it did not take part last round) keeps its last factor
        (1 at first)."""
        last = np.array([float(st.get("trust", np.ones(1))[0]) for st in states])
        if "G" not in message:
            return last
        W, b = basis
        checked = np.array([("g0" in st) and int(st["t"][0]) == rnd - 1 for st in states])
        if not checked.any():
            return last
        idx = np.flatnonzero(checked)
        xp = np.stack([states[i]["x_t"] for i in idx])
        ref = message["G"][None, :] - np.stack([states[i]["g0"] for i in idx])
        c = rff_gradient(W, b, message["nu"][None, :] - own[idx], xp)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.sum(c * ref, axis=1) / np.sum(c * c, axis=1)
        last[idx] = np.clip(np.nan_to_num(a, nan=0.0), 0.0, 1.0)
        return last

    def aggregate(self, server, uploads, weights, rnd, n_clients):
        p = self.params
        w = weights / weights.sum()
        out = dict(server)
        out["x"] = weighted_mean(weights, uploads, "x")
        got = [k for k, u in enumerate(uploads) if "g0" in u]
        if got:  # grad F at this round's broadcast point, from the clients' GP gradients there
            wg = w[got] / w[got].sum()
            out["G"] = sum(wk * uploads[k]["g0"] for wk, k in zip(wg, got))
            out["G_t"] = np.array([float(rnd)])
        else:
            out.pop("G", None)
            out.pop("G_t", None)
        have_v = all("v" in u for u in uploads)
        if have_v:
            out["v"] = weighted_mean(weights, uploads, "v")
        f0 = np.array([float(u["f0"][0]) if "f0" in u else np.nan for u in uploads])
        seen = np.isfinite(f0)
        if p.server_shrink < 1 and seen.any():
            # F at the point broadcast this round, from the clients' first queries (counted, no extra query):
            # the server keeps the best point; a round that started from a worse point is undone (the clients
            # restart from the best point) with the step shrunk, else the step grows back
            F_b = float(w[seen] @ f0[seen] / w[seen].sum())
            if F_b <= float(server["best_F"][0]):
                out["best_x"], out["best_F"] = server["x"].copy(), np.array([F_b])
                out["step"] = np.minimum(p.step_max, server["step"] / p.server_shrink**0.5)
            else:
                out["x"] = server["best_x"].copy()
                out["step"] = server["step"] * p.server_shrink
                if out["step"][0] < p.switch and server["linear"][0] == 0 and have_v:
                    # small Adam steps still fail: their average is not a descent direction of F (per-client
                    # normalization weighs clients unlike F does); from now on steps linear in the gradients
                    out["linear"], out["step"] = np.ones(1), np.ones(1)
        if server["rff"][0] == 0:
            moved = np.array([float(u["moved"][0]) for u in uploads if "moved" in u])
            if len(moved):
                out["rff"] = np.array([max(p.rff_scale * float(np.median(moved)), 1e-8), server["rff"][1]])
            return out
        fitted = [(wi, u["nu"]) for wi, u in zip(w, uploads) if "nu" in u]
        if fitted:
            total = sum(wi for wi, _ in fitted)
            out["nu"] = sum(wi * nu for wi, nu in fitted) / total
            out["mixed"] = np.ones(1)
        return out
