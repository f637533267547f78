"""Examples and ``zoo demo --quick`` state how long they take, and the light ones meet it in this test run
(issue #10, item 10). The heavy ones (digits, federated, the demo) are measured by
``benchmarks/example_times.py``, whose figures are in benchmarks/RESULTS.md (#10)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from example_times import scripts, stated_seconds  # noqa: E402

LIGHT = ["federated_faults", "rank_from_comparisons"]  # ask_tell_loop, blackbox_minimize: test_examples_core


def test_every_example_and_the_demo_state_their_time():
    missing = [name for name, (_, text) in scripts().items() if stated_seconds(text) is None]
    assert missing == []


@pytest.mark.parametrize("name", LIGHT)
def test_a_light_example_meets_its_stated_time(name, tmp_path):
    proc, cpu, stated = run_timed(name, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert cpu <= stated, f"{name}: {cpu:.1f} s of CPU, states {stated:.0f} s"


def run_timed(name: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run an example as a user would: its CPU time (user + system; a loaded machine inflates wall time, not
    this) and the time its docstring states."""
    argv, text = scripts()[name]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return proc, cpu, stated_seconds(text)


def test_stated_time_parser():
    assert stated_seconds("(about 40 s of CPU time)") == 40
    assert stated_seconds("under a minute on a laptop") == 60
    assert stated_seconds("takes 3 min") == 180
    assert stated_seconds("fast") is None
