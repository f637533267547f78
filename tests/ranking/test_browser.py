"""``zoo rank --web`` driven in headless Chromium as a person would (issue #14): open the printed URL, order the
candidates by clicking and by drag and drop, mark ties, undo, reload the page, answer from a second tab after
the round moved on, try a wrong and a missing token and a request from another origin, answer 10 rounds, kill
the server, start it again and check that the session continues bit-identically.

Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them) driven by Selenium; nothing is
downloaded. ``ZOO_SCREENSHOT=docs/images/ranking-web.png`` also writes the page's screenshot there (the one in
docs/ranking-session.md).
"""

from __future__ import annotations

import datetime
import json
import os
import shutil

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no chromium / chromedriver on PATH (make test installs Debian's chromium and chromium-driver)",
)
pytest.importorskip("selenium", reason="selenium is in the dev extra: pip install -e '.[dev]'")
pytest.importorskip("uvicorn", reason="zoo rank --web needs the web extra")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from zoo.session import RankingSession  # noqa: E402

PROBLEM = "landscape"


def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1000,900")
    options.add_argument("--force-device-scale-factor=1")
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


class Page:
    """What a person does on the page, one method per gesture."""

    def __init__(self, driver) -> None:
        self.d = driver

    def el(self, id_: str):
        return self.d.find_element(By.ID, id_)

    def text(self, id_: str) -> str:
        return self.el(id_).text

    def wait(self, cond, what: str):
        return WebDriverWait(self.d, 20, poll_frequency=0.05).until(lambda d: cond(), message=what)

    def open(self, url: str, round_: int) -> None:
        self.d.get(url)
        self.wait_round(round_)

    def wait_round(self, round_: int) -> None:
        self.wait(lambda: self.text("head").startswith(f"Round {round_} "), f"the page shows round {round_}")
        self.wait(self.images_loaded, "the candidate images load")

    def images_loaded(self) -> bool:
        return self.d.execute_script(
            "return [...document.querySelectorAll('#cands img')].every(i => i.complete && i.naturalWidth > 0)"
        )

    def click(self, *cands: int) -> None:
        for i in cands:
            self.el(f"cand-{i}").click()

    def tie(self) -> None:
        self.el("tie").click()

    def drag(self, source: str, target: str) -> None:
        """Press on ``source``, move to ``target``, release: real pointer events, as from a mouse."""
        ActionChains(self.d, duration=50).click_and_hold(self.el(source)).move_to_element(
            self.el(target)
        ).release().perform()

    def order(self) -> list[list[int]]:
        return json.loads(self.el("order").get_attribute("data-order"))

    def submit(self, answered: int) -> None:
        self.el("submit").click()
        self.wait(lambda: self.text("msg") == f"saved round {answered}", f"round {answered} saved")
        self.wait_round(answered + 1)

    def plot_points(self) -> int:
        return len(self.el("plot").find_element(By.TAG_NAME, "polyline").get_attribute("points").split())


def as_answer(order: list[list[int]]) -> dict:
    return {"ranking": [g if len(g) > 1 else g[0] for g in order]}


def test_a_person_ranks_pictures_in_the_browser(tmp_path, web_server):
    web_server.launch("--session", "w.npz", "--problem", PROBLEM)  # the server and the browser start together
    browser = chromium()
    try:
        person_ranks_pictures(tmp_path, web_server, Page(browser))
    finally:
        browser.quit()


def person_ranks_pictures(tmp_path, web_server, page):
    path = tmp_path / "w.npz"
    url = web_server.url()
    base = url.split("/?token=")[0]
    answers: list[dict] = []  # what the person answered, undone answer left out

    def answer(expected_order, answered):
        assert page.order() == expected_order
        page.submit(answered)
        answers.append(as_answer(expected_order))

    page.open(url, 1)
    assert page.d.execute_script("return document.querySelector('#cand-0 img').naturalWidth") == 96
    # round 1: click in order
    page.click(2, 0)
    badge = lambda i: page.d.find_element(By.CSS_SELECTOR, f"#cand-{i} .badge").text  # noqa: E731
    assert (badge(2), badge(0)) == ("1", "2")
    answer([[2], [0]], 1)
    # round 2: drag into the empty order, drag in front of the first, then click
    page.drag("cand-1", "slot-0")
    page.drag("cand-3", "slot-0")
    page.click(0)
    answer([[3], [1], [0]], 2)
    # round 3: a tie by the button
    page.click(0)
    page.tie()
    page.click(1, 2)
    assert page.text("order-text") == "1 = 2 > 3"
    answer([[0, 1], [2]], 3)
    # round 4: a tie by dropping on a group, a candidate dragged back out of the order; then undone
    X4 = RankingSession.load(path).candidates()
    page.click(2)
    page.drag("cand-3", "group-0")
    page.click(1)
    page.drag("thumb-2", "cands")
    answer([[3], [1]], 4)
    page.el("undo").click()
    page.wait(lambda: page.text("msg") == "undone: round 4 again", "the undo is confirmed")
    answers.pop()
    assert np.array_equal(RankingSession.load(path).candidates(), X4)  # the same round 4, bit for bit
    page.click(1, 3)
    answer([[1], [3]], 4)
    # round 5: a reload drops the unsent clicks and shows the same round, the plot one point per round
    page.click(0)
    page.d.refresh()
    page.wait_round(5)
    assert page.order() == [] and page.plot_points() == 5
    page.click(3, 0)
    answer([[3], [0]], 5)
    # round 6: a second window with a stale round is told the round moved on; nothing is recorded twice. Its
    # following of the other window (a poll every 3 s) is switched off here, so that its stale answer surely
    # reaches the server and is refused there (HTTP 409); the first window keeps following.
    first = page.d.current_window_handle
    page.d.switch_to.new_window("window")
    page.d.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": "window.setInterval = () => 0;"}
    )
    page.open(url, 6)
    second = page.d.current_window_handle
    page.click(0)
    page.d.switch_to.window(first)
    page.click(2)
    answer([[2]], 6)
    page.d.switch_to.window(second)
    page.el("submit").click()
    page.wait(lambda: "moved on" in page.text("msg"), "the second window is told the round moved on")
    page.wait_round(7)
    assert RankingSession.load(path).round == 6
    # round 7 answered in the second window: the first follows by itself
    page.click(1, 0, 2)
    answer([[1], [0], [2]], 7)
    page.d.close()
    page.d.switch_to.window(first)
    page.wait(lambda: "answered in another tab" in page.text("msg"), "the first window follows the second")
    page.wait_round(8)
    # rounds 8-10
    page.click(0)
    answer([[0]], 8)
    page.drag("cand-2", "slot-0")
    page.drag("cand-0", "slot-1")
    answer([[2], [0]], 9)
    page.click(3)
    page.drag("cand-2", "group-0")
    page.click(1)
    assert page.order() == [[3, 2], [1]]
    shot = tmp_path / "ranking-web.png"
    assert page.d.save_screenshot(str(shot)) and shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("ZOO_SCREENSHOT"):
        shutil.copy(shot, os.environ["ZOO_SCREENSHOT"])
    answer([[3, 2], [1]], 10)

    # refused: a wrong token, no token, a POST from a page of another origin; the session file unchanged
    before = path.read_bytes()
    page.d.get(base + "/?token=wrong")
    assert "wrong access token" in page.d.find_element(By.TAG_NAME, "body").text
    page.d.get(base + "/")
    assert "missing access token" in page.d.find_element(By.TAG_NAME, "body").text
    page.d.get("data:text/html,<title>elsewhere</title>")
    token = url.split("token=")[1]
    outcome = page.d.execute_async_script(
        """const [base, token, done] = arguments;
        const body = JSON.stringify({round: 11, ranking: [0]});
        const tries = [  // with the token even: a preflighted JSON POST, and a 'simple' one that needs none
          fetch(base + "/api/answer", {method: "POST", body,
            headers: {"Content-Type": "application/json", "X-Zoo-Token": token}}),
          fetch(base + "/api/answer?token=" + token, {method: "POST", mode: "no-cors", body,
            headers: {"Content-Type": "text/plain"}}),
        ];
        Promise.allSettled(tries).then(r => done(r.map(x => x.status + ":" + (x.value ? x.value.type : ""))));""",
        base,
        token,
    )
    assert outcome[0] == "rejected:" and outcome[1] in ("fulfilled:opaque", "rejected:")
    assert path.read_bytes() == before

    # kill the server (no clean shutdown), start it again: a new token, the same session
    web_server.kill()
    url2 = web_server.start("--session", "w.npz")
    assert url2 != url
    page.open(url2, 11)
    assert "10 answered" in page.text("head") and page.plot_points() == 11
    page.click(0, 1)
    answer([[0], [1]], 11)
    web_server.kill()

    reference = RankingSession.create(tmp_path / "ref.npz", problem=PROBLEM)
    for a in answers:
        reference.answer(a)
    resumed = RankingSession.load(path)
    assert resumed.meta["answers"] == reference.meta["answers"]
    assert np.array_equal(resumed.candidates(), reference.candidates())
    plain = lambda sd: json.dumps(sd, sort_keys=True, default=lambda a: np.asarray(a).tolist())  # noqa: E731
    assert plain(resumed.opt.state_dict()) == plain(reference.opt.state_dict())  # every array, the RNG's too

    # the log: every answer and the undo, with its time, from the web page; the refused ones are not in it
    log = resumed.meta["log"]
    assert [e["event"] for e in log].count("answer") == 12 and [e["event"] for e in log].count("undo") == 1
    assert {e["source"] for e in log} == {"web"}
    times = [datetime.datetime.fromisoformat(e["time"]) for e in log]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
