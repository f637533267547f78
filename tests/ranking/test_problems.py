"""The built-in problems of ``zoo rank`` (colour, shape, the procedural landscape) and a person's own problem
as images: ``render(x) -> PNG bytes`` for the web page, PNG files for the terminal (issue #14, item 2)."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.session import RankingSession
from zoo.session.problems import BUILTIN, PNG_SIGNATURE, landscape_image, png_renderer


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_builtin_problems_draw_any_real_x_the_same_way_twice(name):
    dim, draw = BUILTIN[name]
    rng = np.random.default_rng(0)
    for x in (np.zeros(dim), rng.standard_normal(dim), np.full(dim, 1e6), np.full(dim, -1e6)):
        img = draw(x)
        assert img.shape == (96, 96, 3) and img.dtype == np.uint8
        assert np.array_equal(img, draw(x.copy()))
    png = png_renderer(name)(np.zeros(dim))
    assert png.startswith(PNG_SIGNATURE)


def test_the_landscape_changes_a_little_for_a_small_step_and_every_parameter_shows():
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = 0.5 * rng.standard_normal(6)  # near the start, where no tanh is saturated
        base = landscape_image(x).astype(int)
        for k in range(6):
            e = np.zeros(6)
            e[k] = 1.0
            small = np.abs(landscape_image(x + 1e-3 * e).astype(int) - base)
            # anti-aliased edges: a tiny step moves an edge by a fraction of a pixel and that pixel's colour by
            # as much (a hard edge would flip whole pixels, 100-255 levels, as it crosses their centres)
            assert small.max() <= 16
            big = np.abs(landscape_image(x + e).astype(int) - base)
            assert big.mean() > 0.5, f"parameter {k} barely changes the picture"


def test_the_landscape_session_runs_in_the_terminal_and_refuses_a_wrong_dim(tmp_path):
    s = RankingSession.create(tmp_path / "l.npz", problem="landscape")
    assert len(s.pick) == 6 and "candidate-1.png" in s.show()
    s.answer("2 1")
    assert RankingSession.load(tmp_path / "l.npz").round == 1
    with pytest.raises(ValueError, match="landscape problem has dim 6"):
        RankingSession.create(tmp_path / "x.npz", problem="landscape", dim=3)


def test_a_users_problem_returning_png_bytes_from_a_file(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text(
        "import numpy as np\n"
        "from zoo.session.render import png_bytes\n"
        "def draw(x):\n"
        "    return png_bytes(np.full((8, 8, 3), 1 / (1 + np.exp(-x[0]))))\n"
        "def broken(x):\n"
        "    return b'GIF89a'\n"
    )
    render = png_renderer(f"{module}:draw")
    assert render(np.zeros(1)).startswith(PNG_SIGNATURE)
    s = RankingSession.create(tmp_path / "m.npz", problem=f"{module}:draw", dim=1)
    text = s.show()  # the terminal writes the bytes as the PNG files it lists
    pngs = sorted((tmp_path / "m-images" / "round-0001").glob("candidate-*.png"))
    assert len(pngs) == 4 and all(str(p) in text for p in pngs)
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in pngs)
    with pytest.raises(ValueError, match="not a PNG"):
        png_renderer(f"{module}:broken")(np.zeros(1))
