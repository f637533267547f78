"""The core examples run as a user would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["examples/ask_tell_loop.py", "examples/blackbox_minimize.py"])
def test_example_runs(script, tmp_path):
    from test_example_times import run_timed

    out, cpu, stated = run_timed(Path(script).stem, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "best f" in out.stdout or "fun:" in out.stdout
    assert cpu <= stated, f"{script}: {cpu:.1f} s of CPU, states {stated:.0f} s"  # issue #10, item 10
