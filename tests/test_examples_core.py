"""The core examples run as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["examples/ask_tell_loop.py", "examples/blackbox_minimize.py"])
def test_example_runs(script, tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "best f" in out.stdout or "fun:" in out.stdout
