"""Two-point random gradient estimates: RGE / ZO-SGD (Nesterov & Spokoiny 2017; Ghadimi & Lan 2013),
SPSA (Spall 1992), ZO-signSGD (Liu et al., ICLR 2019), ZO-AdaMM (Chen et al., NeurIPS 2019).

Forward form, q directions ``u_i`` (cost q + 1 queries)::

    g = (1/q) * sum_i (f(x + mu u_i) - f(x)) / mu * u_i

Central form (cost 2q)::

    g = (1/q) * sum_i (f(x + mu u_i) - f(x - mu u_i)) / (2 mu) * u_i

Directions: ``gaussian`` u ~ N(0, I); ``sphere`` u uniform on the sphere of radius sqrt(d) (the usual
"unit sphere times d" estimator, written so that E[u u^T] = I for every choice); ``rademacher`` u in {-1, +1}^d
(SPSA); ``orthogonal=True`` orthogonalizes the q directions (q <= d) and scales them to norm sqrt(d).
``g`` estimates the gradient of the Gaussian (or sphere) smoothing ``f_mu(x) = E f(x + mu u)``; its cosine
with the true gradient grows like sqrt(q/d).

Random numbers: ``noise="table"`` (default) reads Gaussian directions from a shared pre-drawn table at random
offsets (see :mod:`zoo.kernels.noise`): a direction costs one integer, not d fresh normals, and the probe batch
and the estimate are assembled by Numba kernels. ``noise="rng"`` draws fresh numbers from the optimizer's
generator; Rademacher and orthogonal directions always do.

A non-finite value drops its direction from the average; a non-finite f(x) (forward form) skips the step.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from zoo.core.registry import register
from zoo.core.validate import check_choice, check_int
from zoo.estimators.base import GradientMethod, GradientParams, GradientState
from zoo.kernels import noise as _noise

_DIRECTIONS = ("gaussian", "sphere", "rademacher")


@dataclasses.dataclass(frozen=True)
class RGEParams(GradientParams):
    q: int = 1
    directions: str = "gaussian"
    difference: str = "forward"
    orthogonal: bool = False
    noise: str = "table"
    use_numba: bool = True

    def check(self, dim: int) -> None:
        super().check(dim)
        check_int(self.q, "q (number of directions)", 1)
        check_choice(self.directions, "directions", _DIRECTIONS)
        check_choice(self.difference, "difference", ("forward", "central"))
        check_choice(self.noise, "noise", ("table", "rng"))
        if self.orthogonal and self.q > dim:
            raise ValueError(f"orthogonal directions need q <= d; got q={self.q}, d={dim}")


@register("rge", "zo-adam")
class RGE(GradientMethod):
    """Random gradient estimate + an update rule (default Adam, i.e. ZO-AdaMM)."""

    Params = RGEParams

    def _uses_table(self) -> bool:
        p = self.params
        return p.noise == "table" and p.directions != "rademacher" and not p.orthogonal

    def _batch_size(self, state: GradientState) -> int:
        q = self.params.q
        return 2 * q if self.params.difference == "central" else q + 1

    def _probe(self, x, rng):
        p = self.params
        central = p.difference == "central"
        d = x.shape[0]
        if self._uses_table():
            offsets = _noise.draw_offsets(rng, p.q, d)
            X, scales = _noise.perturb_rows(x, offsets, p.mu, p.directions == "sphere", central, p.use_numba)
            return X, {"offsets": offsets, "scales": scales}
        U = self._draw(rng, p.q, d)
        step = p.mu * U
        X = np.concatenate([x + step, x - step]) if central else np.concatenate([x[None, :], x + step])
        return X, {"U": U}

    def _draw(self, rng: np.random.Generator, q: int, d: int) -> np.ndarray:
        p = self.params
        if p.directions == "rademacher":
            U = rng.integers(0, 2, size=(q, d), dtype=np.int8).astype(np.float64) * 2.0 - 1.0
        else:
            U = rng.standard_normal((q, d))
            if p.directions == "sphere":
                U *= math.sqrt(d) / np.linalg.norm(U, axis=1, keepdims=True)
        if p.orthogonal:
            Q, R = np.linalg.qr(U.T)  # Q: (d, q) orthonormal columns
            Q *= np.sign(np.diag(R))  # fix QR's sign ambiguity so that the rows stay symmetric in law
            U = Q.T * math.sqrt(d)
        return U

    def _estimate(self, state, X, values):
        p = self.params
        q = p.q
        if p.difference == "central":
            with np.errstate(invalid="ignore"):  # inf - inf = nan: that direction is dropped below
                diff = (values[:q] - values[q:]) / (2.0 * p.mu)
        else:
            if not np.isfinite(values[0]):
                return None
            diff = (values[1:] - values[0]) / p.mu
        valid = np.isfinite(diff)
        k = int(valid.sum())
        if k == 0:
            return None
        coef = np.where(valid, diff, 0.0) / k
        if self.bounds is not None:  # clipped probes: use the displacement actually queried
            if p.difference == "central":
                U = (X[:q] - X[q:]) / (2.0 * p.mu)
            else:
                U = (X[1:] - X[0]) / p.mu
            return coef @ U
        if "offsets" in state.probe:
            return _noise.assemble_rows(
                state.probe["offsets"], coef * state.probe["scales"], X.shape[1], p.use_numba
            )
        return coef @ state.probe["U"]


@dataclasses.dataclass(frozen=True)
class ZOSGDParams(RGEParams):
    update: str = "sgd"
    lr: float = 1e-3


@register("zo-sgd")
class ZOSGD(RGE):
    """RGE + plain SGD (Ghadimi & Lan 2013)."""

    Params = ZOSGDParams


@dataclasses.dataclass(frozen=True)
class ZOSignSGDParams(RGEParams):
    update: str = "sign"
    lr: float = 1e-2
    q: int = 10


@register("zo-signsgd")
class ZOSignSGD(RGE):
    """RGE + sign descent (ZO-signSGD, Liu et al., ICLR 2019)."""

    Params = ZOSignSGDParams


@dataclasses.dataclass(frozen=True)
class SPSAParams(RGEParams):
    directions: str = "rademacher"
    difference: str = "central"
    update: str = "sgd"
    lr: float = 1e-3


@register("spsa")
class SPSA(RGE):
    """Simultaneous perturbation (Spall 1992): Rademacher directions, central differences, SGD."""

    Params = SPSAParams
