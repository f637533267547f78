"""Run logs: every evaluation written as it happens (``minimize(..., log="run.jsonl" | "run.csv")``).

One record per evaluation, in the order the results arrive: ``i`` (evaluation index), ``x`` (the point in the
user's types; a dict for a named space), ``f`` (the objective value; ``null``/empty for a fault), ``time``
(seconds since the run started, when the result arrived), ``seconds`` (how long the evaluation ran),
``worker`` (``host:pid``), ``fault`` (``raise`` / ``timeout`` / ``died`` / empty) with its ``message``, and
``g`` (constraint values) with ``constraints=``. Each line is flushed (and fsync'ed) at once, so a crash
loses nothing that was evaluated. An existing file is appended to (a resumed run continues its log).
CSV puts ``x`` and ``g`` as JSON text in one column each.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

FIELDS = ("i", "x", "f", "time", "seconds", "worker", "fault", "message", "g")


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_plain(e) for e in v.tolist()]
    if isinstance(v, dict):
        return {k: _plain(e) for k, e in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(e) for e in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


class RunLog:
    """Append-only JSON-lines or CSV log, chosen by the file suffix."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in (".jsonl", ".csv"):
            raise ValueError(f"log must be a path ending in .jsonl or .csv, got {str(path)!r}")
        self.csv = suffix == ".csv"
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._fh = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115 - held for the run
        self._t0 = time.perf_counter()
        self.count = 0
        if self.csv and new:
            self._write_csv(FIELDS)

    def _write_csv(self, row: Any) -> None:
        buf = io.StringIO()
        csv.writer(buf).writerow(row)
        self._fh.write(buf.getvalue())

    def write(self, i: int, x: Any, f: float | None, seconds: float, worker: str, fault: str | None = None,
              message: str = "", g: Any = None) -> None:  # fmt: skip
        rec = {
            "i": int(i),
            "x": _plain(x),
            "f": None if fault else _plain(float(f)),
            "time": round(time.perf_counter() - self._t0, 6),
            "seconds": round(float(seconds), 6),
            "worker": worker,
            "fault": fault or "",
            "message": message,
            "g": None if g is None else _plain(np.asarray(g)),
        }
        if self.csv:
            self._write_csv([json.dumps(rec[k]) if k in ("x", "g") else ("" if rec[k] is None else rec[k])
                             for k in FIELDS])  # fmt: skip
        else:
            self._fh.write(json.dumps(rec) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.count += 1

    def close(self) -> None:
        self._fh.close()


def read(path: str | Path) -> list[dict[str, Any]]:
    """The records of a log written by :class:`RunLog` (``x`` and ``g`` parsed back from CSV)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for r in rows:
            r["i"] = int(r["i"])
            r["x"] = json.loads(r["x"])
            r["g"] = json.loads(r["g"]) if r["g"] else None
            r["f"] = float(r["f"]) if r["f"] else None
        return rows
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
