"""The runtime ECDF of ``zoo bench bbob``: fraction of (function, instance, target) triples solved against
evaluations / d, one curve per method (COCO's aggregated ECDF, one run per instance)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.bench.scoring import _hits, ecdf


def ecdf_plot(results: list[dict], dim: int, path: str | Path, title: str = "") -> Path:
    """ECDF of (function, instance, target) triples solved against evaluations / d, every method, log x."""
    from zoo.plotting import _pyplot, save_figure

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    grid = np.logspace(0, 5, 300)
    for name in dict.fromkeys(r["method"] for r in results):
        runs = [r for r in results if r["method"] == name and r["dim"] == dim]
        hits = _hits(runs)
        budget = max(r["budget"] for r in runs) / dim
        g = grid[grid <= budget]
        ax.plot(g, ecdf(hits, g * dim), label=name, lw=1.6)
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("evaluations / dimension")
    ax.set_ylabel("fraction of (function, instance, target) solved")
    ax.set_title(title or f"bbob, d={dim}, 51 targets 1e2..1e-8")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path, dpi=90)
