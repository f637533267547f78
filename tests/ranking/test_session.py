"""The person-in-the-loop session: answers parsed, malformed ones re-asked, saved every round, resumed.
The terminal program ``zoo rank`` is driven with scripted input on stdin (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from zoo.core import checkpoint
from zoo.session import RankingSession, colour_auto_answer, parse_answer, write_png
from zoo.session.render import colour_of, parse_hex

ROOT = Path(__file__).resolve().parents[2]


# `zoo rank` as a person runs it, minus the other plugins' parsers (zoo.torch's imports torch: slow to start)
RUNNER = (
    "import argparse, sys; sys.path.insert(0, {root!r}); from zoo.session.cli import add_cli; "
    "p = argparse.ArgumentParser(prog='zoo'); add_cli(p.add_subparsers()); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


def zoo_rank(args: list[str], stdin: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", RUNNER.format(root=str(ROOT)), "rank", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_zoo_rank_is_a_cli_plugin():
    from zoo.cli import PLUGINS

    assert "zoo.session.cli" in PLUGINS


def test_parse_answers():
    assert parse_answer("3 1 4", 4) == {"ranking": [2, 0, 3]}
    assert parse_answer(" 3,1 ", 4) == {"ranking": [2, 0]}
    assert parse_answer("3>1, 1>4", 4) == {"pairs": [(2, 0), (0, 3)]}
    assert parse_answer("3>1>4; 2<3", 4) == {"pairs": [(2, 0), (0, 3), (2, 1)]}


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty"),
        ("5", "no candidate 5"),
        ("0 1", "no candidate 0"),
        ("1 1", "twice"),
        ("a", "not a candidate number"),
        ("2>2", "itself"),
        ("1>", "empty name"),
        ("1 > x", "not a candidate"),
    ],
)
def test_malformed_answers_say_what_is_expected(text, match):
    with pytest.raises(ValueError, match=match):
        parse_answer(text, 4)


def test_terminal_session_rejects_malformed_answers_saves_and_resumes(tmp_path):
    first = zoo_rank(
        ["--session", "s.npz", "--no-color", "--target", "#ff8800"], "2 1 4 3\n9\n2>1, 3>4\nq\n", tmp_path
    )
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "Round 1" in out and "[4] #" in out and "target #ff8800" in out
    assert "not understood: there is no candidate 9" in out  # the malformed answer, then asked again
    assert "saved round 2" in out and "session saved to s.npz after round 2" in out
    saved = checkpoint.load(tmp_path / "s.npz")
    assert saved["session"]["round"] == 2 and saved["session"]["answers"] == ["2 1 4 3", "2>1, 3>4"]

    second = zoo_rank(["--session", "s.npz", "--no-color"], "1 3\n", tmp_path)  # then the input ends
    assert second.returncode == 0, second.stderr
    assert "resuming s.npz: 2 round(s) answered" in second.stdout and "Round 3" in second.stdout
    assert "session saved to s.npz after round 3" in second.stdout

    # the interrupted-and-resumed session is the same as one that ran without interruption
    ref = RankingSession.create(tmp_path / "ref.npz", target="#ff8800", ansi=False)
    for answer in ("2 1 4 3", "2>1, 3>4", "1 3"):
        ref.answer(answer)
    resumed = RankingSession.load(tmp_path / "s.npz")
    assert resumed.round == 3
    assert np.array_equal(resumed.pick, ref.pick)
    assert np.array_equal(resumed.candidates(), ref.candidates())


def test_auto_answers_find_the_colour(tmp_path):
    s = RankingSession.create(tmp_path / "c.npz", target="#ff8800", ansi=False)
    lines: list[str] = []
    s.run(rounds=40, auto=colour_auto_answer("#ff8800"), write=lines.append)
    dist = np.linalg.norm(np.array(colour_of(s.pick)) - np.array(parse_hex("#ff8800")))
    assert dist < 30, dist  # from mid grey (distance 160)
    assert "current pick:" in lines


def test_python_api_reads_again_after_a_malformed_answer(tmp_path):
    answers = iter(["", "1 1", "1 2", "q"])
    lines: list[str] = []
    s = RankingSession.create(tmp_path / "api.npz", ansi=False)
    done = s.run(read=lambda prompt: next(answers), write=lines.append)
    assert done == 1 and s.round == 1
    assert sum("not understood" in line for line in lines) == 2
    with pytest.raises(ValueError):
        s.answer("7")
    assert s.round == 1  # nothing changed


def test_image_problem_writes_png_candidates(tmp_path):
    module = tmp_path / "blob.py"
    module.write_text(
        "import numpy as np\n"
        "def draw(x):\n"
        "    yy, xx = np.mgrid[-1:1:24j, -1:1:24j]\n"
        "    return ((xx - np.tanh(x[0])) ** 2 + (yy - np.tanh(x[1])) ** 2 < 0.3).astype(float)\n"
    )
    s = RankingSession.create(tmp_path / "img.npz", problem=f"{module}:draw", dim=2)
    text = s.show()
    pngs = sorted((tmp_path / "img-images" / "round-0001").glob("candidate-*.png"))
    assert len(pngs) == 4 and all(str(p) in text for p in pngs)
    sheet = tmp_path / "img-images" / "round-0001" / "all.png"
    assert sheet.exists() and str(sheet) in text
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    s.answer("4 2")
    assert RankingSession.load(tmp_path / "img.npz").round == 1


def test_png_writer_round_trips_through_matplotlib(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    img = np.zeros((5, 7, 3))
    img[1, 2] = [1.0, 0.5, 0.0]
    path = write_png(tmp_path / "a.png", img)
    back = plt.imread(path)
    assert back.shape[:2] == (5, 7) and np.allclose(back[1, 2, :3], [1.0, 128 / 255, 0.0], atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        write_png(tmp_path / "b.png", np.zeros(3))


def test_bad_session_arguments(tmp_path):
    with pytest.raises(ValueError, match="#RRGGBB"):
        RankingSession.create(tmp_path / "x.npz", target="orange")
    with pytest.raises(ValueError, match="module:function"):
        RankingSession.create(tmp_path / "x.npz", problem="nomodule", dim=2)
    with pytest.raises(ValueError, match="no session file"):
        RankingSession.load(tmp_path / "missing.npz")
