"""``zoo synth``: a CSV in, a synthetic CSV and an error PNG out; bad input is a clear error, not a traceback."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from zoo.cli import main
from zoo.synth import data


@pytest.fixture(scope="module")
def csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("synth")
    path = d / "census.csv"
    data.census(800, seed=0).to_csv(path, index=False)
    spec = d / "domain.json"
    spec.write_text(json.dumps(data.census_domain().to_spec()))
    return path, spec


def test_cli_writes_table_and_plot(csv, tmp_path, capsys):
    path, spec = csv
    out = tmp_path / "syn.csv"
    argv = [
        "synth",
        str(path),
        "--epsilon",
        "1",
        "--queries",
        "2way,range",
        "--out",
        str(out),
        "--domain",
        str(spec),
    ]
    rc = main([*argv, "--records", "80", "--rounds", "2", "--budget", "400", "--n", "100"])
    text = capsys.readouterr()
    assert rc == 0, text.err
    syn = pd.read_csv(out)
    assert len(syn) == 100 and list(syn.columns) == list(pd.read_csv(path).columns)
    assert out.with_suffix(".png").stat().st_size > 1000
    assert "rho=0.0305566" in text.out and "spent" in text.out
    assert "round" in text.err  # the progress (plain lines when stderr is not a terminal)


def test_cli_without_domain_warns(csv, tmp_path, capsys):
    path, _ = csv
    rc = main(
        [
            "synth",
            str(path),
            "--out",
            str(tmp_path / "s.csv"),
            "--records",
            "50",
            "--rounds",
            "1",
            "--budget",
            "200",
            "--plot",
            "none",
            "--quiet",
        ]
    )
    assert rc == 0 and "NOT private" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--epsilon", "0"], "argument --epsilon"),
        (["--epsilon", "-1"], "argument --epsilon"),
        (["--delta", "2"], "argument --delta"),
        (["--delta", "0"], "delta must be in the open interval"),
        (["--queries", ","], "--queries is empty"),
        (["--queries", "2way,5way"], "unknown query kind '5way'"),
        (["--records", "0"], "argument --records"),
        (["--rounds", "x"], "argument --rounds"),
        (["--seed", "-1"], "argument --seed"),
    ],
)
def test_cli_bad_parameters_are_one_line(csv, tmp_path, monkeypatch, capsys, extra, match):
    path, spec = csv
    monkeypatch.chdir(tmp_path)
    try:
        rc = main(["synth", str(path), "--domain", str(spec), "--out", "s.csv", *extra])
    except SystemExit as exc:  # argparse
        rc = exc.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc == 2 and len(err) == 1 and match in err[0] and "Traceback" not in err[0]
    assert list(tmp_path.iterdir()) == []  # a refused command writes nothing


def test_cli_bad_files(csv, tmp_path, capsys):
    path, spec = csv
    assert main(["synth", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read the table" in capsys.readouterr().err
    assert main(["synth", str(path), "--domain", str(tmp_path / "nope.json")]) == 2
    assert "cannot read the domain spec" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(path)
    df.loc[2, "hours"] = float("nan")
    df.to_csv(bad, index=False)
    assert main(["synth", str(bad), "--domain", str(spec), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "numeric column 'hours' contains NaN" in err[0]
    assert not (tmp_path / "o.csv").exists()
