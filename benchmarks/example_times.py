"""Do the examples and ``zoo demo --quick`` take the time they state? (issue #10, item 10)

Runs each script as a user would (a fresh process, in a temporary folder), measures its wall time and its CPU
time (user + system of the child, which a loaded machine inflates far less than wall time), and compares
with the time its docstring states ("about N s", "under N s", "about a minute"). Prints one row per script.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/example_times.py            # every example and the demo
    PYTHONPATH=$PWD .venv/bin/python benchmarks/example_times.py ask_tell_loop demo
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = {"ten seconds": 10, "a minute": 60, "two minutes": 120, "a few seconds": 10}


def stated_seconds(text: str) -> float | None:
    """The time a docstring states, in seconds ("about 40 s", "under a minute", "about 3 min")."""
    m = re.search(r"(?:about|under|takes)\s+(\d+(?:\.\d+)?)\s*(s|min)\b", text)
    if m:
        return float(m.group(1)) * (60 if m.group(2) == "min" else 1)
    for words, sec in WORDS.items():
        if re.search(rf"(?:about|under|in)\s+{words}", text):
            return float(sec)
    return None


def scripts() -> dict[str, tuple[list[str], str]]:
    """name -> (argv, the text that states its time)."""
    out = {}
    for path in sorted((ROOT / "examples").glob("*.py")):
        out[path.stem] = ([sys.executable, str(path)], path.read_text().split('"""')[1])
    out["digits --model cnn"] = ([*out["digits"][0], "--model", "cnn"], out["digits"][1])
    from zoo.cli import build_parser

    quick = next(
        a for a in build_parser()._subparsers._group_actions[0].choices["demo"]._actions if a.dest == "quick"
    )
    out["demo"] = ([sys.executable, "-m", "zoo", "demo", "--quick"], quick.help)
    return out


def measure(argv: list[str]) -> tuple[int, float, float]:
    """Exit status, wall seconds, CPU seconds (user + system) of one run in a fresh folder."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(argv, cwd=tmp, capture_output=True, text=True, env=env, timeout=3600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        print(proc.stderr[-2000:], file=sys.stderr)
    return proc.returncode, wall, cpu


def main(names: list[str]) -> int:
    table = scripts()
    chosen = names or list(table)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print(f"{'script':<24} {'stated':>8} {'wall':>8} {'cpu':>8}  meets (cpu <= stated)", flush=True)
    bad = 0
    for name in chosen:
        argv, text = table[name]
        stated = stated_seconds(text)
        rc, wall, cpu = measure(argv)
        ok = rc == 0 and stated is not None and cpu <= stated
        bad += not ok
        shown = "none" if stated is None else f"{stated:.0f} s"
        print(
            f"{name:<24} {shown:>8} {wall:>7.1f}s {cpu:>7.1f}s  {'yes' if ok else 'NO'}"
            + (f" (exit {rc})" if rc else ""),
            flush=True,
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
