"""Perturbed two-point steps: escape strict saddle points with an isotropic perturbation (an option of ``rge``,
``zo-sgd``, ``zo-signsgd`` and ``spsa``).

Ren, Tang & Li, *Escaping saddle points in zeroth-order optimization: the power of two-point estimators*
(ICML 2023): a two-point method with ``2m`` queries per step (``m`` directions, ``1 <= m <= d``; zoo's ``q`` with
``difference="central"``) that adds an isotropic perturbation finds epsilon-second-order stationary points in
polynomial time, as perturbed gradient descent does with exact gradients (Jin, Ge, Netrapalli, Kakade & Jordan,
*How to escape saddle points efficiently*, ICML 2017). The step, after the update rule's ``x + step``::

    x_{k+1} = x_k + step_k + zeta_k,   zeta_k ~ Uniform(B(0, r)) if ||g_k|| <= g_thres
                                        and k - k_last >= t_thres, else 0

Options (the paper's quantities; its constants need the Lipschitz constants ``l``, ``rho`` and the target
``epsilon``, which a black box does not give, so the defaults are their scale-free readings):

- ``perturbation``: ``None`` (off, the default), ``"auto"`` or a radius ``r > 0``. ``"auto"`` is the step-size
  control's first step length ``0.1 s sqrt(d)`` (``s`` the problem's length scale:
  :func:`zoo.updates.length_scale`), fixed for the run as the paper's ``r`` is: a radius that followed the
  current step length would shrink to nothing as the control converges onto the saddle.
- ``perturbation_threshold``: ``g_thres`` (the paper's ``epsilon``). ``None``: ``0.1`` times the largest
  ``||g||`` of the run so far ("small" relative to the gradients seen; an estimate that is exactly 0, as the
  central difference of an even function at its saddle, is always small). ``math.inf``: perturb at every step
  allowed by the schedule, the every-iteration form of Ren et al.
- ``perturbation_every``: ``t_thres``, the least number of steps between two perturbations. ``None``:
  ``ceil(d / q)``, the steps in which ``q`` directions per estimate have probed as many directions as there are
  dimensions (``q = d``, the exact-gradient case of Ren et al., perturbs at every small step; with fewer
  directions the descent steps get time to grow the last perturbation's negative-curvature part first, as
  ``t_thres`` does in Jin et al.).

Radius back-off (Jin et al. stop perturbing when a perturbation brought no decrease within ``t_thres`` steps:
the point is then a local minimum): when the reference value of ``f`` at a new trigger is not below the value
at the last perturbation, the radius halves; at a saddle the kicks lead lower and the radius stays.

A perturbation is kept whatever the next value (:meth:`zoo.updates.SuccessStep.jump`: the step-size control
takes the perturbed centre as its new reference, unjudged; only a non-finite one is undone): the descent steps
that follow grow its negative-curvature part, the mechanism of both papers; a control that undid every
perturbation raising ``f`` would stay at a saddle with few negative directions. ``res.step_control
["n_perturbed"]`` counts them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zoo.core.validate import check_int, check_real
from zoo.estimators.formulas.probes import ball


def check(perturbation: Any, threshold: Any, every: Any) -> None:
    """The three options, each a clear error naming what was expected."""
    if perturbation is not None and perturbation != "auto":
        if isinstance(perturbation, str) or isinstance(perturbation, bool):
            raise ValueError(f"perturbation must be None, 'auto' or a radius > 0, got {perturbation!r}")
        check_real(perturbation, "perturbation (the radius of the perturbation ball)", 0, low_open=True)
    if threshold is not None:
        check_real(
            threshold, "perturbation_threshold (the gradient norm below which to perturb)", 0, finite=False
        )
    if every is not None:
        check_int(every, "perturbation_every (least steps between two perturbations)", 1)


def maybe_perturb(
    params: Any,
    t: int,
    g: np.ndarray,
    fields: dict[str, Any],
    length: float,
    d: int,
    q: int,
    value: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """``(zeta or None, new fields)`` for step ``t`` with estimate ``g``; ``fields``: ``g_max``, ``t_perturbed``,
    ``n_perturbed``, ``f_perturbed``, ``r_scale`` of the state; ``length``: the radius of ``"auto"``; ``value``:
    the current reference value of ``f``."""
    norm = float(np.linalg.norm(g))
    new = dict(fields)
    if math.isfinite(norm):
        new["g_max"] = max(float(fields["g_max"]), norm)
    limit = (
        0.1 * new["g_max"] if params.perturbation_threshold is None else float(params.perturbation_threshold)
    )
    last = int(fields["t_perturbed"])
    every = params.perturbation_every if params.perturbation_every is not None else -(-d // max(q, 1))
    if not (norm <= limit and (last < 0 or t - last >= every)):
        return None, new
    if last >= 0 and not value < float(fields["f_perturbed"]):
        new["r_scale"] = 0.5 * float(
            fields["r_scale"]
        )  # the last kick led nowhere lower: a minimum, not a saddle
    r = (float(length) if params.perturbation == "auto" else float(params.perturbation)) * new["r_scale"]
    if not (r > 0.0 and math.isfinite(r)):
        return None, new
    new["t_perturbed"] = t
    new["n_perturbed"] = int(fields["n_perturbed"]) + 1
    new["f_perturbed"] = float(value)
    return ball(rng, d, r), new
