"""``"separable-step"``: a global line search along every coordinate at once, for separable objectives.

If ``f(x) = sum_i g_i(x_i)``, minimizing ``f`` is ``d`` independent one-dimensional problems, and a global
1-D method solves separable multimodal functions (Rastrigin) that CMA-ES solves rarely. The 1-D method is
STEP, "select the easiest point" (Swarzberg, Seront & Bersini, "S.T.E.P.: the easiest way to optimize a
function", IEEE WCCI 1994), run on every coordinate line through a common base point ``b`` as in its
separable extension (Baudis & Posik, "Global line search algorithm hybridized with quadratic interpolation and
its extension to separable functions", GECCO 2015), and alternated with a quadratic-interpolation step:

- A line ``i`` holds the sampled positions ``t`` of coordinate ``i`` (the others at ``b``) and their values.
  Each interval ``[t_k, t_k+1]`` with values ``v_k, v_k+1`` has the *difficulty* ``a = ((sqrt(v_k - f_T) +
  sqrt(v_k+1 - f_T)) / (t_k+1 - t_k))^2``: the curvature of the parabola through both ends whose minimum is
  the target ``f_T = min v - eps`` (``eps = 1e-8`` of the line's value range). STEP samples the midpoint of the
  easiest interval: wide unexplored intervals and those next to the best point compete on one scale.
- Every other step of a line, when its best point has a neighbour on each side, the vertex of the parabola
  through the three is sampled instead (superlinear refinement inside the basin STEP has found).
- One batch holds one point per line. When two or more lines found a lower value than ``f(b)``, the next batch
  also holds the *combined* point ``c`` (every line at its best position): for a separable ``f``,
  ``f(c) = f(b) + sum_i (min v_i - f(b))`` exactly (up to rounding). That is the **separability test**: if
  ``f(c)`` misses the prediction by more than ``rtol`` of the predicted change (plus rounding), the
  coordinates interact and the method stops (``stop()`` says ``not_separable``), having spent at most
  ``2d + 1 + (confirm_sweeps + 1)(d + 1)`` evaluations (on BBOB's rotated functions: ``3d + 2``). If it holds, ``c`` becomes the base and every line's
  values shift by the change of the other coordinates (known without new evaluations under separability).

It also stops when ``f(x0)`` is not finite (``nonfinite_base``: the lines have no common value), when no test could be made within ``confirm_sweeps`` sweeps after the first (``no_structure``),
when the best value has not improved for ``patience`` sweeps (``stalled``), or after ``max_evals``. The first
batch is ``x0`` and both ends of every coordinate. The lines span the bounds; an infinite (or absent) bound is
replaced by ``x0_i +- width`` (``width``: None = ``2 max(1, |x0|_inf)``). Deterministic (no random numbers).
``auto`` runs it first for ``d <= 100`` (docs/methods/auto.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from zoo.core.method import Method, Params, State
from zoo.core.registry import register
from zoo.core.validate import check_count, check_int, check_real


@dataclasses.dataclass(frozen=True)
class SeparableStepParams(Params):
    """``rtol``: the separability test's tolerance, relative to the predicted change; ``confirm_sweeps``:
    sweeps after the first within which a test must be made; ``patience``: sweeps without improvement before
    stopping; ``max_evals``: cap on evaluations (None: the budget); ``width``: half-width of a line where a
    bound is infinite (None: ``2 max(1, |x0|_inf)``)."""

    rtol: float = 1e-6
    confirm_sweeps: int = 3
    patience: int = 30
    max_evals: int | None = None
    width: float | None = None

    def check(self, dim: int) -> None:
        check_real(self.rtol, "rtol", 0, low_open=True)
        check_int(self.confirm_sweeps, "confirm_sweeps", 0)
        check_int(self.patience, "patience", 1)
        check_count(self.max_evals, "max_evals", none_ok=True)
        check_real(self.width, "width", 0, low_open=True, none_ok=True)


@dataclasses.dataclass
class SeparableStepState(State):
    base: np.ndarray  # the base point b
    f_base: float  # f(b) (nan before the first batch)
    pos: list  # per line: sorted positions of coordinate i
    val: list  # per line: values at those positions (others at b), in the frame of the current base
    steps: np.ndarray  # per line: steps taken (odd steps try the quadratic vertex)
    sweeps: int  # batches told
    combined: np.ndarray | None  # the combined point asked in the next batch, or None
    predicted: float  # its predicted value
    gains: np.ndarray  # per line: min v_i - f(b) when the combined point was formed (<= 0)
    tested: bool  # a separability test has passed
    stalled: int  # sweeps since the best value last improved
    verdict: str  # "" while running, else the stop reason


@register("separable-step")
class SeparableStep(Method):
    """STEP along every coordinate from a common base point, with a separability test (see the module)."""

    Params = SeparableStepParams
    State = SeparableStepState

    @property
    def deterministic(self) -> bool:
        return True

    def _setup(self) -> None:
        half = self.params.width
        if half is None:
            half = 2.0 * max(1.0, float(np.max(np.abs(self.x0))))
        lo = self.x0 - half if self.bounds is None else self.bounds[0].copy()
        hi = self.x0 + half if self.bounds is None else self.bounds[1].copy()
        lo = np.where(np.isfinite(lo), lo, self.x0 - half)
        hi = np.where(np.isfinite(hi), hi, self.x0 + half)
        self._lo, self._hi = lo, hi
        self._active = np.flatnonzero(hi > lo)  # zero-width coordinates have nothing to search
        # (state, plan) of the last _plan call: stop(), _ask and _tell each need the plan of one state (stop()
        # twice, through _batch_size and the max_evals cap), and it is a Python loop over the coordinates.
        # States are never changed in place, so the state object is the key; nothing to save.
        self._plan_memo: tuple[SeparableStepState, tuple] | None = None

    def _init(self, x0: np.ndarray, rng: np.random.Generator) -> SeparableStepState:
        d = self.dim
        return SeparableStepState(
            base=x0.copy(),
            f_base=float("nan"),
            pos=[np.array([x0[i]]) for i in range(d)],
            val=[np.array([np.nan]) for i in range(d)],
            steps=np.zeros(d, dtype=np.int64),
            sweeps=0,
            combined=None,
            predicted=float("nan"),
            gains=np.zeros(d),
            tested=False,
            stalled=0,
            verdict="",
        )

    # ----------------------------------------------------------------- the batch
    def _plan(self, state: SeparableStepState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, line, t)``: the batch, the line of each row (-1: the combined point, -2: x0) and its position."""
        if self._plan_memo is not None and self._plan_memo[0] is state:
            return self._plan_memo[1]
        plan = self._make_plan(state)
        self._plan_memo = (state, plan)
        return plan

    def _make_plan(self, state: SeparableStepState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lines, ts = [], []
        if state.sweeps == 0:
            lines.append(-2)
            ts.append(np.nan)
            for i in self._active:
                for t in (self._lo[i], self._hi[i]):
                    if t != state.base[i]:
                        lines.append(int(i))
                        ts.append(float(t))
        else:
            for i in self._active:
                t = self._next_position(state, int(i))
                if t is not None:
                    lines.append(int(i))
                    ts.append(t)
            if state.combined is not None:
                lines.append(-1)
                ts.append(np.nan)
        X = np.repeat(state.base[None, :], len(lines), axis=0)
        for r, (i, t) in enumerate(zip(lines, ts)):
            if i >= 0:
                X[r, i] = t
            elif i == -1:
                X[r] = state.combined
        return X, np.array(lines, dtype=np.int64), np.array(ts)

    def _next_position(self, state: SeparableStepState, i: int) -> float | None:
        p, v = state.pos[i], state.val[i]
        k = int(np.argmin(v))
        if state.steps[i] % 2 == 1 and 0 < k < len(p) - 1 and p[k + 1] - p[k - 1] > _narrow(p):
            t = _parabola_vertex(p[k - 1 : k + 2], v[k - 1 : k + 2])
            gap = 1e-3 * (p[k + 1] - p[k - 1])
            if t is not None and p[k - 1] + gap < t < p[k + 1] - gap and np.min(np.abs(p - t)) > gap:
                return float(t)
            # no usable vertex (too close to a sampled point: the bracket is what is left to shrink):
            # a golden-section point in the larger side of the bracket, as Brent's method falls back to
            far = p[k - 1] if p[k] - p[k - 1] > p[k + 1] - p[k] else p[k + 1]
            return float(p[k] + 0.381966 * (far - p[k]))
        return _easiest_midpoint(p, v)

    def _ask(self, state: SeparableStepState, rng: np.random.Generator) -> np.ndarray:
        return self._plan(state)[0]

    def _batch_size(self, state: SeparableStepState) -> int:
        return len(self._plan(state)[0])

    # ----------------------------------------------------------------- the update
    def _tell(
        self, state: SeparableStepState, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> SeparableStepState:
        _, lines, ts = self._plan(state)
        pos = [p.copy() for p in state.pos]
        val = [v.copy() for v in state.val]
        steps = state.steps.copy()
        base, f_base = state.base.copy(), state.f_base
        best_before = self.best[1]
        for r, (i, t) in enumerate(zip(lines, ts)):
            if i == -2:  # x0: the value at the base of every line
                f_base = float(values[r])
                for j in range(self.dim):
                    val[j][:] = f_base
            elif i >= 0:
                k = int(np.searchsorted(pos[i], t))
                pos[i] = np.insert(pos[i], k, t)
                val[i] = np.insert(val[i], k, values[r])
                steps[i] += 1
        verdict = ""
        tested = state.tested or self._active.size <= 1  # one line: nothing can interact
        if state.combined is not None:  # the separability test
            fc = float(values[lines == -1][0])
            change = abs(state.predicted - f_base)
            rounding = 1e-12 * max(1.0, abs(f_base), abs(fc)) * self.dim
            if not abs(fc - state.predicted) <= self.params.rtol * change + rounding:
                verdict = "not_separable"
            else:
                tested = True
                shift = fc - f_base
                for j in range(self.dim):  # the other coordinates moved: line j's values change by that
                    val[j] += shift - state.gains[j]
                base, f_base = state.combined.copy(), fc
        combined, predicted, gains = None, float("nan"), np.zeros(self.dim)
        if not verdict and not np.isfinite(f_base):  # lines through a point without a value compare nothing
            verdict = "nonfinite_base"
        if not verdict:
            base, f_base, val, combined, predicted, gains = self._rebase(base, f_base, pos, val)
        sweeps = state.sweeps + 1
        best_after = min(float(np.min(values)), best_before)
        improved = best_after < best_before - 1e-12 * max(1.0, abs(best_before))
        stalled = 0 if improved else state.stalled + 1
        if not verdict:
            if not tested and combined is None and sweeps > self.params.confirm_sweeps:
                verdict = "no_structure"
            elif stalled >= self.params.patience:
                verdict = "stalled"
        return SeparableStepState(
            base=base,
            f_base=f_base,
            pos=pos,
            val=val,
            steps=steps,
            sweeps=sweeps,
            combined=combined,
            predicted=predicted,
            gains=gains,
            tested=tested,
            stalled=stalled,
            verdict=verdict,
        )

    def _rebase(self, base: np.ndarray, f_base: float, pos: list, val: list) -> tuple:
        """Move the base along the lines that improved on it: one line at once (its point was evaluated);
        two or more through the combined point of the next batch (the separability test)."""
        gains = np.array([float(np.min(v)) - f_base for v in val])
        better = np.flatnonzero(gains < 0)
        if better.size == 1:
            i = int(better[0])
            base = base.copy()
            base[i] = pos[i][int(np.argmin(val[i]))]
            f_base = f_base + gains[i]
            val = [v if j == i else v + gains[i] for j, v in enumerate(val)]
            return base, f_base, val, None, float("nan"), np.zeros(self.dim)
        if better.size == 0:
            return base, f_base, val, None, float("nan"), np.zeros(self.dim)
        combined = base.copy()
        for i in better:
            combined[i] = pos[i][int(np.argmin(val[i]))]
        gains = np.where(gains < 0, gains, 0.0)
        return base, f_base, val, combined, f_base + float(np.sum(gains)), gains

    def _stop(self, state: SeparableStepState) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if state.verdict:
            out["separable_step"] = state.verdict
        cap = self.params.max_evals
        if cap is not None and self.nfev + self._batch_size(state) > cap:
            out["max_evals"] = cap
        return out

    def _state_from_dict(self, d: dict[str, Any]) -> SeparableStepState:
        d = dict(d)
        d["base"] = np.asarray(d["base"], dtype=np.float64)
        d["pos"] = [np.asarray(p, dtype=np.float64) for p in d["pos"]]
        d["val"] = [np.asarray(v, dtype=np.float64) for v in d["val"]]
        d["steps"] = np.asarray(d["steps"], dtype=np.int64)
        d["gains"] = np.asarray(d["gains"], dtype=np.float64)
        if d["combined"] is not None:
            d["combined"] = np.asarray(d["combined"], dtype=np.float64)
        return SeparableStepState(**d)


def _parabola_vertex(p: np.ndarray, v: np.ndarray) -> float | None:
    """The vertex of the parabola through three points (None if they are collinear or it opens downward)."""
    if not np.all(np.isfinite(v)):
        return None
    a, b, c = p
    fa, fb, fc = v
    num = (b - a) ** 2 * (fb - fc) - (b - c) ** 2 * (fb - fa)
    den = (b - a) * (fb - fc) - (b - c) * (fb - fa)
    if not np.isfinite(num) or not np.isfinite(den) or den >= 0:  # den < 0 <=> convex through the 3 points
        return None
    return float(b - 0.5 * num / den)


def _narrow(p: np.ndarray) -> float:
    """Intervals narrower than this are not split (rounding of the positions)."""
    return 1e-13 * max(1.0, float(np.max(np.abs(p))))


def _easiest_midpoint(p: np.ndarray, v: np.ndarray) -> float | None:
    """STEP: the midpoint of the interval with the least difficulty (None if every interval is too narrow)."""
    width = np.diff(p)
    ok = width > _narrow(p)
    if not ok.any():
        return None
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        k = int(np.argmax(np.where(ok, width, -1.0)))
        return float(0.5 * (p[k] + p[k + 1]))
    f_t = float(finite.min()) - max(1e-8 * float(finite.max() - finite.min()), 1e-300)
    with np.errstate(invalid="ignore", over="ignore"):
        root = np.sqrt(v - f_t)
        difficulty = ((root[:-1] + root[1:]) / np.where(ok, width, 1.0)) ** 2
    difficulty = np.where(ok & np.isfinite(difficulty), difficulty, np.inf)
    k = int(np.argmin(difficulty))
    if not np.isfinite(difficulty[k]):  # only intervals with an infinite end: the widest of them
        k = int(np.argmax(np.where(ok, width, -1.0)))
    return float(0.5 * (p[k] + p[k + 1]))
