"""The outcome of ``zoo.minimize``: scipy ``OptimizeResult``-compatible fields plus ``history``."""

from __future__ import annotations

from typing import Any

import numpy as np


class Result(dict):
    """A dict with attribute access, like ``scipy.optimize.OptimizeResult``.

    Fields: ``x`` (best point), ``fun`` (its value), ``nfev`` (objective queries, every one counted),
    ``nit`` (ask/tell rounds), ``success``, ``status`` (0 ok, 1 nothing finite found), ``message``,
    ``stop`` (dict of the reasons the run stopped), ``n_nonfinite`` (NaN/inf values seen),
    ``history`` (dict of arrays per round: ``nfev``, ``fun`` best so far, ``batch_min``),
    ``method``, ``seed``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__  # type: ignore[assignment]
    __delattr__ = dict.__delitem__  # type: ignore[assignment]

    def __repr__(self) -> str:
        keys = ("x", "fun", "nfev", "nit", "success", "message", "stop", "n_nonfinite", "method", "seed")
        width = max(len(k) for k in keys)
        lines = []
        for k in keys:
            if k in self:
                v = self[k]
                if isinstance(v, np.ndarray) and v.size > 8:
                    v = np.array2string(v[:8], precision=4) + f" ... ({v.size} values)"
                lines.append(f"{k.rjust(width)}: {v}")
        return "\n".join(lines)
