"""The step-size control in a learned metric: rge's default on deterministic problems of moderate dimension.

:class:`MetricStep` is :class:`zoo.updates.SuccessStep` (the same judging of each new centre: a worse or
non-finite one is undone and the radius halved, a better one grows it; the same record) with another step. The
method's batch is ``[x, x + mu v_j, x - mu v_j]`` along ``v_j = A z_j`` (:mod:`zoo.estimators.formulas.curvature`);
from it come the derivative ``D_j`` and the curvature ``c_j`` along each ``v_j``, and

- the metric: ``A`` is rescaled along each measured direction so that ``A^T H A`` tends to a multiple of the
  identity (``A A^T -> H^{-1}``, up to scale), the multiplicative form of Leventhal & Lewis's randomized Hessian
  estimate (2011), read from the values as in HiZOO (Zhao et al. 2024) and ZO-HessAware (Ye et al. 2018);
- the step: the minimizer of the quadratic model along each direction, ``sum_j t_j v_j`` with ``t_j = -D_j / c_j``
  (random pursuit in a variable metric, Stich, Mueller & Gaertner, Math. Program. 2016), whitened length at most
  the radius ``r``. The radius follows the steps, ``2 |y| <= r <= 4 |y|`` for the step ``y`` just taken, so that the
  probe (``mu = mu_ratio r / sqrt(d)`` in the whitened space) stays local on a curved valley; an undone step
  halves the radius it had.

An ill-conditioned problem then costs what a sphere costs once ``A`` has learned its Hessian: about ``d^2``
measurements for the full factor (``d (d + 1) / 2`` numbers), ``O(d)`` for the diagonal one. The full factor
costs ``O(q d^2)`` arithmetic per step and ``d^2`` numbers of state, hence its limit on ``d``
(:data:`zoo.estimators.two_point.FULL_METRIC_MAX_DIM`).

Noise. Curvature is a second difference: under noise of size ``sigma`` it is wrong by about ``sigma / mu^2``. So
the metric is used only while no noise was measured (the re-measurements of the centre after an undo agree
exactly, ``noise2 == 0``) and on a deterministic objective (not ``sampled``); from the first measured noise, or
on a stochastic objective, the control hands over for good to the plain rule (``inner``: Adam for rge, the
``SuccessStep`` of every gradient method, its radius converted to ``x`` units by the factor's rms gain), and the
method goes back to its forward two-point batch. ``state["plain"]`` says which.

The method supplies the directions of the batch being told: ``state["Z"]`` (``(q, d)``, set by the method from
its pending probe before ``update``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from zoo.estimators.formulas import curvature
from zoo.updates.base import State
from zoo.updates.step_control import SuccessStep


@dataclasses.dataclass(frozen=True)
class MetricStep(SuccessStep):
    """:class:`SuccessStep` whose step is the curvature's line step in a learned metric (module docstring)."""

    metric: str = "full"
    clip: float = 4.0  # a measurement rescales the factor by at most clip^(1/2) along its direction
    kappa_rate: float = 0.1  # the weight of a new curvature in the running geometric mean kappa
    poor_rate: float = 0.1  # the weight of the last step in the running share of poor model predictions
    poor_limit: float = 0.5  # above this share the plain rule takes over

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.metric not in curvature.KINDS:
            raise ValueError(f"metric must be one of {curvature.KINDS}, got {self.metric!r}")
        if not (self.clip > 1.0 and math.isfinite(self.clip)):
            raise ValueError(f"clip must be a finite number > 1, got {self.clip!r}")
        for name in ("kappa_rate", "poor_rate", "poor_limit"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ValueError(f"{name} must lie in (0, 1], got {v!r}")
        object.__setattr__(self, "_log_clip", math.log(self.clip))
        if not self.adapt:
            raise ValueError(
                "MetricStep adapts its radius (adapt=True); a fixed rate is SuccessStep(adapt=False)"
            )

    def init(self, params: Any, scale: float | None = None) -> State:
        s = super().init(params, scale)
        d = int(np.size(params))
        s["A"] = np.eye(d) if self.metric == "full" else np.ones(d)
        s["log_kappa"] = math.nan  # no curvature measured yet
        s["plain"] = False
        s["r_step"] = s["r"]  # the radius of the pending step (an undo halves it)
        s["pred"] = 0.0  # the decrease the model predicts for the pending step
        s["poor"] = 0.0  # running share of steps that achieved less than a quarter of the predicted decrease
        s["handover"] = ""  # why the plain rule took over: "noise", "sampled", "model"
        s["Z"] = None
        return s

    def directions(self, state: State, Z: np.ndarray) -> np.ndarray:
        """``v_j = A z_j``: the directions of a batch drawn as ``Z``."""
        return curvature.directions(state["A"], Z)

    def gain(self, state: State) -> float:
        """The rms gain of the factor, ``|A|_F / sqrt(d)``: a whitened length times it is about an ``x`` length."""
        A = state["A"]
        return float(np.sqrt(np.mean(A * A)) * (math.sqrt(A.shape[0]) if A.ndim == 2 else 1.0))

    def update(
        self,
        g: Any,
        state: State,
        params: Any = None,
        *,
        value: float = math.nan,
        exact: bool = True,
        probe_values: Any = None,
        reference: float | None = None,
        sampled: bool = False,
        undo_step: bool = True,
    ) -> tuple[Any, State]:
        Z = state.get("Z")
        kw = {
            "value": value,
            "exact": exact,
            "probe_values": probe_values,
            "reference": reference,
            "undo_step": undo_step,
        }
        if state["plain"] or sampled or Z is None or state["noise2"] > 0.0:
            if state["plain"]:
                s = state
            else:
                s = self._to_plain(
                    state, "sampled" if sampled else "noise" if state["noise2"] > 0.0 else "none"
                )
            return super().update(g, s, params, sampled=sampled, **kw)
        undone = state["n_undone"]
        pred = float(state.get("pred", 0.0))
        ratio = (float(state["f_ref"]) - float(value)) / pred if pred > 0.0 else math.nan
        mu = self.probe_radius(state, params)  # the batch's radius (r, mu_n and x are those of the ask)
        # judges the centre, no step; no streak: the radius follows the steps instead (a run of successes is the
        # rule here, and its accelerated growth would overflow)
        step, s = super().update(None, {**state, "Z": None, "streak": 0}, params, **kw)
        s["pred"] = 0.0
        # the model's record: the share of recent steps whose decrease it overrated 4x
        if math.isfinite(ratio):
            s["poor"] = (1.0 - self.poor_rate) * s["poor"] + self.poor_rate * float(ratio < 0.25)
        values = np.asarray(probe_values, dtype=np.float64)
        q = Z.shape[0]
        first, second = curvature.three_point(values, q)
        A = s["A"]  # the factor of the batch's directions (as it was at the ask)
        s["A"], s["log_kappa"] = self._learn(A, s["log_kappa"], Z, second, mu)
        if s["n_undone"] > undone:  # back to x_ref, half the radius of the step that failed
            s["r"] = self.shrink * float(state["r_step"])
            return step, s
        if not math.isfinite(s["f_ref"]):  # no finite reference yet (super widened r)
            return step, s
        if s["noise2"] > 0.0:  # noise measured just now: no curvature step; the next batch is the plain one
            return step, s
        if s["poor"] > self.poor_limit:  # the quadratic model does not predict f here: the plain rule goes on
            return step, self._to_plain(s, "model")
        s["r"] = state["r"]  # set when the step was taken (below), not grown again by the success
        r = float(s["r"])
        t = curvature.line_steps(first, second, Z, mu, r)
        if not t.any():  # nothing usable in this batch (non-finite probes): look closer
            s["r"] = self.shrink * r
            s["r_step"] = s["r"]
            return step, s
        y = float(np.linalg.norm(t @ Z))
        # the next batch probes around the trial with the radius it will have if the step succeeds: r follows
        # the step, 2 |y| <= r <= 4 |y| (grown by `grow` while steps use half of it or more), so the probe stays
        # local on a curved valley; an undo halves the radius this step had
        s["r_step"] = r
        s["r"] = min(max(r * self.grow if y >= 0.5 * r else r, 2.0 * y), 4.0 * y)
        s["n_steps"] += 1
        m = t != 0.0  # (a non-finite pair has t = 0 and adds nothing to the predicted decrease)
        u = t[m] / mu
        s["pred"] = float(-(first[m] @ u + 0.5 * (second[m] @ (u * u))))
        return curvature.step(A, Z, t), s

    def _learn(
        self, A: np.ndarray, log_kappa: float, Z: np.ndarray, second: np.ndarray, mu: float
    ) -> tuple[np.ndarray, float]:
        """The factor and ``log kappa`` after the batch's curvatures (the convex, finite ones), each measured
        against the running ``kappa`` in turn; the factor is then updated once for all of them."""
        rows, rhos = [], []
        for j in range(Z.shape[0]):
            log_lam = curvature.log_whitened_curvature(Z[j], float(second[j]), mu)
            if not math.isfinite(log_lam):
                continue
            if not math.isfinite(log_kappa):
                log_kappa = log_lam
            rows.append(j)
            rhos.append(math.exp(min(max(log_lam - log_kappa, -self._log_clip), self._log_clip)))
            log_kappa += self.kappa_rate * (log_lam - log_kappa)
        if rows:
            A = curvature.update_factor_many(A, Z[rows], np.array(rhos))
        return A, log_kappa

    def _to_plain(self, state: State, reason: str) -> State:
        """Hand over to the plain rule: the radius in ``x`` units, the metric frozen (kept in the record)."""
        s = dict(state)
        s["plain"] = True
        s["handover"] = reason
        s["Z"] = None
        s["r"] = float(s["r"]) * self.gain(s)
        if math.isfinite(s["r_ok"]):
            s["r_ok"] = float(s["r_ok"]) * self.gain(s)
        return s
