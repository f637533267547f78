"""The session and ``zoo rank`` faults of issue #10 (items 8 and 9), each with the case that failed before."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.cli import main
from zoo.core import checkpoint
from zoo.session import RankingSession

BLOB = (
    "import numpy as np\n"
    "def draw(x):\n"
    "    yy, xx = np.mgrid[-1:1:16j, -1:1:16j]\n"
    "    return ((xx - np.tanh(x[0])) ** 2 + (yy - np.tanh(x[1])) ** 2 < 0.3).astype(float)\n"
)


def test_showing_the_pick_keeps_the_rounds_candidate_images(tmp_path):
    # before: describe_pick wrote the pick over round-000N/candidate-1.png of the last answered round
    (tmp_path / "blob.py").write_text(BLOB)
    s = RankingSession.create(tmp_path / "img.npz", problem=f"{tmp_path / 'blob.py'}:draw", dim=2)
    s.show()
    first = (tmp_path / "img-images" / "round-0001" / "candidate-1.png").read_bytes()
    s.answer("4 2")
    text = s.describe_pick()
    assert (tmp_path / "img-images" / "round-0001" / "candidate-1.png").read_bytes() == first
    assert "pick-after-round-0001.png" in text


def test_a_dict_answer_with_a_wrong_key_is_a_clear_error_and_changes_nothing(tmp_path):
    s = RankingSession.create(tmp_path / "s.npz", ansi=False)
    before = (tmp_path / "s.npz").read_bytes()
    with pytest.raises(ValueError, match="one key, 'ranking' or 'pairs'"):
        s.answer({"rank": [0, 1]})  # before: TypeError from tell(**answer)
    assert s.round == 0 and (tmp_path / "s.npz").read_bytes() == before


def test_undo_is_the_state_before_the_answer_and_answers_are_logged(tmp_path):
    s = RankingSession.create(tmp_path / "s.npz", ansi=False)
    s.answer("2 1 4 3")
    X2 = s.candidates()
    x2 = s.pick
    s.answer({"ranking": [[1, 0], 2]}, source="web")
    s.undo()
    assert s.round == 1 and np.array_equal(s.candidates(), X2) and np.array_equal(s.pick, x2)
    back = RankingSession.load(tmp_path / "s.npz")
    assert np.array_equal(back.candidates(), X2)
    events = [(e["event"], e["source"], e["round"]) for e in back.meta["log"]]
    assert events == [("answer", "terminal", 1), ("answer", "web", 2), ("undo", "terminal", 1)]
    assert all(e["time"].endswith("+00:00") for e in back.meta["log"])
    with pytest.raises(ValueError, match="no answer to undo"):
        RankingSession.create(tmp_path / "t.npz").undo()


def test_a_tied_answer_is_saved_and_resumes_bit_identically(tmp_path):
    a = RankingSession.create(tmp_path / "a.npz", ansi=False)
    a.answer("3=1 4")
    a.answer({"pairs": [[0, 1], [2, "=", 3]]})
    b = RankingSession.load(tmp_path / "a.npz")
    assert np.array_equal(b.candidates(), a.candidates()) and np.array_equal(b.pick, a.pick)
    assert b.meta["answers"][1] == '{"pairs": [[0, 1], [2, "=", 3]]}'


def _run(argv, capsys):
    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_flags_given_on_resume_are_refused_or_applied(tmp_path, monkeypatch, capsys):
    # before: --seed, --m, --mu, -o, --no-color given on resume were silently ignored
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    rc, out, err = _run(
        ["rank", "--session", "s.npz", "--auto", "#ff8800", "--rounds", "2", "--seed", "3"], capsys
    )
    assert rc == 0, err
    before = (tmp_path / "s.npz").read_bytes()
    for argv, name in [
        (["--seed", "4"], "--seed"),
        (["--m", "6"], "--m"),
        (["--mu", "0.1"], "--mu"),
        (["-o", "n_trials=5"], "-o n_trials"),
        (["--problem", "zoo.functions:sphere"], "--problem"),
        (["--x0", "1,1,1"], "--x0"),
        (["--dim", "5"], "--dim"),
        (["--target", "#000000"], "--target"),
    ]:
        rc, out, err = _run(["rank", "--session", "s.npz", "--rounds", "1", *argv], capsys)
        assert rc == 2 and name in err and "--new to start over" in err, (argv, err)
        assert (tmp_path / "s.npz").read_bytes() == before
    # the same values as saved are no conflict; --no-color is applied
    rc, out, err = _run(
        [
            "rank",
            "--session",
            "s.npz",
            "--seed",
            "3",
            "--m",
            "4",
            "--auto",
            "#ff8800",
            "--rounds",
            "1",
            "--no-color",
        ],
        capsys,
    )
    assert rc == 0, err
    assert "resuming s.npz: 2 round(s)" in out and "\x1b[" not in out
    assert checkpoint.load(tmp_path / "s.npz")["session"]["ansi"] is False


def test_a_problem_that_raises_mid_session_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    (tmp_path / "flaky.py").write_text(
        "import numpy as np\n"
        "def show(x):\n"
        "    if abs(x).sum() > 0:\n"
        "        raise ZeroDivisionError('the simulator broke')\n"
        "    return 'ok'\n"
    )
    rc, out, err = _run(["rank", "--problem", "flaky.py:show", "--dim", "2"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert (
        "failed to show a candidate: ZeroDivisionError: the simulator broke" in err and "Traceback" not in err
    )


def test_a_session_file_that_is_not_one_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ZOO_DEBUG", raising=False)
    (tmp_path / "s.npz").write_text("hello")
    rc, out, err = _run(["rank", "--session", "s.npz"], capsys)
    assert (
        rc == 2
        and err.startswith("zoo rank: error: argument --session:")
        and (tmp_path / "s.npz").read_text() == "hello"
    )
