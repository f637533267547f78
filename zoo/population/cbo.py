"""Consensus-based optimization (CBO): M independent runs of N particles each, in one array.

Particles ``x_{m,n}`` in R^d move towards the consensus of their run (Pinnau, Totzeck, Tse & Martin 2017,
"A consensus-based model for global optimization and its mean-field limit")::

    c_m = sum_n w_{m,n} x_{m,n},   w_m = softmax(-alpha_m f(x_{m,.}))            (log-sum-exp)
    x <- x - lambda dt (x - c) + sigma sqrt(dt) (x - c) * xi                     (anisotropic noise)
    x <- x - lambda dt (x - c) + sigma sqrt(dt) ||x - c|| xi                     (isotropic noise)

``xi ~ N(0, I)``. Anisotropic noise (Carrillo, Jin, Li & Zhu 2021) is what makes CBO work in high dimension;
the default ``sigma`` comes from a sweep (``benchmarks/cbo_sweep.py``, ``benchmarks/RESULTS.md``).

Options beyond the plain scheme:

- ``alpha_schedule``: ``"fixed"``; ``"multiplicative"`` (``alpha *= alpha_factor`` after each step, capped at
  ``alpha_max``); ``"ess"``: each step, per run, the alpha whose weights have effective sample size
  ``(sum w)^2 / sum w^2 = ess_target * k`` (bisection in log alpha; Carrillo, Hoffmann, Stuart & Vaes 2022).
- ``batch_size``: random-batch consensus (Carrillo, Jin, Li & Zhu 2021): each step the consensus of a run is
  computed from ``batch_size`` particles drawn without replacement; every particle moves.
- ``heaviside``: drift only for particles worse than the consensus, ``H = 1[f(x) > f(c)]`` (Carrillo, Choi,
  Totzeck & Tse 2018; Fornasier et al.). It needs ``f(c)``: each step then takes two asks, the particles and
  then the M consensus points (M extra queries per step).
- ``memory``: CBO with memory (Riedl 2023, "Leveraging memory effects and gradient information in
  consensus-based optimisation"): each particle keeps its personal best ``y`` and the consensus is computed
  from the memories ``(y, f(y))``.

Each run stops on its own: after ``max_steps`` steps, or when its particles have collapsed onto the consensus
(``max |x - c| <= tol_x * (1 + max |c|)``; the multiplicative noise then vanishes, so nothing more can
happen). ``ask`` returns the particles of the runs still active, flattened to ``(M_active * N, d)``; ``stop``
reports ``runs_converged`` when every run has stopped.

Non-finite values: they reach ``_tell`` as ``+inf`` and get weight 0 in the consensus. A run whose values are
all non-finite skips its step (particles unchanged, counted in ``state.n_skipped``): no NaN reaches the state.

Random numbers: ``noise_source="table"`` reads the noise of a run as one contiguous block of the shared
float32 table of i.i.d. N(0, 1) numbers (:mod:`zoo.kernels.noise`) at a fresh random offset per run and
step: one integer per run instead of N * d fresh normals. ``"rng"`` draws fresh float64 normals. ``"auto"``
(default) uses the table when a run's block fits (N * d <= 2**20).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.renamed import RenamedOptions
from zoo.core.validate import check_choice, check_int, check_real
from zoo.kernels import cbo as _kernel
from zoo.kernels import noise as _noise

_TABLE_BLOCK_MAX = _noise.TABLE_SIZE // 4


@dataclasses.dataclass(frozen=True)
class CBOParams(Params):
    popsize: int = 50  # N, particles per run (was n_particles)
    n_runs: int = 1
    noise: str = "anisotropic"
    sigma: float = 11.0
    lambda_: float = 1.0
    dt: float = 0.01
    alpha: float = 30.0
    alpha_schedule: str = "multiplicative"
    alpha_factor: float = 1.05
    alpha_max: float = 1e5
    ess_target: float = 0.5
    batch_size: int | None = None
    heaviside: bool = False
    memory: bool = False
    init: str = "uniform"
    init_bounds: tuple | None = None
    init_scale: float = 1.0
    max_steps: int | None = None
    tol_x: float = 1e-10
    noise_source: str = "auto"
    use_numba: bool = True

    def check(self, dim: int) -> None:
        check_int(
            self.popsize,
            "popsize (particles per run, was n_particles)",
            2,
            why=" (a consensus needs at least 2 particles)",
        )
        check_int(self.n_runs, "n_runs", 1)
        check_choice(self.noise, "noise", ("anisotropic", "isotropic"))
        for name in ("sigma", "dt", "alpha", "alpha_max", "init_scale"):
            check_real(getattr(self, name), name, 0, low_open=True)
        check_real(self.lambda_, "lambda_", 0)
        check_choice(self.alpha_schedule, "alpha_schedule", ("fixed", "multiplicative", "ess"))
        check_real(self.alpha_factor, "alpha_factor", 1)
        check_real(self.ess_target, "ess_target", 0, 1, low_open=True, high_open=True)
        check_int(self.batch_size, "batch_size", 1, self.popsize, none_ok=True, why=" (1..popsize)")
        check_choice(self.init, "init", ("uniform", "normal"))
        check_int(self.max_steps, "max_steps", 1, none_ok=True)
        check_real(self.tol_x, "tol_x", 0, finite=False)
        check_choice(self.noise_source, "noise_source", ("auto", "table", "rng"))
        if self.noise_source == "table" and self.popsize * dim > _TABLE_BLOCK_MAX:
            raise ValueError(
                f"noise_source='table' needs popsize * d <= {_TABLE_BLOCK_MAX}; "
                f"got {self.popsize * dim}: use noise_source='rng'"
            )


@dataclasses.dataclass
class CBOState(State):
    X: np.ndarray  # (M, N, d) particles
    Y: np.ndarray  # (M, N, d) personal bests (memory) or shape (0,)
    FY: np.ndarray  # (M, N) their values or shape (0,)
    alpha: np.ndarray  # (M,)
    active: np.ndarray  # (M,) bool
    steps: np.ndarray  # (M,) steps taken
    n_skipped: np.ndarray  # (M,) steps skipped (no finite value)
    consensus: np.ndarray  # (M, d) latest consensus
    spread: np.ndarray  # (M,) max |x - c| before the latest step
    run_best_x: np.ndarray  # (M, d)
    run_best_f: np.ndarray  # (M,)
    phase: str = "particles"  # "consensus": waiting for f(c) (Heaviside correction)
    FX: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0))  # pending values (Heaviside)
    batch: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 0), dtype=np.int64))


@register("cbo")
class CBO(RenamedOptions, Method):
    """Consensus-based optimization, M runs x N particles in one array (see the module docstring)."""

    Params = CBOParams
    renamed_options = {"n_particles": "popsize"}
    State = CBOState
    requires_x0 = False

    # ------------------------------------------------------------------ init
    def _init_box(self, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        if p.init_bounds is not None:
            try:
                lo, hi = (
                    np.broadcast_to(np.asarray(b, dtype=np.float64), (self.dim,)) for b in p.init_bounds
                )
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"init_bounds must be a pair (lower, upper) broadcastable to ({self.dim},)"
                ) from exc
            if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
                raise ValueError("init_bounds must be finite with lower <= upper")
            return lo, hi
        lo, hi = x0 - p.init_scale, x0 + p.init_scale
        if self.bounds is not None:  # the finite parts of `bounds` replace x0 +- init_scale
            lo = np.where(np.isfinite(self.bounds[0]), self.bounds[0], lo)
            hi = np.where(np.isfinite(self.bounds[1]), self.bounds[1], hi)
        return lo, hi

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> CBOState:
        p = self.params
        M, N, d = p.n_runs, p.popsize, self.dim
        if p.init == "uniform":
            lo, hi = self._init_box(x0)
            X = lo + (hi - lo) * rng.random((M, N, d))
        else:
            X = x0 + p.init_scale * rng.standard_normal((M, N, d))
        X = self.project(X)
        memory = p.memory
        return CBOState(
            X=X,
            Y=X.copy() if memory else np.empty(0),
            FY=np.full((M, N), np.inf) if memory else np.empty(0),
            alpha=np.full(M, float(p.alpha)),
            active=np.ones(M, dtype=bool),
            steps=np.zeros(M, dtype=np.int64),
            n_skipped=np.zeros(M, dtype=np.int64),
            consensus=np.tile(x0, (M, 1)),
            spread=np.full(M, np.inf),
            run_best_x=np.tile(x0, (M, 1)),
            run_best_f=np.full(M, np.inf),
        )

    # ------------------------------------------------------------------ ask
    def _runs(self, state: CBOState) -> np.ndarray:
        return np.flatnonzero(state.active)

    def _batch_size(self, state: CBOState) -> int:
        n_active = int(state.active.sum())
        return n_active if state.phase == "consensus" else n_active * self.params.popsize

    def _ask(self, state: CBOState, rng: np.random.Generator) -> np.ndarray:
        runs = self._runs(state)
        if state.phase == "consensus":
            return state.consensus[runs]
        if len(runs) == state.X.shape[0]:
            return state.X.reshape(-1, self.dim)  # a view: no copy when every run is active
        return state.X[runs].reshape(-1, self.dim)

    # ------------------------------------------------------------------ tell
    def _tell(self, state: CBOState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator) -> CBOState:
        p = self.params
        runs = self._runs(state)
        if state.phase == "consensus":
            fc = np.full(len(state.alpha), np.inf)
            fc[runs] = values
            new = dataclasses.replace(
                state, phase="particles", FX=np.empty(0), batch=np.empty((0, 0), np.int64)
            )
            return self._step(new, runs, state.FX, state.batch, fc, rng)
        M, N = len(state.alpha), p.popsize
        if len(runs) == M:
            F = values.reshape(M, N)
        else:
            F = np.full((M, N), np.inf)
            F[runs] = values.reshape(len(runs), N)
        new = dataclasses.replace(state)
        self._track_run_best(new, runs, F)
        if p.memory:
            better = F < state.FY
            new.Y = np.where(better[..., None], state.X, state.Y)
            new.FY = np.where(better, F, state.FY)
        batch = np.empty((M, 0), dtype=np.int64)
        if p.batch_size is not None and p.batch_size < N:
            batch = np.argsort(rng.random((M, N)), axis=1)[:, : p.batch_size].astype(np.int64)
        if p.alpha_schedule == "ess":
            new.alpha = state.alpha.copy()
            FY = new.FY if p.memory else F
            new.alpha[runs] = _ess_alpha(
                FY[runs] if batch.shape[1] == 0 else np.take_along_axis(FY[runs], batch[runs], 1),
                p.ess_target,
                p.alpha_max,
            )
        if p.heaviside:
            new.consensus = state.consensus.copy()
            Yc, FYc = (new.Y, new.FY) if p.memory else (state.X, F)
            for m in runs:
                c, count = _kernel.consensus_point(
                    Yc[m] if batch.shape[1] == 0 else Yc[m][batch[m]],
                    FYc[m] if batch.shape[1] == 0 else FYc[m][batch[m]],
                    new.alpha[m],
                    p.use_numba,
                )
                if c is not None:
                    new.consensus[m] = c
            new.phase, new.FX, new.batch = "consensus", F, batch
            return new
        return self._step(new, runs, F, batch, np.full(M, np.inf), rng)

    def _step(
        self,
        state: CBOState,
        runs: np.ndarray,
        F: np.ndarray,
        batch: np.ndarray,
        fc: np.ndarray,
        rng: np.random.Generator,
    ) -> CBOState:
        """The fused consensus + update kernel for the active runs, then the per-run stopping tests."""
        p = self.params
        M, N, d = state.X.shape
        noise, offsets = self._draw_noise(rng, runs, M, N, d)
        Y, FY = (state.Y, state.FY) if p.memory else (state.X, F)
        anisotropic = p.noise == "anisotropic"
        if p.use_numba:
            X_out = np.empty_like(state.X)
            if len(runs) < M:
                X_out[~state.active] = state.X[~state.active]
            C = state.consensus.copy()
            spread = np.full(M, np.inf)
            ok = np.zeros(M, dtype=np.int64)
            _kernel.cbo_step(
                state.X,
                F,
                Y,
                FY,
                runs,
                batch,
                state.alpha,
                float(p.lambda_),
                float(p.dt),
                float(p.sigma),
                anisotropic,
                bool(p.heaviside),
                fc,
                noise,
                offsets,
                X_out,
                C,
                spread,
                ok,
            )
        else:
            X_out, C, spread, ok = _kernel.cbo_step_numpy(
                state.X,
                F,
                Y,
                FY,
                runs,
                batch,
                state.alpha,
                p.lambda_,
                p.dt,
                p.sigma,
                anisotropic,
                p.heaviside,
                fc,
                noise,
                offsets,
                state.consensus,
            )
        if self.bounds is not None:
            np.clip(X_out, self.bounds[0], self.bounds[1], out=X_out)
        skipped = np.zeros(M, dtype=bool)
        skipped[runs] = ok[runs] == 0
        new_spread = state.spread.copy()  # runs not stepped keep theirs; a skipped step has no spread
        new_spread[runs] = np.where(skipped[runs], np.inf, spread[runs])
        spread = new_spread
        steps = state.steps.copy()
        steps[runs] += 1
        alpha = state.alpha
        if p.alpha_schedule == "multiplicative":
            alpha = alpha.copy()
            alpha[runs] = np.minimum(alpha[runs] * p.alpha_factor, p.alpha_max)
        active = state.active.copy()
        collapsed = spread <= p.tol_x * (1.0 + np.abs(C).max(axis=1))
        active &= ~collapsed
        if p.max_steps is not None:
            active &= steps < p.max_steps
        return dataclasses.replace(
            state,
            X=X_out,
            consensus=C,
            spread=spread,
            steps=steps,
            alpha=alpha,
            active=active,
            n_skipped=state.n_skipped + skipped,
        )

    def _draw_noise(self, rng, runs, M, N, d):
        """Noise for the step ``(noise, offsets)``: run m reads ``noise[offsets[m] : offsets[m] + N * d]``."""
        offsets = np.zeros(M, dtype=np.int64)
        source = self.params.noise_source
        if source == "table" or (source == "auto" and N * d <= _TABLE_BLOCK_MAX):
            table = _noise.noise_table()
            offsets[runs] = rng.integers(0, len(table) - N * d, size=len(runs), dtype=np.int64)
            return table, offsets
        offsets[runs] = np.arange(len(runs), dtype=np.int64) * (N * d)
        size = len(runs) * N * d
        # a scratch buffer kept between steps (not state: it is overwritten before every use); a fresh
        # multi-megabyte array per step costs more in page faults than the normals themselves
        buf = getattr(self, "_noise_buffer", None)
        if buf is None or buf.size < size:
            buf = self._noise_buffer = np.empty(size)
        return rng.standard_normal(out=buf[:size]), offsets

    @staticmethod
    def _track_run_best(state: CBOState, runs: np.ndarray, F: np.ndarray) -> None:
        i = np.argmin(F[runs], axis=1)
        f = F[runs, i]
        better = f < state.run_best_f[runs]
        if better.any():
            state.run_best_f = state.run_best_f.copy()
            state.run_best_x = state.run_best_x.copy()
            state.run_best_f[runs[better]] = f[better]
            state.run_best_x[runs[better]] = state.X[runs[better], i[better]]

    # ------------------------------------------------------------------ stop
    def _stop(self, state: CBOState) -> dict:
        if not state.active.any():
            return {"runs_converged": int(len(state.active))}
        return {}


def _ess_alpha(F: np.ndarray, target: float, alpha_max: float, iters: int = 40) -> np.ndarray:
    """Per row of ``F`` (R, k): the alpha in [1e-8, alpha_max] with ESS(alpha) = target * k (bisection in
    log alpha); ``alpha_max`` when even that keeps the ESS above the target (e.g. equal values)."""
    R, k = F.shape
    finite = np.isfinite(F)
    fmin = np.where(finite, F, np.inf).min(axis=1, keepdims=True)
    fmin = np.where(np.isfinite(fmin), fmin, 0.0)
    G = np.where(finite, F - fmin, 0.0)

    def ess(a):
        w = np.where(finite, np.exp(-a[:, None] * G), 0.0)
        s1, s2 = w.sum(axis=1), (w * w).sum(axis=1)
        return np.where(s2 > 0, s1 * s1 / np.where(s2 > 0, s2, 1.0), 0.0) / k

    lo = np.full(R, math.log(1e-8))
    hi = np.full(R, math.log(alpha_max))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        above = ess(np.exp(mid)) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    a = np.exp(0.5 * (lo + hi))
    return np.where(ess(np.full(R, alpha_max)) > target, alpha_max, a)
