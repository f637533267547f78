"""The coordinatewise gradient estimate (CGE), written once: ZOO (Chen et al., AISec 2017), DeepZero (Chen et
al., ICLR 2024).

Over a coordinate set ``S`` (|S| = k), with ``h_i`` the displacement actually queried along ``e_i`` (``mu``, or
less where bounds clipped the probe)::

    forward (k + 1 queries, rows [x, x + h_1 e_1, ...]):        g_i = (f(x + h_i e_i) - f(x)) / h_i
    central (2k queries, rows [x + h e_i ..., x - h e_i ...]):  g_i = (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)

(for the central form ``h`` passed here is the full width ``x+_i - x-_i``). A non-finite quotient (a non-finite
value, or a zero displacement) zeroes its coordinate; no finite coordinate, or a non-finite ``f(x)`` in the
forward form, makes the estimate unusable (``ok = False``). Leading batch axis ``B``; the result holds the ``k``
estimated coordinates, the caller scatters them into ``d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.core.arrays import is_numpy, namespace


def estimate(values: Any, h: Any, difference: str) -> tuple[Any, Any]:
    """``(g_S (B, k), ok (B,))`` from the probe values ``(B, n)`` and the displacements ``h`` (B, k)."""
    xp = namespace(values)
    if is_numpy(xp):  # (an errstate costs less than checking the values first)
        with np.errstate(invalid="ignore", divide="ignore"):  # inf - inf, 0 / 0: dropped below
            return _estimate(xp, values, h, difference)
    return _estimate(xp, values, h, difference)


def _estimate(xp, values, h, difference):
    central = difference == "central"
    if central:
        k = values.shape[1] // 2
        g = (values[:, :k] - values[:, k:]) / h
    else:
        g = (values[:, 1:] - values[:, :1]) / h
    valid = xp.isfinite(g)
    if bool(valid.all()):  # the common case (a finite quotient implies a finite f(x) in the forward form)
        return g, valid[:, 0]
    ok = valid.any(axis=1)
    if not central:
        ok = ok & xp.isfinite(values[:, 0])
    return xp.where(valid, g, 0.0), ok
