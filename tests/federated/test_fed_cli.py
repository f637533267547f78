"""``zoo federate`` runs several algorithms side by side and writes the plot."""

from __future__ import annotations

import pytest

from zoo.cli import main


def test_federate_quadratic_two_algorithms(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fed.png"
    rc = main(["federate", "quadratic", "--dim", "10", "--clients", "3", "--rounds", "2", "--local-steps", "2",
               "--algo", "fedzo,fzoos", "--algo", "scaffold", "--plot", str(png), "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0 and png.exists() and png.stat().st_size > 1000
    for name in ("fedzo", "fzoos", "scaffold"):
        assert f"\n{name}" in out
    assert "queries=" in out and "up/round=" in out


def test_federate_unknown_algorithm_is_a_clear_error(capsys):
    assert main(["federate", "quadratic", "--dim", "5", "--algo", "fedsgd", "--plot", "none", "--quiet"]) == 2
    assert "unknown federated algorithm" in capsys.readouterr().err
