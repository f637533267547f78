"""``zoo demo``: a short tour of what zoo does. Each part of zoo contributes a section: a module listed in
``SECTIONS`` with ``demo(out: Path, quick: bool) -> None`` that prints what it shows and writes its PNGs into
``out``. Sections whose module is not built (or whose extra is not installed) are skipped with a note."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

SECTIONS = {
    "estimators": "zoo.estimators.demo",
    "population": "zoo.population.demo",
    "ranking": "zoo.session.demo",
    "torch": "zoo.torch.demo",
    "federated": "zoo.federated.demo",
}


def run_demo(out: str | Path = "zoo-demo", *, quick: bool = False, only: list[str] | None = None) -> int:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    unknown = sorted(set(only or []) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown demo section(s) {unknown}; sections: {list(SECTIONS)}")
    for key, module in SECTIONS.items():
        if only and key not in only:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            print(f"\n== {key}: skipped ({exc.name} is not installed or not built)")
            continue
        print(f"\n== {key}")
        t0 = time.perf_counter()
        mod.demo(out, quick)
        print(f"   ({time.perf_counter() - t0:.1f} s)")
    print(f"\nplots written to {out.resolve()}")
    return 0
