"""A learning-rate factor that halves when the measured loss stops falling (reduce-on-plateau on free values).

A zeroth-order step measures the loss anyway (spsa: the mean of each ``f(x +- mu z)`` pair, ``f(x) + O(mu^2)``;
rge / cge: ``f(x)`` itself), so the schedule can follow the loss at no extra query and with no copy of the
parameters (no undo, unlike :class:`~zoo.updates.SuccessStep`). The values are averaged over windows of
``window`` steps (minibatch losses are noisy; a window mean is what is compared)::

    window mean m_k  <  best - threshold * |best|   ->  best <- m_k, bad <- 0          (progress)
    m_k  >  best + rise * se_k                      ->  factor <- max(min_factor, shrink * factor), best <- m_k
    otherwise                                       ->  bad <- bad + 1
    bad > patience, growth < max_growth             ->  growth <- 2 growth, bad <- 0        (more samples first)
    bad > patience, growth = max_growth             ->  factor <- max(min_factor, shrink * factor), bad <- 0

and the step taken is ``factor * lr`` (``lr`` the user's or the scheduler's rate, left as it is). Why: with a
constant or cosine rate a noisy ZO estimate keeps the parameters wandering around a minimum once the loss has
stopped falling (on the suite's diabetes regression the test R^2 swings by 0.1 between epochs at the rate the
classifiers need); halving the rate when the loss stalls lets it settle, while a model that is still learning
keeps its full rate. The rule is torch's ``ReduceLROnPlateau`` (relative threshold mode; itself after Keras'
callback) driven by the estimator's own loss values instead of a validation metric, for the same reason as the
step-size control of stochastic approximation (Kesten, "Accelerated stochastic approximation", Ann. Math.
Statist. 1958: shrink the step when the iterates stop making progress). ``min_factor`` keeps a long run from
freezing: the rate never falls below a hundredth of the scheduled one.

``rise`` (``inf``: off): a window whose mean is above the best by more than ``rise`` standard errors of its
own mean (``se_k``, from the window's values: ``sqrt(sample variance / window)``) halves the rate at once
instead of after ``patience`` windows, and the risen level becomes the reference (so a loss that stays up is
not cut again every window, only one that keeps rising). A window mean that rose by several of its own
standard errors is not noise around a floor but a step too long for where the iterate now is (a ZO-Adam step
has a length ``~ lr`` per coordinate whatever the loss, and the curvature grows as a network trains), and
every window waited for lets it climb further (the trust-region reaction to a failed step: Conn, Gould &
Toint, "Trust-Region Methods", 2000, ch. 6, shrink at once on a bad ratio; here the test is read from the
windows and no step is undone). Scale-free as the rest: a standard error scales with the loss.

``growth`` (``max_growth > 1``): a stall first doubles a sample-size multiplier (a ZO optimizer takes
``growth * n_directions`` directions per step), and only once it is at ``max_growth`` halves the rate. Why: a
stall of a noisy estimate is the noise floor of the iterates, ``~ lr * Var(g_hat)`` for SGD, and
``Var(g_hat) ~ 1/q`` (Spall, "Introduction to Stochastic Search and Optimization", 2003, ch. 7: averaging
several SPSA gradients per step): doubling ``q`` lowers the floor as halving ``lr`` does, without slowing the
descent (with Adam, whose step length is set by ``lr``, it raises the share of signal in the step instead);
the price is twice the queries per step, which the caller reports. An adaptive sample size on a stall test, as in the
dynamic sample-size methods (Byrd, Chin, Nocedal & Wu, "Sample size selection in optimization methods for
machine learning", Math. Program. 2012; Pasupathy et al., "On sampling rates in simulation-based recursions",
SIAM J. Optim. 2018), with the loss windows as the test.

Scale-free: only comparisons of loss values, relative to ``|best|``, so multiplying the loss by a constant
changes nothing. The state is seven numbers (kept in the optimizer's ``state_dict``, so a resumed run continues
bit-identically). Written once, in plain Python on float losses: numpy and torch optimizers call the same
:func:`plateau_update`.
"""

from __future__ import annotations

import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Plateau:
    window: int = 20
    patience: int = 5
    threshold: float = 1e-2
    shrink: float = 0.5
    min_factor: float = 1e-2
    max_growth: int = 1
    rise: float = math.inf

    def __post_init__(self) -> None:
        if int(self.window) != self.window or self.window < 1:
            raise ValueError(f"window must be an int >= 1, got {self.window!r}")
        if int(self.patience) != self.patience or self.patience < 0:
            raise ValueError(f"patience must be an int >= 0, got {self.patience!r}")
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ValueError(f"threshold must be a finite number >= 0, got {self.threshold!r}")
        if not 0.0 < self.shrink < 1.0:
            raise ValueError(f"shrink must be in (0, 1), got {self.shrink!r}")
        if not 0.0 < self.min_factor <= 1.0:
            raise ValueError(f"min_factor must be in (0, 1], got {self.min_factor!r}")
        if not (self.rise > 0 and not math.isnan(self.rise)):
            raise ValueError(f"rise must be a number > 0 (inf: off), got {self.rise!r}")
        g = self.max_growth
        if isinstance(g, bool) or int(g) != g or g < 1 or (int(g) & (int(g) - 1)):
            raise ValueError(f"max_growth must be a power of two >= 1, got {g!r}")

    def init(self) -> list[float]:
        """``[factor, best window mean, windows without progress, sum of this window, values in it, growth, sum of squares of this window]``."""
        return [1.0, math.inf, 0.0, 0.0, 0.0, 1.0, 0.0]


def growth(state: list[float]) -> int:
    """The sample-size multiplier of ``state`` (1 for a five-number state saved before ``growth`` existed)."""
    return int(state[5]) if len(state) > 5 else 1


def plateau_update(rule: Plateau, state: list[float], loss: float) -> list[float]:
    """The state after one measured ``loss``; ``state[0]`` is the factor for the next step's rate. A
    non-finite loss is ignored (the step it came from was skipped)."""
    factor, best, bad, total, n = state[:5]
    grow = float(growth(state))
    squares = float(state[6]) if len(state) > 6 else 0.0
    if not math.isfinite(loss):
        return [factor, best, bad, total, n, grow, squares]
    total, n, squares = total + loss, n + 1, squares + loss * loss
    if n < rule.window:
        return [factor, best, bad, total, n, grow, squares]
    mean = total / n
    # the standard error of this window's mean, from its own values (0 for a window of one)
    se = math.sqrt(max(0.0, squares - n * mean * mean) / (n - 1) / n) if n > 1 else 0.0
    if mean < best - rule.threshold * abs(best) or not math.isfinite(best):
        best, bad = mean, 0.0
    elif mean > best + rule.rise * se and se > 0.0:  # rose beyond the windows' scatter: the step is too long
        factor, best, bad = max(rule.min_factor, rule.shrink * factor), mean, 0.0
    else:
        bad += 1
        if bad > rule.patience:
            if grow < rule.max_growth:  # more samples per step before a smaller step
                grow, bad = 2.0 * grow, 0.0
            else:
                factor, bad = max(rule.min_factor, rule.shrink * factor), 0.0
    return [factor, best, bad, 0.0, 0.0, grow, 0.0]
