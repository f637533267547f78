"""Consensus hopping, the scheme behind "Gradient is All You Need?" (Riedl et al. 2023).

Paper: K. Riedl, T. Klock, C. Geldhauser, M. Fornasier, "Gradient is All You Need?", 2023. Each step samples
N points around the current consensus and hops to their consensus::

    V = c + sigma * xi,  xi ~ N(0, I) (N, d)
    c <- sum_n w_n v_n,  w = softmax(-alpha f(V))       (log-sum-exp, the same kernel as CBO)
    sigma <- sigma * sigma_factor                        (optional shrinking; 1 keeps sigma fixed)

Riedl et al. show that this is a stochastic relaxation of gradient descent: for small sigma the hop follows
``-grad f``, and for larger sigma it sees through small local minima. ``c`` starts at ``x0`` (or the middle of
``bounds``). Non-finite values get weight 0; a step with no finite value keeps ``c`` (counted in
``state.n_skipped``). The run stops when ``sigma`` has shrunk below ``sigma_min``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.renamed import RenamedOptions
from zoo.core.validate import check_int, check_real
from zoo.kernels.cbo import consensus_point


@dataclasses.dataclass(frozen=True)
class HoppingParams(Params):
    popsize: int = 50  # samples per hop (was n_particles)
    sigma: float = 1.0
    sigma_factor: float = 0.995
    sigma_min: float = 1e-10
    alpha: float = 1e3
    use_numba: bool = True

    def check(self, dim: int) -> None:
        check_int(
            self.popsize,
            "popsize (samples per hop, was n_particles)",
            2,
            why=" (a consensus needs 2 samples)",
        )
        check_real(self.sigma, "sigma", 0, low_open=True)
        check_real(self.alpha, "alpha", 0, low_open=True)
        check_real(self.sigma_factor, "sigma_factor", 0, 1, low_open=True)
        check_real(self.sigma_min, "sigma_min", 0)


@dataclasses.dataclass
class HoppingState(State):
    c: np.ndarray  # (d,) current consensus
    sigma: float
    n_skipped: int = 0


@register("consensus-hopping", "hopping")
class ConsensusHopping(RenamedOptions, Method):
    """Resample around the consensus with width sigma, hop to the new consensus, optionally shrink sigma."""

    Params = HoppingParams
    renamed_options = {"n_particles": "popsize"}
    State = HoppingState
    requires_x0 = False

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> HoppingState:
        return HoppingState(c=x0, sigma=float(self.params.sigma))

    def _batch_size(self, state: HoppingState) -> int:
        return self.params.popsize

    def _ask(self, state: HoppingState, rng: np.random.Generator) -> np.ndarray:
        V = state.c + state.sigma * rng.standard_normal((self.params.popsize, self.dim))
        return self.project(V)

    def _tell(
        self, state: HoppingState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> HoppingState:
        p = self.params
        c, count = consensus_point(X, values, p.alpha, p.use_numba)
        return HoppingState(
            c=state.c if c is None else c,
            sigma=state.sigma * p.sigma_factor,
            n_skipped=state.n_skipped + (count == 0),
        )

    def _stop(self, state: HoppingState) -> dict:
        return {"sigma_min": self.params.sigma_min} if state.sigma < self.params.sigma_min else {}
