"""The coordinatewise gradient estimate (CGE), written once: ZOO (Chen et al., AISec 2017), DeepZero (Chen et
al., ICLR 2024).

Over a coordinate set ``S`` (|S| = k), with ``h_i`` the displacement actually queried along ``e_i`` (``mu``, or
less where bounds clipped the probe)::

    forward (k + 1 queries, rows [x, x + h_1 e_1, ...]):        g_i = (f(x + h_i e_i) - f(x)) / h_i
    central (2k queries, rows [x + h e_i ..., x - h e_i ...]):  g_i = (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)

(for the central form ``h`` passed here is the full width ``x+_i - x-_i``). A non-finite quotient (a non-finite
value, or a zero displacement) zeroes its coordinate; no finite coordinate, or a non-finite ``f(x)`` in the
forward form, makes the estimate unusable (``ok = False``). Leading batch axis ``B`` (or none: one row); the result
holds the ``k`` estimated coordinates, the caller scatters them into ``d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.core.arrays import F64, all_finite, is_numpy, namespace


def estimate(
    values: Any, h: Any, difference: str, finite: bool = False, positive: bool = False
) -> tuple[Any, Any]:
    """``(g_S (B, k), ok (B,))`` from the probe values ``(B, n)`` and the displacements ``h`` (B, k) (or one
    number for all); one row without the batch axis, values ``(n,)`` and ``h`` ``(k,)``, gives ``g_S (k,)`` and
    a 0-d ``ok`` (the same numbers as that row of a batch). ``finite``: the caller has checked that every value
    is finite (:meth:`zoo.core.method.Method.finite_values`), so they are not scanned again; ``positive``: the
    caller has shown every ``h > 0`` (:meth:`zoo.estimators.coordinate.CGE._probe`), so it is not tested."""
    xp = np if type(values) is np.ndarray else namespace(values)
    if difference == "central":
        k = values.shape[-1] // 2
        plus, minus = values[..., :k], values[..., k:]
    else:
        plus, minus = values[..., 1:], values[..., :1]
    # the common case: nothing to drop (one reduction: h > 0 everywhere)
    if (positive or _smallest(h) > 0) and (finite or all_finite(values)):
        # every value is finite, f(x) of each row too: ok is all True (numpy: one shared read-only array per shape)
        if xp is np:
            shape = values.shape[:-1]
            ok = _ALL_TRUE.get(shape)
            if ok is None:
                ok = _all_true(shape)
        else:
            ok = xp.isfinite(values[..., 0])
        return (plus - minus) / h, ok
    if is_numpy(xp):
        with np.errstate(invalid="ignore", divide="ignore"):  # inf - inf, 0 / 0: dropped below
            g = (plus - minus) / h
    else:
        g = (plus - minus) / h
    valid = xp.isfinite(g)
    ok = valid.any(axis=-1)
    if difference != "central":
        ok = ok & xp.isfinite(values[..., 0])
    return xp.where(valid, g, 0.0), ok


_ALL_TRUE: dict[tuple[int, ...], np.ndarray] = {}


def _all_true(shape: tuple[int, ...]) -> np.ndarray:
    """A read-only boolean array of True entries of this shape, kept in ``_ALL_TRUE`` (the caller looks there
    first)."""
    ok = _ALL_TRUE[shape] = np.ones(shape, dtype=bool)
    ok.setflags(write=False)
    return ok


def _smallest(h: Any) -> float:
    if type(h) is np.ndarray:
        if h.dtype is F64 and h.size:  # the C-level argmin (the first NaN if any, as min gives NaN), read by
            return h.item(h.argmin())  # its flat index (item: a Python float, no view of h, no 0-d scalar)
        return float(np.minimum.reduce(h, axis=None))  # (ndarray.min's Python wrapper costs 1.5 us)
    return float(h.min() if hasattr(h, "min") else h)
