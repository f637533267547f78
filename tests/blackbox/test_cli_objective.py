"""`zoo minimize module:function`: the user's objective, --space, --workers, --checkpoint, --resume, --out."""

import json

import pytest

from zoo.cli import main
from zoo.core import runlog

SIM = """
import numpy as np

def run(p):
    return (p["n"] - 3) ** 2 + (p["act"] != "tanh") + (np.log10(p["lr"]) + 2) ** 2

def flat(x):
    return float(np.sum((x - 0.5) ** 2))

def broken(x):
    raise RuntimeError("licence server down")
"""

SPACE = {
    "n": {"type": "integer", "lower": 0, "upper": 6},
    "act": {"type": "categorical", "choices": ["relu", "tanh"]},
    "lr": {"type": "real", "lower": 1e-4, "upper": 1.0, "log": True},
}


@pytest.fixture
def sim(tmp_path):
    path = tmp_path / "mysim.py"
    path.write_text(SIM)
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    return tmp_path


def test_space_checkpoint_resume_out_and_log(sim, capsys):
    base = [f"{sim / 'mysim.py'}:run", "--space", str(sim / "space.json"), "--method", "ga", "--seed", "0",
            "--quiet", "-o", "popsize=10", "--checkpoint", str(sim / "ck.npz"), "--log", str(sim / "run.jsonl")]  # fmt: skip
    assert main(["minimize", *base, "--budget", "50"]) == 0
    assert (
        main(
            [
                "minimize",
                *base,
                "--budget",
                "120",
                "--resume",
                str(sim / "ck.npz"),
                "--out",
                str(sim / "r.json"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "resumed" in out
    res = json.loads((sim / "r.json").read_text())
    assert (
        res["nfev"] <= 120
        and res["nfev"] > 50
        and res["x"]["act"] == "tanh"
        and isinstance(res["x"]["n"], int)
    )
    assert len(runlog.read(sim / "run.jsonl")) == res["nfev"]  # both runs appended to one log


def test_module_form_with_workers(sim, capsys, monkeypatch):
    monkeypatch.chdir(sim)
    args = ["minimize", "mysim:flat", "--dim", "3", "--bounds", "0", "1", "--method", "cma", "--budget", "40",
            "--workers", "2", "--quiet", "--out", "r.json"]  # fmt: skip
    assert main(args) == 0
    res = json.loads((sim / "r.json").read_text())
    assert res["nfev"] <= 40 and res["fun"] < 0.75


@pytest.mark.parametrize(
    "argv, code, msg",
    [
        (["nosuchmod:f", "--dim", "2"], 2, "cannot import module"),
        (["mysim:nothing", "--dim", "2"], 2, "no callable"),
        (["mysim:flat"], 2, "needs --dim"),
        (["mysim:run", "--space", "missing.json"], 2, "cannot read a JSON space"),
        (["mysim:flat", "--dim", "2", "--resume", "missing.npz"], 2, "no such checkpoint"),
        (["nosuchfunction", "--dim", "2"], 2, "unknown function"),
        (["sphere", "--space", "space.json"], 2, "for a user objective"),
        (["mysim:broken", "--dim", "2", "--budget", "10"], 1, "licence server down"),
    ],
)
def test_bad_cli_input_is_a_clear_message(sim, capsys, monkeypatch, argv, code, msg):
    monkeypatch.chdir(sim)
    assert main(["minimize", *argv, "--quiet"]) == code
    assert msg in capsys.readouterr().err


@pytest.mark.parametrize("form", ["file", "module"])
def test_an_objective_whose_import_raises_is_one_line_naming_it(tmp_path, capsys, monkeypatch, form):
    """The one loader (zoo.core.callables) turns an import that raises into a ValueError naming the spec, for
    the file form too (it used to reach the user as a traceback)."""
    (tmp_path / "badsim.py").write_text(
        "raise RuntimeError('licence file missing')\ndef f(x):\n    return 0.0\n"
    )
    monkeypatch.chdir(tmp_path)
    spec = f"{tmp_path / 'badsim.py'}:f" if form == "file" else "badsim:f"
    assert main(["minimize", spec, "--dim", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: licence file missing" in err and "badsim" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
