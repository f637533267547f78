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
    assert "rounds" in text.err  # the progress bar


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
        (["--epsilon", "0"], "epsilon must be"),
        (["--delta", "2"], "delta must be in the open interval"),
        (["--queries", ","], "queries is empty"),
        (["--queries", "5way"], "unknown query kind '5way'"),
    ],
)
def test_cli_bad_parameters(csv, tmp_path, capsys, extra, match):
    path, spec = csv
    rc = main(
        ["synth", str(path), "--domain", str(spec), "--out", str(tmp_path / "s.csv"), "--quiet", *extra]
    )
    assert rc == 2 and match in capsys.readouterr().err


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
    assert main(["synth", str(bad), "--domain", str(spec), "--quiet"]) == 2
    assert "numeric column 'hours' contains NaN" in capsys.readouterr().err
