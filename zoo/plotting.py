"""Plots people would rather see than read (matplotlib, extra ``bench``; imported only when asked for)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _pyplot():
    try:
        import matplotlib
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ModuleNotFoundError("plots need matplotlib: pip install 'zoo-dfo[bench]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """The one way zoo writes a PNG: tight layout, the folder made, the figure written and closed (so a long
    benchmark run does not accumulate open figures). Returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


def convergence_plot(
    runs: Mapping[str, Any],
    path: str | Path,
    *,
    title: str = "",
    f0: float | None = None,
    xlabel: str = "objective queries",
) -> Path:
    """Best value so far against queries, one line per run (``Result`` objects or ``(nfev, f)`` pairs);
    divided by ``f0`` when given, on a log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, run in runs.items():
        if isinstance(run, tuple):
            nfev, f = run
        else:
            nfev, f = run.history["nfev"], run.history["fun"]
        y = [v / f0 for v in f] if f0 else list(f)
        ax.plot(nfev, y, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("best f / f(x0)" if f0 else "best f")
    if title:
        ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return save_figure(fig, path)
