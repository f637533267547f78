"""F against rounds and against total client queries, one line per algorithm (PNG, matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from zoo.federated.simulator import History


def federated_plot(runs: Mapping[str, History | list[History]], path: str | Path, title: str = "") -> Path:
    """Two panels: F (or F - F* when known) against rounds and against cumulative client queries. A list of
    histories (seeds) is drawn as its median with the min-max band."""
    from zoo.plotting import _pyplot, save_figure

    plt = _pyplot()
    fig, (ax_r, ax_q) = plt.subplots(1, 2, figsize=(11, 4.2))
    known = False
    for label, hist in runs.items():
        hs = hist if isinstance(hist, list) else [hist]
        known = hs[0].f_min is not None
        Y = np.array([h.gap() for h in hs])
        Q = np.median(np.array([h.queries for h in hs]), axis=0)
        med = np.median(Y, axis=0)
        rounds = np.arange(Y.shape[1])
        (line,) = ax_r.plot(rounds, med, label=label)
        ax_q.plot(Q, med, label=label, color=line.get_color())
        if len(hs) > 1:
            ax_r.fill_between(rounds, Y.min(0), Y.max(0), color=line.get_color(), alpha=0.15)
            ax_q.fill_between(Q, Y.min(0), Y.max(0), color=line.get_color(), alpha=0.15)
    ylabel = "F(x) - F*" if known else "F(x)"
    for ax, xl in ((ax_r, "rounds"), (ax_q, "total client queries")):
        if known:
            ax.set_yscale("log")
        ax.set_xlabel(xl)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
