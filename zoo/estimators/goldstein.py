"""What GFM and GFM+ share: uniform smoothing on the ball, the two-point estimate on the sphere, samples per
pair, the online Lipschitz estimate and the Goldstein stationarity measure.

For ``f(x) = E_xi F(x; xi)`` with ``F(., xi)`` Lipschitz (mean-squared constant ``L``) but neither smooth nor
convex, the uniform smoothing ``f_delta(x) = E_{u ~ Uniform(B)} f(x + delta u)`` is differentiable with a
``c sqrt(d) L / delta``-Lipschitz gradient, and ``grad f_delta(x)`` lies in the Goldstein delta-subdifferential
``conv{ partial f(y) : ||y - x|| <= delta }``; so ``||grad f_delta(x)|| <= epsilon`` makes ``x`` a
``(delta, epsilon)``-Goldstein stationary point (Lin, Zheng & Jordan, NeurIPS 2022, Prop. 2.3 and Thm. 3.1).
Its unbiased two-point estimate, ``w`` uniform on the unit sphere, one sample ``xi`` for both points::

    g(x; w, xi) = d / (2 delta) * (F(x + delta w; xi) - F(x - delta w; xi)) * w

is the estimate core's central difference (:mod:`zoo.estimators.formulas.two_point`) with sphere directions
``u = sqrt(d) w`` of norm ``sqrt(d)`` and radius ``mu = delta / sqrt(d)``: ``(F(x + mu u) - F(x - mu u)) / (2 mu) u``
is the same number. A batch of ``b`` pairs averages ``b`` such estimates, each with its own ``w_j`` and ``xi_j``.

Online constants. The papers' steps need ``L`` (and GFM the gap ``Delta = f(x0) - inf f``). zoo estimates
``L`` from the pairs it queries anyway: ``L_hat = sqrt(d) * rms_j |F(x + delta w_j) - F(x - delta w_j)| / (2 delta)``
over every pair so far (``sqrt(d)`` times the rms slope along a random direction is the rms gradient norm, the
mean-squared Lipschitz constant where the slope is steepest), and ``Delta_hat = max(|mean F(first batch)|,
delta L_hat)`` (``f(x0)`` bounds the gap of a non-negative loss; give ``gap=`` when ``inf f`` is known).

Bad input: ``delta <= 0`` (the smoothing and perturbation radius), batch sizes or a refresh period below 1, a
non-positive ``lr``, are a ``ValueError`` naming the option.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.stochastic import draw_seeds
from zoo.core.validate import check_int, check_real
from zoo.estimators.formulas import probes, two_point
from zoo.updates.base import LearningRate
from zoo.updates.step_control import length_scale


@dataclasses.dataclass(frozen=True)
class GoldsteinParams(Params):
    delta: float | None = None  # the smoothing radius (Goldstein delta); None: 0.01 * s * sqrt(d)
    lr: LearningRate | str | None = None  # None: the method's default step (see gfm.py, gfm_plus.py)
    gap: float | None = None  # Delta = f(x0) - inf f, when known (GFM's step)

    def check(self, dim: int) -> None:
        if self.delta is not None:
            check_real(self.delta, "delta (the smoothing radius, > 0)", 0, low_open=True)
        if isinstance(self.lr, str):
            if self.lr not in ("paper", "normalized", "adaptive"):
                raise ValueError(
                    "lr must be None, 'paper', 'normalized', 'adaptive' (gfm+), a number > 0 or a schedule, "
                    f"got {self.lr!r}"
                )
        elif self.lr is not None and not callable(self.lr):
            check_real(self.lr, "lr", 0, low_open=True)
        if self.gap is not None:
            check_real(self.gap, "gap (f(x0) - inf f, > 0)", 0, low_open=True)


@dataclasses.dataclass
class GoldsteinState(State):
    x: np.ndarray
    t: int
    v: np.ndarray  # the current gradient estimate (GFM+: the recursive one)
    probe: dict[str, Any]
    slope2: float = 0.0  # sum of squared directional slopes seen (the L estimate)
    n_slopes: int = 0
    gap: float = math.nan  # Delta_hat, from the first batch
    stationarity: float = math.nan  # the estimated ||grad f_delta(x_t)||
    n_skipped: int = 0
    length: float = math.nan  # lr="adaptive" (gfm+): the step length


class GoldsteinMethod(Method):
    """Base of ``gfm`` / ``gfm+``: probes, samples, the L estimate, the step and the record."""

    Params = GoldsteinParams
    State = GoldsteinState

    def _setup(self) -> None:
        p = self.params
        self.delta = (
            float(p.delta)
            if p.delta is not None
            else 0.01 * length_scale(self.x0, self.bounds) * math.sqrt(self.dim)
        )
        self.mu = self.delta / math.sqrt(self.dim)  # the core's radius for sphere directions of norm sqrt(d)

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> GoldsteinState:
        return GoldsteinState(x=x0, t=0, v=np.zeros_like(x0), probe={}, length=self._first_length())

    def _first_length(self) -> float:
        """The first step length of ``lr="adaptive"``: the step-size control's ``0.1 s sqrt(d)``."""
        return 0.1 * length_scale(self.x0, self.bounds) * math.sqrt(self.dim)

    # ------------------------------------------------------------------ probes
    def _pairs(self, centres: list[np.ndarray], b: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        """Rows ``[c + mu U, c - mu U]`` for each centre ``c`` (same ``b`` directions and samples for all)."""
        U = probes.draw(rng, b, self.dim, "sphere")
        xi = draw_seeds(rng, b)
        X = two_point.points(
            np.stack(centres), np.broadcast_to(U, (len(centres), b, self.dim)), self.mu, "central"
        )
        X = X.reshape(-1, self.dim)
        return X, {"U": U, "xi": np.tile(xi, 2 * len(centres))}

    def _samples(self, state: GoldsteinState, n: int) -> np.ndarray:
        xi = state.probe.get("xi")
        return super()._samples(state, n) if xi is None or len(xi) != n else xi

    def _estimates(self, state: GoldsteinState, X: np.ndarray, values: np.ndarray, rows: int):
        """``(g (rows, d), ok (rows,))``: the estimate at each centre of the probe. A direction whose four (or
        two) values are not all finite is dropped at every centre, so differences of estimates stay paired."""
        V = values.reshape(rows, -1)
        b = V.shape[1] // 2
        bad = ~np.isfinite(V[:, :b]).all(axis=0) | ~np.isfinite(V[:, b:]).all(axis=0)
        if bad.any():
            V = V.copy()
            V[:, :b][:, bad] = np.inf
            V[:, b:][:, bad] = np.inf
        U = np.broadcast_to(state.probe["U"], (rows, b, self.dim))
        if self.bounds is not None:  # clipped probes: the displacement actually queried
            return two_point.estimate(V, self.mu, "central", X=X.reshape(rows, 2 * b, self.dim))
        return two_point.estimate(V, self.mu, "central", U=U)

    def _learn(self, state: GoldsteinState, values: np.ndarray, rows: int) -> dict[str, Any]:
        """The updated L and Delta estimates from the batch's pairs (``rows`` centres of ``b`` pairs each)."""
        V = values.reshape(rows, 2, -1)
        plus, minus = V[:, 0].ravel(), V[:, 1].ravel()
        ok = np.isfinite(plus) & np.isfinite(minus)
        slopes = (plus[ok] - minus[ok]) / (2.0 * self.delta)
        out = {"slope2": state.slope2 + float(np.sum(slopes**2)), "n_slopes": state.n_slopes + int(ok.sum())}
        if not math.isfinite(state.gap) and ok.any():
            mean = float(np.mean(np.concatenate([plus[ok], minus[ok]])))
            out["gap"] = mean
        return out

    def lipschitz(self, state: GoldsteinState | None = None) -> float:
        """``L_hat = sqrt(d) * rms slope`` (0 before the first finite pair)."""
        s = self.state if state is None else state
        return math.sqrt(self.dim * s.slope2 / s.n_slopes) if s.n_slopes else 0.0

    def _gap(self, state: GoldsteinState) -> float:
        if self.params.gap is not None:
            return float(self.params.gap)
        return max(abs(state.gap) if math.isfinite(state.gap) else 0.0, self.delta * self.lipschitz(state))

    #: the step of ``lr=None``
    default_lr: str = "paper"

    def _lr(self, state: GoldsteinState, v: np.ndarray) -> float:
        lr = self.default_lr if self.params.lr is None else self.params.lr
        if lr == "paper":
            return self._paper_lr(state)
        if lr in ("normalized", "adaptive"):  # a step of a given length along -v / ||v||
            n = float(np.linalg.norm(v))
            length = self.delta if lr == "normalized" else state.length
            return length / n if n > 0.0 and math.isfinite(n) else 0.0
        return float(lr(state.t)) if callable(lr) else float(lr)

    @abc.abstractmethod
    def _paper_lr(self, state: GoldsteinState) -> float:
        """The paper's step ``eta_t`` with the online estimates (each method its own)."""

    def _step(self, state: GoldsteinState, v: np.ndarray, **fields: Any) -> GoldsteinState:
        """``x_{t+1} = x_t - eta_t v`` (projected onto the bounds), from a state with the new estimates."""
        eta = self._lr(dataclasses.replace(state, **fields), v)
        x_new = state.x - eta * v if eta > 0 and math.isfinite(eta) else state.x
        if not np.isfinite(x_new).all():
            x_new = state.x
        if self.bounds is not None:
            x_new = self.project(x_new)
        return dataclasses.replace(state, x=x_new, t=state.t + 1, v=v, probe={}, **fields)

    # ------------------------------------------------------------------ reporting
    def record(self) -> dict[str, float]:
        """``stationarity``: the estimated ``||grad f_delta(x_t)||`` (the Goldstein measure) after each step."""
        return {"stationarity": float(self.state.stationarity)}

    def outcome(self) -> dict[str, Any]:
        return {
            "iterate": self.state.x.copy(),  # the papers' output is an iterate, not the best sampled value
            "stationarity": float(self.state.stationarity),
            "goldstein": {
                "delta": self.delta,
                "lipschitz": self.lipschitz(),
                "n_skipped": self.state.n_skipped,
            },
        }

    @property
    def x(self) -> np.ndarray:
        """The current iterate."""
        return self.state.x.copy()


def check_batch(value: Any, name: str) -> None:
    check_int(value, name, 1)
