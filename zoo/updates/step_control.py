"""Success-based step-size control: the default step of zoo's gradient estimators, with no learning rate to tune.

A wrapper transform (in the manner of optax's ``apply_if_finite``): the ``inner`` transform is the named rule at
``lr = 1`` (``make_rule("adam", 1.0)`` for rge, ``"sign"`` for zo-signsgd, ``"sgd"``), whose step ``u_k`` gives
only the direction; the step taken has a length ``r`` that adapts to what the method queries anyway, the value
of the centre point::

    x_{k+1} = x_k + r_k u_k / ||u_k||

The next batch queries ``f(x_{k+1})`` (a forward difference needs it; central methods use the mean of their
``f(x +- mu v)``, which equals ``f(x) + O(mu^2)``), and that value decides:

- **worse** than the reference ``f(x_k)``, or non-finite: the step is **undone** (``x`` goes back to ``x_k``), the
  estimate at the rejected point is discarded (the inner state is left as it was), and
  ``r <- shrink * min(r, r_ok)`` (``r_ok``: the last length that succeeded);
- **better**: accepted, ``r <- r * grow^max(1, streak - accel)`` (a run of successes speeds growth up, so a start
  many orders of magnitude off is corrected in tens of steps, not thousands);
- **equal**: accepted, ``r`` unchanged (plateaus).

With ``grow = 1.25, shrink = 0.5`` the length settles where about 3 steps in 4 succeed, which for a step along a
random direction with the right sign is near the best expected decrease. Sources: the success rule of
evolution strategies (Rechenberg 1973; Kern et al., "Learning probability distributions in continuous
evolutionary algorithms", Natural Computing 2004), the success-based radius of direct-search and trust-region
methods (Conn, Scheinberg & Vicente, *Introduction to Derivative-Free Optimization*, SIAM 2009, ch. 7 and 10),
and its zeroth-order form with random directions (Bergou, Gorbunov & Richtarik, "Stochastic three points
method for unconstrained smooth minimization", SIAM J. Optim. 2020). The undo is a backtracking step.

Scale. ``r_0 = r0_frac * s * sqrt(d)`` with ``s`` the problem's length scale per coordinate
(:func:`length_scale`: a quarter of the mean box width, else rms(x0), else 1), so nothing depends on the
scale of ``f``: multiplying ``f`` by 1e-3 or 1e3 leaves every decision (comparisons of values) unchanged.
The smoothing radius follows the step: :meth:`SuccessStep.probe_radius` is ``mu = mu_ratio * r / sqrt(d)``
(a Gaussian probe of length ``mu_ratio * r``), floored at ``1e-13 * rms(x)`` (finite differences below that
are rounding).

Noise. After an undo the next centre is the old one again: that value is a **re-measurement** of the reference,
never judged against it; the reference becomes the mean of every value measured at that point (``n_ref`` of
them), so a lucky low first value is averaged away instead of freezing the run (a forward method queries the
centre itself, ``exact=True``; a central one its pair mean, an estimate of it, and a lower pair mean there,
``mu`` having shrunk with ``r``, still counts as a success, so the length regrows after an undo). An exact re-measurement is also
a noise sample (exactly 0 on a deterministic function): ``noise2`` estimates the variance ``sigma^2`` of one
value. With ``sigma > 0``, ``mu`` is kept large enough that the probe differences exceed ``3 sigma`` (else the
estimate is noise), while ``r`` may shrink to a tenth of the probe length (``noise_step_frac``: a wide probe, a
shorter step; at the full probe length steps overshoot near the optimum, with no floor the length collapses,
since a step lost in the noise succeeds one time in two). A single new value is accepted against the averaged
reference, as in a (1+1)-ES that re-evaluates its parent (Arnold & Beyer, "A comparison of evolution strategies
with other direct search methods in the presence of noise", Comput. Optim. Appl. 2003). A central method
(``exact=False``) measures no noise: its pair mean moves with ``mu`` and with the directions drawn, so the
difference of two of them is not a noise sample.

The noise floor is bounded: ``mu_n <= r0_frac * s`` (a probe as long as the first step), so the step floor it
sets, a tenth of the probe, cannot grow with noise that grows with ``|x|`` (multiplicative noise).

Stochastic objectives (``sampled=True``: ``F(x; xi)`` at a sample the method chose, one per batch, as
:class:`zoo.Stochastic` evaluates them). Values at two samples differ by the spread between samples, which can
exceed any progress and grow with ``|x|`` (comparing them, and learning a noise floor from them, sent rge to
1e64+ on issue 15's problems). So the caller adds ``x_ref`` to each trial batch, at the batch's sample, and passes
``reference = F(x_ref; xi_k)``: ``D_k = F(x_k; xi_k) - F(x_ref; xi_k)`` estimates ``f(x_k) - f(x_ref)`` without
the sample spread (common random numbers). One ``D_k`` is a coin flip where one sample's slope says little, so
the trials since ``x_ref`` are judged together (:meth:`SuccessStep._window`): a t-test on their ``n`` values at
``n = window, 2 window, ...``; ``mean D < -t se`` accepts the last trial (a success), ``mean D > t se`` or a
non-finite trial undoes (back to ``x_ref``), and a window still undecided at its cap is undone with the cap
doubled; below the cap the trials go on. ``t`` is Student's 97.5 % quantile with ``n - 1`` degrees of freedom.
A re-measurement of ``x_ref`` after an undo is the new reference, never a noise sample.

Fixed learning rates (``adapt=False``): the step is the inner transform's own (with its ``lr``) times a safety
factor ``m <= 1``; only a non-finite or **much worse** centre (``f > f_best + max(|f_best|, f_first - f_best)``,
``f_best`` the lowest accepted centre value: the loss exceeds both the progress so far and the value's own
size) is undone, with ``m <- shrink * m``;
``m <- min(1, grow * m)`` after each success. So a user's lr is kept while it works, and never diverges silently.

Use from another framework (``zoo.torch``): the transform is written once against the array namespace
(:func:`zoo.core.arrays.namespace`), so on a flat parameter tensor ``p`` (``parameters_to_vector``)::

    ctl = SuccessStep(scale_by_adam())
    state = ctl.init(p, scale=length_scale(p))
    mu = ctl.probe_radius(state, p)                  # perturbation size of this step's estimate
    step, state = ctl.update(g, state, p, value=loss_at_p, exact=True)
    p.add_(step)                                     # (or vector_to_parameters(p + step, params))

The state holds ``x_ref`` (a copy of the parameters, the undo target): one parameter-sized buffer.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from zoo.core.arrays import F64, all_finite, namespace, norm, operands, zeros_like
from zoo.updates.base import Chain, State, Transform, UpdateRule


def length_scale(x0: Any, bounds: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """The problem's length per coordinate: a quarter of the mean finite, non-zero box width; else rms(x0);
    else (x0 = 0) 1."""
    if bounds is not None:
        w = np.asarray(bounds[1], dtype=np.float64) - np.asarray(bounds[0], dtype=np.float64)
        ok = np.isfinite(w) & (w > 0)
        if ok.any():
            return float(np.mean(w[ok])) / 4.0
    x = np.abs(np.asarray(x0, dtype=np.float64).ravel())
    top = float(x.max()) if x.size else 0.0
    if top > 0.0 and math.isfinite(top):
        return top * float(np.sqrt(np.mean((x / top) ** 2)))  # rms without overflow at 1e300
    return 1.0


def _median(a: np.ndarray) -> float:
    """``np.median`` of a 1-D array, bit for bit, without its Python-level wrapper (about 10 us a call; this runs
    at every step once a noise level is estimated)."""
    n = a.size
    k = n // 2
    if n % 2:
        return float(np.partition(a, k)[k])
    p = np.partition(a, (k - 1, k))
    return (float(p[k - 1]) + float(p[k])) / 2.0


def _t975(df: int) -> float:
    """The one-sided 97.5 % quantile of Student's t with ``df`` degrees of freedom (Cornish-Fisher expansion
    around the normal 1.96; 3.06 at df = 3 where the exact value is 3.18, within 0.3 % from df = 10)."""
    z = 1.959964
    return z + (z**3 + z) / (4.0 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96.0 * df * df)


_ZERO = np.array(0.0)
_isfinite = math.isfinite  # (one global lookup, not a module attribute, on the per-step path)


def _copy(params: Any) -> Any:
    """``params + 0.0``: a copy (with -0.0 entries as 0.0), for a float64 ndarray with a 0-d zero (the same
    array; a Python float operand costs numpy 2 a conversion at every call)."""
    if type(params) is np.ndarray and params.dtype is F64:
        return params + _ZERO
    return params + 0.0


def _size(v: Any) -> int:
    if type(v) is np.ndarray:  # (hasattr of a missing attribute raises and catches inside: 0.3 us a call)
        return v.size
    return int(v.numel()) if hasattr(v, "numel") else int(v.size)


@dataclasses.dataclass(frozen=True)
class SuccessStep(Transform):
    """Success-based step length around an ``inner`` direction transform (see the module docstring)."""

    inner: Transform
    adapt: bool = True
    grow: float = 1.25
    shrink: float = 0.5
    accel: int = 4
    r0_frac: float = 0.1
    mu_ratio: float = 0.1
    noise_step_frac: float = 0.1
    window: int = 4
    #: sampled: whether a window still undecided at its cap is undone (True); False: the trials go on until the
    #: test decides (gfm's choice: a one-pair estimate's progress shows only over hundreds of trials)
    undo_undecided: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.inner, Transform):
            raise TypeError(
                f"SuccessStep(inner=...) takes a zoo.updates transform, got {type(self.inner).__name__}"
            )
        if not (self.grow > 1.0 and math.isfinite(self.grow)):
            raise ValueError(f"grow must be a finite number > 1, got {self.grow!r}")
        if not 0.0 < self.shrink < 1.0:
            raise ValueError(f"shrink must lie in (0, 1), got {self.shrink!r}")
        if not isinstance(self.undo_undecided, bool):
            raise TypeError(f"undo_undecided must be True or False, got {self.undo_undecided!r}")
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 2:
            raise ValueError(f"window must be an int >= 2 (trials before a verdict), got {self.window!r}")
        for name in ("r0_frac", "mu_ratio", "noise_step_frac"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        # the inner rule hands g itself back as its direction (sgd at lr = 1: the step is -g): then ||g|| is
        # the norm the adaptive step takes, and a non-finite g makes it non-finite, so that test alone rejects
        # it (with the same result: a zero step, the inner state unchanged) and g is not scanned twice
        chain = self.inner.chain if isinstance(self.inner, UpdateRule) else self.inner
        signed = getattr(chain, "_signed", None) if isinstance(chain, Chain) else None
        object.__setattr__(self, "_passes_g", bool(self.adapt and signed is not None and not signed[0]))
        # the inner rule's update_signed as the chain's own (what UpdateRule.update_signed calls: one call less
        # a step); any other transform's own
        object.__setattr__(self, "_inner_signed", chain.update_signed)

    # ------------------------------------------------------------------ state
    def init(self, params: Any, scale: float | None = None) -> State:
        xp = namespace(params)
        n = params.numel() if hasattr(params, "numel") else np.size(params)
        s = length_scale(np.asarray(params)) if scale is None else float(scale)
        return {
            "inner": self.inner.init(params),
            "r": self.r0_frac * s * math.sqrt(max(int(n), 1)),  # adapt=True: the step length
            "m": 1.0,  # adapt=False: the safety factor on the inner step
            "r_ok": math.inf,
            "x_ref": xp.zeros_like(params) + params,
            "f_ref": math.inf,  # inf: no finite reference yet
            "f_first": math.inf,
            "f_best": math.inf,
            "streak": 0,
            "recheck": False,
            "n_ref": 1,  # values averaged in f_ref (re-measurements of the same centre)
            "noise2": 0.0,
            "mu_n": 0.0,
            "mu_cap": self.r0_frac * s,  # the noise floor's bound: a probe as long as the first step
            "n_steps": 0,
            "n_success": 0,
            "n_undone": 0,
            "jump": False,
            "sampled": False,  # a stochastic objective: trials judged at common samples, in windows
            "w_n": 0,  # trials in the window, and the sums of their differences D and D^2
            "w_sum": 0.0,
            "w_sq": 0.0,
            "w_cap": self.window,  # trials after which an undecided window is undone
        }

    def jump(self, state: State) -> State:
        """Accept a move the method makes on its own after this step (the perturbation of a saddle-escaping
        method): the next centre value becomes the reference unjudged (only a non-finite one is undone), and
        the length is kept."""
        return {**state, "jump": True, "recheck": False}  # the next centre is a new point, not a recheck

    def probe_radius(self, state: State, params: Any, params_norm: float | None = None) -> float:
        """``mu`` for the estimate at ``params``: ``mu_ratio * r / sqrt(d)``, the noise floor, and the rounding
        floor ``1e-13 * rms(x)``. ``params_norm``: ``norm(params)`` when the caller has it already (it must be
        that number: :func:`zoo.core.arrays.norm` of these very params)."""
        # (_size inline: this runs every ask)
        n = params.size if type(params) is np.ndarray else _size(params)
        root_d = math.sqrt(n) if n > 1 else 1.0  # sqrt(max(n, 1)), once for both
        if params_norm is None:
            params_norm = norm(params)
        # max(mu, mu_n, 1e-13 * max(||x|| / root_d, 1e-280)) as the comparisons max makes (a later argument
        # replaces the one kept only when it is greater), without three builtin calls
        mu = self.mu_ratio * float(state["r"]) / root_d
        mu_n = float(state["mu_n"])
        if mu_n > mu:
            mu = mu_n
        rms = params_norm / root_d
        if 1e-280 > rms:
            rms = 1e-280
        floor = 1e-13 * rms
        return floor if floor > mu else mu

    # ------------------------------------------------------------------ step
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
        """``(step, new_state)``: ``params + step`` is the next centre. ``value`` is f at ``params`` (the
        centre); ``g`` the estimate there (None: nothing usable); ``exact``: ``value`` is f(params) itself (a
        forward difference), not an estimate of it; ``probe_values``: the batch's values (noise test).
        ``undo_step=False``: an undone step returns ``None`` as its step instead of ``x_ref - params``, for a
        caller that goes back to ``x_ref`` itself (``n_undone`` grew; the state is the same).
        ``sampled``: the values are ``F(.; xi)`` at a sample the method chose, one per batch (a stochastic
        objective); then ``reference`` is ``F(x_ref; xi)`` at this batch's sample, the trial is judged against
        it alone (common random numbers), and no value is a noise sample."""
        if params is None:
            raise TypeError("SuccessStep.update needs params (the centre point) and value=f(params)")
        s = dict(state)
        value = float(value)
        if sampled:
            s["sampled"] = True
        f_ref = s["f_ref"]
        if not _isfinite(f_ref):
            if not math.isfinite(value):  # no finite reference yet: look wider, stay
                s["r"] = 2.0 * s["r"]
                return zeros_like(params), s
            s["f_ref"] = s["f_first"] = s["f_best"] = value
            s["x_ref"] = _copy(params)  # a copy (the caller may update params in place)
        else:
            jumped, s["jump"] = bool(s.get("jump", False)), False
            recheck = s["recheck"]
            if sampled and recheck and not jumped:
                # x_ref again, at a new sample: the new reference, unjudged (values at two samples differ
                # by the spread between samples, not by progress; nor is their difference a noise sample);
                # a fault of this sample (non-finite) leaves the stored one and the next batch measures again
                if not math.isfinite(value):
                    return zeros_like(params), s
                s["f_ref"], s["n_ref"], s["recheck"] = value, 1, False
            elif sampled and reference is not None and not jumped and self.adapt:
                verdict = self._window(s, value, float(reference))
                if verdict < 0:
                    return self._undo(s, params, undo_step)
                if verdict > 0:  # the window's trials were significantly better than x_ref: accept
                    self._success(s)
                    s["f_ref"], s["n_ref"], s["x_ref"] = value, 1, _copy(params)
                    s["f_best"] = min(s["f_best"], value)
                # verdict 0: undecided, the trials go on from here and x_ref stays the undo target
            elif recheck and not jumped and _isfinite(value) and (exact or not value < f_ref):
                # the same centre again: a re-measurement, not a trial (a central method's lower pair mean,
                # after mu shrank with r, is judged as before: a success, so the length regrows)
                n = int(s.get("n_ref", 1))
                d2 = (value - s["f_ref"]) * (value - s["f_ref"])  # inf, not OverflowError, near 1e300
                if exact and math.isfinite(d2):  # E (value - mean of n)^2 = sigma^2 (1 + 1/n)
                    s["noise2"] = 0.8 * s["noise2"] + 0.2 * d2 * n / (n + 1)
                s["f_ref"] = s["f_ref"] + (value - s["f_ref"]) / (n + 1)  # exact when equal: noise2 stays 0
                s["n_ref"] = n + 1
                s["recheck"] = False
            else:
                s["recheck"] = False
                limit = f_ref if self.adapt else self._limit(s)  # (_limit's adaptive case, inline)
                if not _isfinite(value) or (value > limit and not jumped):
                    return self._undo(s, params, undo_step)
                if value < f_ref and not jumped:
                    self._success(s)
                s["f_ref"] = value
                s["n_ref"] = 1
                # "much worse" judged from here: min(f_best, value), which is value only when it is lower
                if jumped or value < s["f_best"]:
                    s["f_best"] = value
                # (_copy inline for a float64 ndarray: this runs at every accepted step). params handed back as the
                # x_ref array itself (a gradient method's iterate after a zero step): x_ref is a copy made here,
                # params + 0.0, which has no -0.0 entry, so its copy would be x_ref again, bit for bit; kept
                x_ref = s["x_ref"]
                if params is not x_ref:
                    s["x_ref"] = (
                        params + _ZERO
                        if type(params) is np.ndarray and params.dtype is F64
                        else _copy(params)
                    )
        if s["noise2"] > 0.0:  # (_noise_floor's own first test, without the call on a deterministic run)
            self._noise_floor(s, params, probe_values)
        if g is None or not (self._passes_g or all_finite(g)):
            return zeros_like(params), s
        if self.adapt:
            # the inner step is sign * u (sign -1: the rule at lr = 1 negates its direction last): ||u|| is the
            # same and (u / ||u||) * (sign r) the same step, bit for bit, without negating d numbers first
            u, sign, inner = self._inner_signed(g, s["inner"], params)
            n = norm(u)
            if not 0.0 < n < math.inf:  # (a float: NaN fails both tests, as math.isfinite)
                return zeros_like(params), s
            r = float(s["r"])
            if type(u) is np.ndarray and u.dtype is F64:  # (operands, inline: 0-d arrays, the same numbers)
                step = (u / np.array(n)) * np.array(sign * r)  # unit direction first: r / n could overflow
            else:
                n_, r_ = operands(u, n, sign * r)
                step = (u / n_) * r_
            # a finite norm means a finite u, and |u_i| / ||u|| <= 1 up to rounding: the step is finite whenever
            # r is well below the largest float, so its entries are tested only beyond that
            if not r < 1e300 and not all_finite(step):
                return zeros_like(params), s
        else:
            u, inner = self.inner.update(g, s["inner"], params)
            step = u * float(s["m"])
            if not all_finite(step):
                return zeros_like(params), s
        s["inner"] = inner
        s["n_steps"] += 1
        return step, s

    def _window(self, s: State, value: float, reference: float) -> int:
        """A stochastic objective (``sampled``): the verdict on the trials since ``x_ref`` was accepted.

        Each trial batch holds ``F(x_k; xi_k)`` and ``F(x_ref; xi_k)`` at its own fresh sample, so
        ``D_k = F(x_k; xi_k) - F(x_ref; xi_k)`` is an unbiased estimate of ``f(x_k) - f(x_ref)`` free of the
        spread between samples (common random numbers). One ``D_k`` is a coin flip where one sample's slope
        says little (an SGD step is justified by many, not one), so the verdict is a sequential test on the
        ``n`` values of the window: ``mean D < -2 se`` accepts (+1), ``mean D > 2 se`` undoes (-1, back to
        ``x_ref``), and a window of ``cap`` trials still undecided is undone too (its moves bought nothing
        measurable) with ``cap`` doubled, so that a slow drift gets the samples it needs to show (the norm test
        of Byrd, Chin, Nocedal & Wu, Math. Program. 2012, applied to the decrease; the statistical test of
        progress of Lang, Xiao & Zhang, NeurIPS 2019). 0: undecided, go on. A non-finite trial is undone, unless
        the reference is non-finite too (a fault of the sample, not of the point: the batch is skipped)."""
        if not math.isfinite(value):
            if not math.isfinite(reference):  # the sample failed at both points: it says nothing, skip it
                return 0
            s["w_n"], s["w_sum"], s["w_sq"] = 0, 0.0, 0.0
            return -1
        if math.isfinite(reference):  # a fault at x_ref (inf) says nothing about the step
            d = value - reference
            s["w_n"] = s["w_n"] + 1
            s["w_sum"] = s["w_sum"] + d
            s["w_sq"] = s["w_sq"] + d * d
        n = int(s["w_n"])
        cap = int(s["w_cap"])
        verdict = 0
        if n >= self.window and n & (n - 1) == 0:  # looks at n = window, 2 window, 4 window, ... only
            mean = s["w_sum"] / n
            var = max(s["w_sq"] - n * mean * mean, 0.0) / (n - 1)
            t = _t975(n - 1) * math.sqrt(var / n)
            if mean < -t:
                verdict = 1
            elif mean > t:
                verdict = -1
            elif n >= cap and self.undo_undecided:
                verdict = -1
                s["w_cap"] = 2 * cap
        if verdict:
            s["w_n"], s["w_sum"], s["w_sq"] = 0, 0.0, 0.0
        return verdict

    def _limit(self, s: State) -> float:
        """The centre value above which a step is undone: any increase (adaptive); for a fixed rate, "much
        worse": beyond the best accepted value plus the larger of its size and the progress made so far."""
        if self.adapt:
            return s["f_ref"]
        best = s["f_best"]
        return best + max(abs(best), s["f_first"] - best)

    def _undo(self, s: State, params: Any, step: bool = True) -> tuple[Any, State]:
        """Back to ``x_ref``: the step ``x_ref - params`` (None when ``step`` is False: the caller does not use
        it) and the state with the length shrunk."""
        s["n_undone"] += 1
        s["streak"] = 0
        s["recheck"] = True
        if self.adapt:
            r = self.shrink * min(s["r"], s["r_ok"])
            # under noise (mu_n > 0) a step shorter than a tenth of the probe is lost in it: floor there
            s["r"] = max(r, self.noise_step_frac * s["mu_n"] * math.sqrt(max(_size(params), 1)))
        else:
            s["m"] = self.shrink * s["m"]
        return (s["x_ref"] - params if step else None), s

    def _success(self, s: State) -> None:
        s["n_success"] += 1
        s["streak"] += 1
        if self.adapt:
            s["r_ok"] = s["r"]
            s["r"] = s["r"] * self.grow ** max(1, s["streak"] - self.accel)
        else:  # a fixed rate: r (and so mu) stays; the safety factor regrows towards the given rate
            s["m"] = min(1.0, self.grow * s["m"])

    def _noise_floor(self, s: State, params: Any, probe_values: Any) -> None:
        if s["noise2"] <= 0.0 or probe_values is None:
            return
        v = np.asarray(probe_values, dtype=np.float64)
        if v.size < 2 or not all_finite(v):
            return
        spread = _median(np.abs(v - float(np.add.reduce(v)) / v.size))  # (= np.median(|v - v.mean()|))
        mu = self.probe_radius(s, params)
        # bounded: under noise that grows with |x| (multiplicative noise), an unbounded mu_n and the step floor
        # it sets in _undo would feed each other (a longer step, a larger |x|, more noise, a wider probe)
        mu_n = 2.0 * mu if spread < 3.0 * math.sqrt(s["noise2"]) else 0.95 * s["mu_n"]
        s["mu_n"] = min(mu_n, s.get("mu_cap", math.inf))
