"""``zoo rank --web``: the ranking session as a local web page (Starlette, one plain HTML page, no CDN).

The page shows the round's candidates as PNG images (``render(x) -> PNG bytes``, :mod:`zoo.session.problems`);
the person clicks them in order (best first), may mark ties, undo the last answer, and sees the current pick
and a small plot of progress. Every answer goes through :func:`zoo.session.answers.validate_answer` and
:meth:`RankingSession.answer`, the same as the terminal, so it lands in the same session file (rewritten
atomically after each round): refreshing the page or restarting the server resumes exactly.

Safety: the server binds 127.0.0.1 and every request must carry the random token of the printed URL (query
``token=`` or header ``X-Zoo-Token``); a POST must come from the page's own origin (``Origin`` header, when a
browser sends one) with a JSON body of at most :data:`MAX_BODY` bytes. Each answer names its round; answers
are serialized under one lock, so of two tabs answering the same round the second is told the round moved
on (HTTP 409) and nothing changes. Refusals are JSON ``{"error": "..."}`` with a 4xx status.

API (all under the token): ``GET /`` the page; ``GET /api/state``; ``GET /api/candidate/{round}/{i}.png``;
``GET /api/pick/{round}.png``; ``POST /api/answer`` ``{"round": r, "ranking": [...]}`` or
``{"round": r, "pairs": [...]}`` (0-based indices, ties as in :func:`~zoo.core.feedback.normalize_comparisons`);
``POST /api/undo`` ``{"round": r}``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from importlib import resources
from typing import Any

import numpy as np

from zoo.session.answers import AnswerError
from zoo.session.problems import png_renderer
from zoo.session.session import RankingSession

MAX_BODY = 64 * 1024  # an answer is a few hundred bytes


class Refused(Exception):
    """A request the server will not act on; ``status`` and the message go back as JSON."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WebSession:
    """The session behind the page: the answers, the undo, the pick history, one lock."""

    def __init__(self, session: RankingSession) -> None:
        self.session = session
        self.render = png_renderer(session.meta["problem"])
        self.render(np.asarray(session.meta["x0"], dtype=np.float64))  # fail now, not at the first request
        self.lock = asyncio.Lock()
        self.picks = self._replay_picks()

    def _replay_picks(self) -> list[list[float]]:
        """The pick before the first answer and after each one (the answers told again to a fresh copy)."""
        from zoo.session.answers import validate_answer
        from zoo.session.session import _fresh_optimizer, _stored_answer

        opt = _fresh_optimizer(self.session.meta)
        picks = [opt.state.x.tolist()]
        for stored in self.session.meta["answers"]:
            X = opt.ask()
            opt.tell(X, **validate_answer(_stored_answer(stored), len(X)).as_kwargs())
            picks.append(opt.state.x.tolist())
        return picks

    def state(self) -> dict[str, Any]:
        s = self.session
        X = s.candidates()
        start = np.asarray(self.picks[0])
        return {
            "round": s.round + 1,
            "answered": s.round,
            "phase": s.opt.phase,
            "n": len(X),
            "problem": s.meta["problem"],
            "target": s.meta.get("target") or None,
            "progress": [float(np.linalg.norm(np.asarray(p) - start)) for p in self.picks],
            "log": s.meta["log"][-5:],
        }

    def check_round(self, body: dict[str, Any]) -> None:
        r = body.get("round")
        if not isinstance(r, int) or isinstance(r, bool):
            raise Refused(
                400, f"an answer names its round as an integer: {{'round': {self.session.round + 1}, ...}}"
            )
        if r != self.session.round + 1:
            raise Refused(
                409,
                f"round {r} is not the open round: the round moved on (round {self.session.round + 1} is open); "
                "the page shows it now",
            )

    async def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        async with self.lock:  # one answer at a time: the second of two tabs sees the new round
            self.check_round(body)
            answer = {k: v for k, v in body.items() if k != "round"}
            try:
                self.session.answer(answer, source="web")
            except AnswerError as exc:
                raise Refused(422, f"answer not accepted: {exc}") from None
            self.picks.append(self.session.pick.tolist())
            return self.state()

    async def undo(self, body: dict[str, Any]) -> dict[str, Any]:
        async with self.lock:
            self.check_round(body)
            try:
                self.session.undo(source="web")
            except AnswerError as exc:
                raise Refused(409, str(exc)) from None
            self.picks.pop()
            return self.state()


def create_app(session: RankingSession, token: str | None = None):
    """The Starlette app of a session; ``app.state.token`` is the access token (random unless given)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    web = WebSession(session)
    token = token or secrets.token_urlsafe(24)
    page = resources.files("zoo.session").joinpath("page.html").read_text(encoding="utf-8")

    def guard(request: Request) -> None:
        given = request.query_params.get("token") or request.headers.get("x-zoo-token") or ""
        if not given:
            raise Refused(403, "missing access token: open the URL that zoo rank --web printed")
        if not secrets.compare_digest(given.encode(), token.encode()):
            raise Refused(403, "wrong access token: open the URL that zoo rank --web printed")

    async def json_body(request: Request) -> dict[str, Any]:
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if origin is not None and origin != own:
            raise Refused(403, f"requests from another origin ({origin}) are refused")
        if request.headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            raise Refused(403, "cross-site requests are refused")
        if "application/json" not in request.headers.get("content-type", ""):
            raise Refused(415, "the body must be JSON (Content-Type: application/json)")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, f"the body is {declared} bytes; an answer is at most {MAX_BODY} bytes")
        raw = b""
        async for chunk in request.stream():  # a body sent without a length is cut off at the limit too
            raw += chunk
            if len(raw) > MAX_BODY:
                raise Refused(
                    413, f"the body is over {MAX_BODY} bytes; an answer is at most {MAX_BODY} bytes"
                )
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Refused(400, f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise Refused(400, f"the body must be a JSON object, got {type(body).__name__}")
        return body

    def handler(fn):
        async def endpoint(request: Request) -> Response:
            try:
                guard(request)
                return await fn(request)
            except Refused as exc:
                return JSONResponse({"error": str(exc)}, status_code=exc.status)

        return endpoint

    async def index(request: Request) -> Response:
        return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    async def state(request: Request) -> Response:
        return JSONResponse(web.state())

    def png(data: bytes) -> Response:
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def candidate(request: Request) -> Response:
        r, i = request.path_params["round"], request.path_params["i"]
        if r != session.round + 1:
            raise Refused(409, f"round {r} is not the open round (round {session.round + 1} is)")
        X = session.candidates()
        if not 0 <= i < len(X):
            raise Refused(404, f"there is no candidate {i} in round {r} (0..{len(X) - 1})")
        return png(draw(X[i], f"candidate {i + 1} of round {r}"))

    async def pick(request: Request) -> Response:
        return png(draw(session.pick, "the current pick"))

    def draw(x: np.ndarray, what: str) -> bytes:
        try:
            return web.render(x)
        except (
            Exception
        ) as exc:  # the person's own problem function: name it, keep the server and the session
            raise Refused(
                500,
                f"problem {session.meta['problem']!r} failed to draw {what}: {type(exc).__name__}: {exc} "
                f"(the session is saved after round {session.round})",
            ) from None

    async def answer(request: Request) -> Response:
        return JSONResponse(await web.answer(await json_body(request)))

    async def undo(request: Request) -> Response:
        return JSONResponse(await web.undo(await json_body(request)))

    routes = [
        Route("/", handler(index)),
        Route("/api/state", handler(state)),
        Route("/api/candidate/{round:int}/{i:int}.png", handler(candidate)),
        Route("/api/pick/{round:int}.png", handler(pick)),
        Route("/api/answer", handler(answer), methods=["POST"]),
        Route("/api/undo", handler(undo), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.token = token
    app.state.web = web
    return app


def serve(session: RankingSession, port: int = 8765, host: str = "127.0.0.1") -> int:
    """Run the page until Ctrl-C; prints the URL (with its token) to open. ``port=0``: any free port."""
    import uvicorn

    app = create_app(session)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)  # listening before the URL is printed: a request sent at once waits, not refused
    except OSError as exc:
        raise ValueError(f"argument --port: cannot listen on {host}:{port} ({exc.strerror})") from None
    url = f"http://{host}:{sock.getsockname()[1]}/?token={app.state.token}"
    print(f"open {url}  (Ctrl-C stops; the session is saved after every answer)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    server.run(sockets=[sock])
    return 0
