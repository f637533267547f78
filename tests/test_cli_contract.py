"""The CLI contract: every sub-command, given a bad argument, exits non-zero with ONE line on stderr that names
the bad argument, prints no traceback, and writes no file (issue #10, item 8).

Each row: the argv, a text the error line must contain (the argument's name, or the bad value). Rows of
sub-commands other engineers are fixing are marked xfail(strict=True) with the owner: their fix flips them.
"""

from __future__ import annotations

import os

import pytest

from zoo.cli import main

pytest.importorskip("matplotlib")


def _owner(who: str, what: str):
    return pytest.mark.xfail(strict=True, reason=f"{what}: being fixed by {who} (#10 item 8)")


ROWS = [
    # top level
    (["nope"], "invalid choice: 'nope'"),
    # zoo minimize
    (["minimize", "nofunction"], "argument function"),
    (["minimize", "sphere", "--dim", "0"], "argument --dim: must be a positive int, got 0"),
    (["minimize", "sphere", "--dim", "-3"], "argument --dim"),
    (["minimize", "sphere", "--dim", "2.5"], "argument --dim: must be an int"),
    (["minimize", "sphere", "--budget", "0"], "argument --budget"),
    (["minimize", "sphere", "--budget", "lots"], "argument --budget"),
    (["minimize", "sphere", "--seed", "-1"], "argument --seed"),
    (["minimize", "sphere", "--method", "nope"], "unknown method 'nope'"),
    (["minimize", "sphere", "-o", "nope=1"], "unknown option(s) ['nope']"),
    (["minimize", "sphere", "-o", "q"], "--option takes KEY=VALUE"),
    (["minimize", "sphere", "-o", "q=0"], "q (number of directions)"),
    (["minimize", "sphere", "--x0", "abc"], "--x0 must be"),
    (["minimize", "sphere", "--x0", "inf"], "--x0 must be finite"),
    (["minimize", "sphere", "--workers", "0"], "argument --workers"),
    (["minimize", "sphere", "--timeout", "-1"], "--timeout"),
    (["minimize", "sphere", "--space", "missing.json"], "--space"),
    # zoo demo
    (["demo", "--only", "nope"], "nope"),
    # zoo train
    (["train", "digits", "--epochs", "0"], "argument --epochs: must be a positive int, got 0"),
    (["train", "digits", "--epochs", "-2"], "argument --epochs"),
    (["train", "digits", "--lr", "-1"], "argument --lr"),
    (["train", "digits", "--lr", "nan"], "argument --lr"),
    (["train", "digits", "--sparsity", "1.5"], "argument --sparsity"),
    (["train", "digits", "--batch-size", "0"], "argument --batch-size"),
    (["train", "digits", "--directions", "0"], "argument --directions"),
    (["train", "digits", "--threads", "0"], "argument --threads"),
    (["train", "digits", "--model", "nope"], "argument --model"),
    (["train", "imagenet"], "argument dataset"),
    # zoo federate
    (["federate", "quadratic", "--rounds", "0"], "argument --rounds"),
    (["federate", "quadratic", "--clients", "0"], "argument --clients"),
    (["federate", "quadratic", "--clients-per-round", "0"], "argument --clients-per-round"),
    (["federate", "quadratic", "--local-steps", "0"], "argument --local-steps"),
    (["federate", "quadratic", "--dim", "0"], "argument --dim"),
    (["federate", "attack", "--epsilon", "-1"], "argument --epsilon"),
    (["federate", "quadratic", "--heterogeneity", "-1"], "argument --heterogeneity"),
    (["federate", "quadratic", "--problem-seed", "x"], "argument --problem-seed"),
    (["federate", "quadratic", "--resume"], "--resume needs --history"),
    (["synth", "missing.csv", "--queries", "bogus"], "unknown query kind 'bogus'"),
    (["federate", "quadratic", "--engine", "nope"], "argument --engine"),
    (["federate", "quadratic", "--algo", "nope", "--rounds", "1", "--plot", "none"], "nope"),
    (
        ["federate", "quadratic", "--clients", "3", "--clients-per-round", "9", "--plot", "none"],
        "clients_per_round",
    ),
    (["federate", "nowhere"], "argument problem"),
    # zoo bench (owner: auto)
    (["bench", "bbob", "--dim", "7", "--quiet"], "--dim"),
    (["bench", "bbob", "--budget-per-dim", "-1", "--quiet"], "--budget-per-dim"),
    (["bench", "bbob", "--jobs", "x"], "argument --jobs"),
    (["bench", "bbob", "--anchor-cache", "a.jsonl", "--coco-output", "coco", "--quiet"], "--anchor-cache"),
    (
        ["bench", "bbob", "--anchor-cache", ".", "--functions", "1", "--instances", "1", "--quiet"],
        "is not a file",
    ),
    # zoo rank (owner: web)
    (["rank", "--session", "."], "--session"),
    (["rank", "--session", "missing/dir/s.npz", "--auto", "#ff8800", "--rounds", "1"], "--session"),
    (["rank", "--new", "--problem", "nomod:f", "--dim", "2", "--rounds", "1"], "No module named 'nomod'"),
    (
        ["rank", "--new", "--x0", "1,2", "--auto", "#ff8800", "--rounds", "1"],
        "argument --x0: x0 has 2 number(s)",
    ),
    (["rank", "--new", "--x0", "1,a,2", "--rounds", "1"], "argument --x0"),
    (["rank", "--new", "--x0", "1,nan,2", "--rounds", "1"], "argument --x0"),
    (["rank", "--new", "--auto", "orange", "--rounds", "1"], "#RRGGBB"),
    (["rank", "--new", "--problem", "zoo.functions:sphere", "--dim", "2", "--auto", "#ff8800"], "--auto"),
    (["rank", "--new", "--problem", "zoo.session.render:parse_hex", "--dim", "2"], "the function raised"),
    (["rank", "--web", "--auto", "#ff8800"], "argument --auto"),
    (
        ["rank", "--web", "--problem", "zoo.session.render:colour_of", "--dim", "3"],
        "the web page shows images",
    ),
    (["rank", "--web", "--port", "-1"], "argument --port"),
    (["rank", "--rounds", "0"], "argument --rounds"),
    (["rank", "--m", "0"], "argument --m"),
    (["rank", "--rounds", "x"], "argument --rounds"),
]


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


@pytest.mark.parametrize(("argv", "names"), ROWS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_argument_is_one_line_naming_it(argv, names, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse
        rc = exc.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc not in (0, None), f"exit status {rc} for {argv}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert names in lines[0], f"{names!r} not in {lines[0]!r}"
    assert _files(tmp_path) == [], f"a refused command wrote {_files(tmp_path)}"


def test_an_objective_that_raises_is_one_line_and_status_1(monkeypatch, capsys):
    import zoo

    sphere = zoo.functions.get("sphere")
    calls = []

    def broken(X):
        calls.append(1)
        if len(calls) > 1:  # f(x0) is fine, the run then fails
            raise ArithmeticError("the simulator diverged")
        return sphere(X)

    broken.name, broken.minimum = "broken", sphere.minimum
    monkeypatch.setattr(zoo.functions, "get", lambda name: broken)
    rc = main(["minimize", "sphere", "--quiet", "--budget", "10"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1 and "the simulator diverged" in err[0]


def test_minimize_without_budget_states_the_default(capsys):
    # before: "queries  10000 of None"
    assert main(["minimize", "sphere", "--dim", "2", "--quiet", "-o", "q=1"]) == 0
    assert "of 2000" in capsys.readouterr().out


def test_progress_in_a_log_is_lines_without_carriage_returns(capsys):
    # before: tqdm wrote one carriage-return redraw per refresh into a redirected log
    assert main(["minimize", "sphere", "--dim", "2", "--budget", "400"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and 1 <= len(err.splitlines()) <= 11 and "400/400 queries" in err


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("ZOO_DEBUG", "1")
    with pytest.raises(TypeError, match="unknown option"):
        main(["minimize", "sphere", "-o", "nope=1", "--quiet"])


def test_interrupt_is_status_130(monkeypatch, capsys):
    import zoo

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(zoo, "minimize", interrupted)
    assert main(["minimize", "sphere", "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == "zoo minimize: interrupted"


def test_a_bad_anchor_cache_is_one_line_and_keeps_the_earlier_runs(tmp_path, monkeypatch, capsys):
    # the cache is read before runs.jsonl is touched: a malformed one must not delete the runs already there
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cache.jsonl").write_text("not json\n")
    (tmp_path / "out").mkdir()
    runs = tmp_path / "out" / "runs.jsonl"
    runs.write_text('{"method": "auto"}\n')
    argv = ["bench", "bbob", "--anchor-cache", "cache.jsonl", "--out", "out", "--functions", "1", "--quiet"]
    rc = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert rc not in (0, None) and len(err) == 1 and "cache.jsonl:1 is not an anchor run" in err[0]
    assert runs.read_text() == '{"method": "auto"}\n'
