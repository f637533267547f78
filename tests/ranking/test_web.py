"""``zoo rank --web`` through Starlette's TestClient (no browser): answers, ties, undo, two tabs, and every
refused request (no token, another origin, malformed JSON, an old round, bad indices, 10 MB) leaving the
session file unchanged (issue #14)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from zoo.session import RankingSession, colour_auto_answer  # noqa: E402
from zoo.session.problems import PNG_SIGNATURE  # noqa: E402
from zoo.session.web import MAX_BODY, create_app  # noqa: E402

TOKEN = "test-token-123"


@pytest.fixture
def web(tmp_path):
    session = RankingSession.create(tmp_path / "s.npz", target="#ff8800", ansi=False)
    client = TestClient(create_app(session, token=TOKEN), base_url="http://127.0.0.1:8765")
    client.headers["X-Zoo-Token"] = TOKEN
    return client, session, tmp_path / "s.npz"


def post(client, path, body, **kw):
    return client.post(path, json=body, headers={"Origin": "http://127.0.0.1:8765"}, **kw)


def test_page_state_images_answer_tie_and_undo(web):
    client, session, path = web
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and "<html" in page.text and "http" not in page.text.split("<script>")[0]
    state = client.get("/api/state").json()
    assert state["round"] == 1 and state["n"] == 4 and state["phase"] == "estimate"
    img = client.get("/api/candidate/1/2.png")
    assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    assert img.content.startswith(PNG_SIGNATURE)
    assert client.get("/api/pick/0.png").content.startswith(PNG_SIGNATURE)
    X1 = session.candidates()
    r = post(client, "/api/answer", {"round": 1, "ranking": [[2, 0], 3]})
    assert r.status_code == 200, r.text
    assert r.json()["round"] == 2 and len(r.json()["progress"]) == 2
    saved = RankingSession.load(path)
    assert saved.round == 1 and saved.meta["log"][-1]["source"] == "web"
    r = post(client, "/api/undo", {"round": 2})
    assert r.status_code == 200 and r.json()["round"] == 1
    assert np.array_equal(RankingSession.load(path).candidates(), X1)


def test_the_simulated_person_through_the_web_matches_the_terminal(tmp_path, web):
    client, session, _ = web
    auto = colour_auto_answer("#ff8800")
    terminal = RankingSession.create(tmp_path / "t.npz", target="#ff8800", ansi=False)
    terminal.run(rounds=30, auto=auto, write=lambda line: None)
    for r in range(1, 31):
        X = client.app.state.web.session.candidates()
        ranking = [int(t) - 1 for t in auto(X).split()]
        assert post(client, "/api/answer", {"round": r, "ranking": ranking}).status_code == 200
    assert session.round == terminal.round == 30
    assert np.array_equal(session.pick, terminal.pick)  # the same colour after the same number of rounds


def test_two_tabs_answering_the_same_round_the_second_is_told(web):
    client, session, path = web
    assert post(client, "/api/answer", {"round": 1, "ranking": [0]}).status_code == 200
    before = path.read_bytes()
    late = post(client, "/api/answer", {"round": 1, "ranking": [1]})
    assert late.status_code == 409 and "moved on" in late.json()["error"]
    assert path.read_bytes() == before and session.round == 1


BAD = [
    ("no token", dict(token=None), 403, "missing access token"),
    ("wrong token", dict(token="nope"), 403, "wrong access token"),
    ("other origin", dict(origin="http://evil.example"), 403, "another origin"),
    ("cross-site", dict(headers={"Sec-Fetch-Site": "cross-site"}), 403, "cross-site"),
    ("malformed JSON", dict(content=b'{"round": 1, "ranking": [0,'), 400, "not valid JSON"),
    ("not an object", dict(content=b"[1, 2]"), 400, "JSON object"),
    ("not JSON", dict(content=b"round=1", ctype="application/x-www-form-urlencoded"), 415, "must be JSON"),
    ("old round", dict(body={"round": 0, "ranking": [0]}), 409, "moved on"),
    ("no round", dict(body={"ranking": [0]}), 400, "names its round"),
    ("out of range", dict(body={"round": 1, "ranking": [0, 7]}), 422, "outside the batch"),
    ("negative", dict(body={"round": 1, "ranking": [-1]}), 422, "outside the batch"),
    ("duplicate", dict(body={"round": 1, "ranking": [1, 1]}), 422, "more than once"),
    ("duplicate in a tie", dict(body={"round": 1, "ranking": [[1, 2], 2]}), 422, "more than once"),
    ("wrong key", dict(body={"round": 1, "rank": [0]}), 422, "one key"),
    ("strings", dict(body={"round": 1, "ranking": ["a"]}), 422, "integer indices"),
    ("10 MB", dict(content=b'{"round": 1, "ranking": [' + b"0," * (5 * 2**20) + b"0]}"), 413, "at most"),
]


@pytest.mark.parametrize("case, kw, status, message", BAD, ids=[b[0] for b in BAD])
def test_bad_requests_are_refused_and_change_nothing(web, case, kw, status, message):
    client, session, path = web
    before = path.read_bytes()
    headers = {"Origin": kw.get("origin", "http://127.0.0.1:8765"), **kw.get("headers", {})}
    headers["Content-Type"] = kw.get("ctype", "application/json")
    if "token" in kw:
        client.headers.pop("X-Zoo-Token")
        if kw["token"]:
            headers["X-Zoo-Token"] = kw["token"]
    content = kw.get("content")
    if content is None:
        import json

        content = json.dumps(kw.get("body", {"round": 1, "ranking": [0]})).encode()
    r = client.post("/api/answer", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert path.read_bytes() == before and session.round == 0


def test_a_body_without_a_length_is_cut_at_the_limit(web):
    client, session, path = web
    before = path.read_bytes()

    def chunks():
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    r = client.post(
        "/api/answer",
        content=chunks(),
        headers={"Content-Type": "application/json", "Origin": "http://127.0.0.1:8765"},
    )
    assert r.status_code == 413 and path.read_bytes() == before


def test_reads_need_the_token_too_and_old_images_are_refused(web):
    client, session, _ = web
    client.headers.pop("X-Zoo-Token")
    for url in ("/", "/api/state", "/api/candidate/1/0.png", "/api/pick/0.png"):
        assert client.get(url).status_code == 403
    client.headers["X-Zoo-Token"] = TOKEN
    assert client.get("/api/candidate/2/0.png").status_code == 409
    assert client.get("/api/candidate/1/9.png").status_code == 404
    assert post(client, "/api/undo", {"round": 1}).status_code == 409  # nothing to undo yet


def test_the_shape_problem_and_a_users_image_problem_render_pngs(tmp_path):
    for problem, kw in (("shape", {}), ("zoo.session.problems:shape_image", {"dim": 4})):
        s = RankingSession.create(tmp_path / f"{problem.replace(':', '_')}.npz", problem=problem, **kw)
        client = TestClient(create_app(s, token=TOKEN))
        r = client.get(f"/api/candidate/1/0.png?token={TOKEN}")
        assert r.status_code == 200 and r.content.startswith(PNG_SIGNATURE)
    text = RankingSession.create(tmp_path / "text.npz", problem="zoo.session.render:colour_of", x0=[0, 0, 0])
    with pytest.raises(ValueError, match="the web page shows images"):
        create_app(text)


def test_the_server_restarts_where_it_stopped(tmp_path, web_server):
    """A real server (uvicorn on a free port): answer, kill it, start it again, the round continues."""
    import json
    import urllib.request

    def call(url, path, body=None):
        base, token = url.split("/?token=")
        req = urllib.request.Request(base + path, headers={"X-Zoo-Token": token})
        if body is not None:
            req.data = json.dumps(body).encode()
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    url = web_server.start("--session", "w.npz")
    assert call(url, "/api/state")["round"] == 1
    call(url, "/api/answer", {"round": 1, "ranking": [2, [0, 1]]})
    call(url, "/api/answer", {"round": 2, "ranking": [1]})
    web_server.kill()
    reference = RankingSession.create(tmp_path / "ref.npz", ansi=False)
    reference.answer({"ranking": [2, [0, 1]]})
    reference.answer({"ranking": [1]})
    url2 = web_server.start("--session", "w.npz")
    assert url2 != url  # a new token each start
    state = call(url2, "/api/state")
    assert state["round"] == 3 and len(state["progress"]) == 3
    resumed = RankingSession.load(tmp_path / "w.npz")
    assert np.array_equal(resumed.candidates(), reference.candidates())
    assert np.array_equal(resumed.pick, reference.pick)


def test_a_problem_that_fails_to_draw_a_candidate_is_a_clear_error_not_a_crash(tmp_path):
    module = tmp_path / "fragile.py"
    module.write_text(
        "import numpy as np\n"
        "def draw(x):\n"
        "    if np.any(x != 0):\n"
        "        raise RuntimeError('only the start can be drawn')\n"
        "    return np.zeros((4, 4))\n"
    )
    s = RankingSession.create(tmp_path / "f.npz", problem=f"{module}:draw", dim=2)
    before = (tmp_path / "f.npz").read_bytes()
    client = TestClient(create_app(s, token=TOKEN))
    r = client.get(f"/api/candidate/1/0.png?token={TOKEN}")
    assert r.status_code == 500 and "failed to draw candidate 1 of round 1" in r.json()["error"]
    assert "only the start can be drawn" in r.json()["error"]
    assert client.get(f"/api/pick/0.png?token={TOKEN}").status_code == 200  # the server goes on
    assert (tmp_path / "f.npz").read_bytes() == before
