"""A real ``zoo rank --web`` server in a subprocess (uvicorn on a free port), for the restart and browser tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `zoo rank` without the other plugins' parsers (zoo.torch's imports torch: slow to start)
RUNNER = (
    "import argparse, sys; sys.path.insert(0, {root!r}); from zoo.session.cli import add_cli; "
    "p = argparse.ArgumentParser(prog='zoo'); add_cli(p.add_subparsers()); "
    "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))"
)


class WebServer:
    """``start(*flags)`` runs ``zoo rank --web --port 0 <flags>`` in ``folder`` and returns the printed URL
    (``launch`` then ``url``: something else may be done while the server starts); ``kill()`` stops it as a
    crash would (SIGKILL: no clean shutdown)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    def start(self, *flags: str) -> str:
        self.launch(*flags)
        return self.url()

    def launch(self, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUNNER.format(root=str(ROOT)), "rank", "--web", "--port", "0", *flags],
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def url(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("open http"):
                return line.split()[1]
        self.kill()
        raise AssertionError(f"zoo rank --web did not print its URL: {self.proc.stderr.read()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def web_server(tmp_path):
    server = WebServer(tmp_path)
    yield server
    server.kill()
