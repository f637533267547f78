from __future__ import annotations

import subprocess
import sys

import pytest

from zoo.cli import main


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "zoo", "--help"], capture_output=True, text=True, check=True)
    for cmd in ("methods", "minimize", "demo"):
        assert cmd in out.stdout


def test_methods(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "rge" in out and "cge" in out


def test_minimize_prints_the_result(capsys):
    assert (
        main(
            [
                "minimize",
                "rosenbrock",
                "--dim",
                "10",
                "--budget",
                "300",
                "--seed",
                "1",
                "--quiet",
                "-o",
                "q=2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "best f" in out and "queries  300 of 300" in out


def test_minimize_with_a_bad_option_is_a_clear_error(capsys):
    assert main(["minimize", "sphere", "--dim", "3", "--quiet", "-o", "nope=1"]) == 2
    assert "unknown option" in capsys.readouterr().err


def test_minimize_writes_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "conv.png"
    assert main(["minimize", "sphere", "--dim", "5", "--budget", "100", "--quiet", "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000


def test_demo_estimators_section_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["demo", "--quick", "--only", "estimators", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Rosenbrock" in out and (tmp_path / "estimators_rosenbrock.png").exists()


def test_demo_unknown_section(capsys):
    assert main(["demo", "--only", "nope"]) == 2
