"""``zoo federate`` runs several algorithms side by side and writes the plot."""

from __future__ import annotations

import pytest

from zoo.cli import main


def test_federate_quadratic_two_algorithms(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "fed.png"
    rc = main(
        [
            "federate",
            "quadratic",
            "--dim",
            "10",
            "--clients",
            "3",
            "--rounds",
            "2",
            "--local-steps",
            "2",
            "--algo",
            "fedzo,fzoos",
            "--algo",
            "scaffold",
            "--plot",
            str(png),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and png.exists() and png.stat().st_size > 1000
    for name in ("fedzo", "fzoos", "scaffold"):
        assert f"\n{name}" in out
    assert "queries=" in out and "up/round=" in out


def test_federate_unknown_algorithm_is_a_clear_error(capsys):
    assert main(["federate", "quadratic", "--dim", "5", "--algo", "fedsgd", "--plot", "none", "--quiet"]) == 2
    assert "unknown federated algorithm" in capsys.readouterr().err


def test_federate_new_flags_budget_history_and_resume(tmp_path, capsys):
    base = [
        "federate",
        "levy",
        "--dim",
        "6",
        "--clients",
        "3",
        "--local-steps",
        "2",
        "--algo",
        "fedzo",
        "--plot",
        "none",
        "--quiet",
        "--heterogeneity",
        "1.0",
        "--problem-seed",
        "7",
        "--lr",
        "0.1",
        "--q",
        "4",
    ]
    hist = tmp_path / "runs"
    assert main([*base, "--rounds", "2", "--history", str(hist)]) == 0
    first = capsys.readouterr().out
    assert "rounds=2" in first and "queries=" in first
    assert main([*base, "--rounds", "4", "--history", str(hist), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "rounds=4" in out
    (path,) = hist.glob("*.jsonl")
    assert "pseed7" in path.name and len(path.read_text().splitlines()) == 1 + 5
    assert main([*base, "--rounds", "50", "--budget", "300"]) == 0
    assert "(budget spent)" in capsys.readouterr().out
    other = main([*base[:-8], "--heterogeneity", "0.1", "--rounds", "1"])  # another problem: another F(x0)
    assert other == 0 and capsys.readouterr().out.splitlines()[0] != first.splitlines()[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume"], "--resume needs --history"),
        (["--budget", "0"], "--budget: must be a positive int"),
        (["--lr", "-1"], "--lr: must be a number > 0"),
        (["--heterogeneity", "nan"], "--heterogeneity: must be a finite number"),
    ],
)
def test_federate_bad_flags_are_clear_errors(capsys, extra, message):
    try:
        rc = main(
            ["federate", "quadratic", "--dim", "4", "--rounds", "1", "--plot", "none", "--quiet", *extra]
        )
    except SystemExit as exc:  # argparse's own errors
        rc = exc.code
    assert rc == 2 and message in capsys.readouterr().err


def test_federate_resume_without_a_saved_run(tmp_path, capsys):
    rc = main(
        [
            "federate",
            "quadratic",
            "--dim",
            "4",
            "--rounds",
            "1",
            "--plot",
            "none",
            "--quiet",
            "--history",
            str(tmp_path),
            "--resume",
        ]
    )
    assert rc == 2 and "no history file" in capsys.readouterr().err
