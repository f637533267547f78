"""The two-point random gradient estimate, written once: RGE / ZO-SGD (Nesterov & Spokoiny 2017; Ghadimi & Lan
2013), SPSA (Spall 1992), ZO-signSGD (Liu et al., ICLR 2019), ZO-AdaMM (Chen et al., NeurIPS 2019), MeZO (Malladi
et al., NeurIPS 2023), FedZO (Fang et al., IEEE TSP 2022).

Forward form, ``q`` directions ``u_j`` (cost ``q + 1`` queries), rows ``[x, x + mu u_1, ..., x + mu u_q]``::

    g = (1/k) * sum_j (f(x + mu u_j) - f(x)) / mu * u_j

Central form (cost ``2q``), rows ``[x + mu u_1, ..., x + mu u_q, x - mu u_1, ..., x - mu u_q]``::

    g = (1/k) * sum_j (f(x + mu u_j) - f(x - mu u_j)) / (2 mu) * u_j

``k`` is the number of directions whose difference is finite: a non-finite value drops its direction from the
average; no finite direction, or a non-finite ``f(x)`` in the forward form, makes the estimate unusable
(``ok = False``: the caller skips the step). Every function takes a leading batch axis ``B``.

The estimate is split where the three callers differ: :func:`coefficients` (the difference quotients
``c_j = d_j / k``, the formula) is shared by all; the sum ``g = sum_j c_j u_j`` is :func:`assemble` for stored
directions, :func:`assemble_table` for noise-table directions (Numba kernel), and :func:`accumulate`, the in-place
form for directions regenerated from seeds (``zoo.torch``). Probes that bounds clipped use the displacement
actually queried (:func:`displacements`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.core.arrays import F64, all_finite, is_numpy, namespace, operands
from zoo.estimators.formulas.probes import shifted
from zoo.kernels import noise as _noise

DIFFERENCES = ("forward", "central")


def n_queries(q: int, difference: str) -> int:
    """Queries per estimate: ``q + 1`` (forward) or ``2 q`` (central)."""
    return 2 * q if difference == "central" else q + 1


def points(x: Any, U: Any, mu: float, difference: str) -> Any:
    """The probe rows ``(B, n, d)`` around ``x`` (B, d) for stored directions ``U`` (B, q, d)."""
    xp = namespace(x, U)
    step = shifted(x, U, mu)
    if difference == "central":
        return xp.concatenate([step, shifted(x, U, -mu)], axis=1)
    return xp.concatenate([x[:, None, :], step], axis=1)


def table_points(
    x: np.ndarray,
    offsets: np.ndarray,
    mu: float,
    difference: str,
    sphere: bool = False,
    use_numba: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The probe rows for noise-table directions ``offsets`` (B, q): ``(X (B, n, d), scales (B, q))``, the
    direction ``j`` of row ``b`` being ``scales[b, j] * table[offsets[b, j] : + d]``."""
    return _noise.perturb_batch(x, offsets, mu, sphere, difference == "central", use_numba)


def coefficients(values: Any, mu: float, difference: str, finite: bool = False) -> tuple[Any, Any]:
    """``(c, ok)`` from the probe values ``(B, n)``: ``c`` (B, q) with ``c_j = d_j / k`` (0 for a dropped
    direction), ``ok`` (B,) False where the estimate is unusable. ``finite``: the caller has checked that every
    value is finite (:meth:`zoo.core.method.Method.finite_values`), so they are not scanned again."""
    xp = np if type(values) is np.ndarray else namespace(values)
    if difference == "central":
        q = values.shape[1] // 2
        plus, minus, h = values[:, :q], values[:, q:], 2.0 * mu
    else:
        q = values.shape[1] - 1
        plus, minus, h = values[:, 1:], values[:, :1], mu
    if finite or all_finite(values):  # the common case, one reduction: every direction counts, k = q
        if values.dtype is F64:  # (operands, inline: 0-d arrays, the same numbers, 0.3 us less each)
            return (plus - minus) / np.array(float(h)) / np.array(float(q)), xp.isfinite(values[:, 0])
        h_, q_ = operands(values, h, q)
        return (plus - minus) / h_ / q_, xp.isfinite(values[:, 0])
    if is_numpy(xp):
        with np.errstate(invalid="ignore"):  # inf - inf = nan: that direction is dropped below
            diff = (plus - minus) / h
    else:
        diff = (plus - minus) / h
    valid = xp.isfinite(diff)
    k = valid.sum(axis=1)
    n = xp.maximum(k, 1) if is_numpy(xp) else k.clamp(min=1)  # (np.maximum: 1 us, np.clip: 5 us)
    coef = xp.where(valid, diff, 0.0) / n[:, None]
    ok = k > 0
    if difference != "central":
        ok = ok & xp.isfinite(values[:, 0])
    return coef, ok


def displacements(X: Any, mu: float, difference: str) -> Any:
    """The directions actually queried, ``(B, q, d)``, recovered from probe rows ``X`` (B, n, d) that bounds
    may have clipped: ``(x+ - x-) / (2 mu)`` (central) or ``(x+ - x) / mu`` (forward)."""
    if difference == "central":
        q = X.shape[1] // 2
        return (X[:, :q] - X[:, q:]) / (2.0 * mu)
    return (X[:, 1:] - X[:, :1]) / mu


def assemble(coef: Any, U: Any) -> Any:
    """``g[b] = sum_j coef[b, j] U[b, j]``, shape (B, d)."""
    return (coef[:, None, :] @ U)[:, 0]


def assemble_table(
    coef: np.ndarray, offsets: np.ndarray, scales: np.ndarray, d: int, use_numba: bool = True
) -> np.ndarray:
    """:func:`assemble` for noise-table directions (the Numba kernel, or its numpy twin)."""
    return _noise.assemble_batch(offsets, coef * scales, d, use_numba)


def accumulate(coef: Any, add: Callable[[int, float], None]) -> None:
    """The in-place form of :func:`assemble` for one row whose directions are regenerated on demand:
    ``add(j, c_j)`` adds ``c_j u_j`` into the target (``zoo.torch``: the parameters, or a gradient buffer)."""
    for j, c in enumerate(np.asarray(coef, dtype=np.float64).tolist()):
        if c != 0.0:
            add(j, c)


def estimate(
    values: Any,
    mu: float,
    difference: str,
    *,
    U: Any = None,
    table: tuple[np.ndarray, np.ndarray, int] | None = None,
    X: Any = None,
    use_numba: bool = True,
    finite: bool = False,
) -> tuple[Any, Any]:
    """``(g (B, d), ok (B,))`` from the probe values ``(B, n)`` and the directions: stored ``U`` (B, q, d), or
    ``table = (offsets, scales, d)``; with ``X`` given (clipped probes) the displacements of ``X`` are used.
    ``finite``: every value is known to be finite (see :func:`coefficients`)."""
    coef, ok = coefficients(values, mu, difference, finite)
    if X is not None:
        return assemble(coef, displacements(X, mu, difference)), ok
    if table is not None:
        offsets, scales, d = table
        return assemble_table(coef, offsets, scales, d, use_numba), ok
    return assemble(coef, U), ok
