"""Progress display: a tqdm bar on a terminal, plain lines in a log.

tqdm redraws its bar with carriage returns, which fill a redirected log (CI, ``nohup``, ``> run.log``) with
one unreadable line per refresh. When stderr is not a terminal, :func:`progress_bar` returns a
:class:`LineProgress` instead: the same ``update`` / ``set_postfix`` / ``close`` calls, printing one line
each time another tenth of the total is done (and a last line at close), never a carriage return.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class LineProgress:
    """The subset of tqdm's interface zoo uses, as whole lines: at most 10 lines plus the last one."""

    def __init__(
        self,
        total: int | None,
        initial: int = 0,
        unit: str = "it",
        desc: str = "",
        file: TextIO | None = None,
    ):
        self.total, self.n, self.unit, self.desc = total, int(initial), unit, desc
        self.file = sys.stderr if file is None else file
        self.postfix = ""
        self._t0 = time.perf_counter()
        self._tenth = max(int(total or 0) // 10, 1)
        self._printed = self.n  # the count shown by the last line
        self._closed = False

    def update(self, k: int = 1) -> None:
        self.n += int(k)
        if self.total and self.n // self._tenth > self._printed // self._tenth:
            self._line()

    def set_postfix(self, refresh: bool = False, **kw: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in kw.items())

    def _line(self) -> None:
        of = f"/{self.total}" if self.total else ""
        head = f"{self.desc}: " if self.desc else ""
        tail = f"  {self.postfix}" if self.postfix else ""
        elapsed = time.perf_counter() - self._t0
        print(f"{head}{self.n}{of} {self.unit}  {elapsed:.1f} s{tail}", file=self.file, flush=True)
        self._printed = self.n

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.n != self._printed or not self.total:
                self._line()


def progress_bar(total: int | None, initial: int = 0, unit: str = "it", desc: str = "") -> Any:
    """A tqdm bar when stderr is a terminal, else a :class:`LineProgress` (no carriage returns)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if isatty is not None and isatty():
        from tqdm.auto import tqdm

        return tqdm(
            total=total, initial=initial, unit=unit, desc=desc or None, dynamic_ncols=True, leave=True
        )
    return LineProgress(total, initial, unit=unit, desc=desc)
