"""A person-in-the-loop ranking session: ZO-RankSGD driven by a person's rankings, saved after every round.

    from zoo.session import RankingSession
    s = RankingSession.create("my.npz", problem="colour", target="#ff8800")   # or load("my.npz")
    s.run(rounds=10)            # shows candidates, reads "3 1 4" / "3>1, 1>4" from the terminal

Each round is one ``ask``/``tell`` of ``rank-sgd``: either an estimation round (``m`` candidates around the
current pick) or a step-size round (candidate 1 is the current pick, the others are steps of decreasing
length along the estimated direction). Candidates are shown in batch order, numbered 1..n; the answer is
mapped to batch indices 0..n-1 without any shuffling, so the bookkeeping cannot lose the mapping.

The session file (``.npz``, :mod:`zoo.core.checkpoint`, no pickle) holds the optimizer's ``state_dict`` and
the session's metadata: the problem, options, seed, round number and every answer given. It is rewritten
after each round, so the session can be interrupted at any prompt (``q``, Ctrl-D, Ctrl-C) and resumed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from zoo.core import checkpoint
from zoo.session.answers import AnswerError, parse_answer
from zoo.session.render import ColourRenderer, ImageRenderer, TextRenderer, colour_of, parse_hex

FORMAT = "zoo-ranking-session/1"
#: rank-sgd options for a person: few candidates per round, perceptible perturbations, short searches
PERSON_DEFAULTS: dict[str, Any] = {"popsize": 4, "mu": 0.5, "n_trials": 3, "eta": 1.5, "direction": "unit"}
COLOUR_DIM = 3


def load_callable(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` or ``"path/to/file.py:function"``."""
    if ":" not in spec:
        raise ValueError(f"a renderer is given as module:function or file.py:function, got {spec!r}")
    mod_name, fn_name = spec.rsplit(":", 1)
    if mod_name.endswith(".py"):
        path = Path(mod_name)
        if not path.exists():
            raise ValueError(f"renderer file {mod_name!r} does not exist")
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")  # let a person name a module in the current folder
        module = importlib.import_module(mod_name)
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise ValueError(f"{spec!r}: {mod_name} has no function {fn_name!r}")
    return fn


class RankingSession:
    """Rounds of candidates shown to a person; answers told to ``rank-sgd``; saved after every round."""

    def __init__(
        self,
        path: str | Path,
        optimizer: zoo.Method,
        renderer: Callable[[np.ndarray, dict[str, Any]], str],
        meta: dict[str, Any],
    ) -> None:
        self.path = Path(path)
        self.opt = optimizer
        self.renderer = renderer
        self.meta = meta

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        problem: str = "colour",
        x0: Any = None,
        dim: int | None = None,
        target: str | None = None,
        seed: int = 0,
        options: dict[str, Any] | None = None,
        image_dir: str | Path | None = None,
        ansi: bool = True,
        renderer: Callable[[np.ndarray, dict[str, Any]], str] | None = None,
    ) -> RankingSession:
        """A new session. ``problem``: ``"colour"`` (find a colour you have in mind; 3 numbers mapped to RGB)
        or ``"module:function"`` whose ``function(x)`` returns a text (shown as is) or an image array
        (written as PNG); ``renderer`` (Python API) overrides how candidates are shown."""
        if target is not None:
            parse_hex(target)  # fail early on a malformed colour
        opts = {**PERSON_DEFAULTS, **(options or {})}
        if "m" in opts:  # rank-sgd's old name of popsize (session files and `zoo rank --m` still say m)
            opts["popsize"] = opts.pop("m")
        if problem == "colour":
            if dim not in (None, COLOUR_DIM):
                raise ValueError(f"the colour problem has dim {COLOUR_DIM} (R, G, B), got dim={dim}")
            dim = COLOUR_DIM
        elif renderer is None:
            load_callable(problem)  # validate now rather than at the first round
        if x0 is None:
            if dim is None:
                raise ValueError("give dim= (or x0=) for a problem other than 'colour'")
            x0 = np.zeros(int(dim))
        x0 = np.asarray(x0, dtype=np.float64)
        opt = zoo.make("rank-sgd", x0=x0, seed=seed, **opts)
        meta = {
            "format": FORMAT,
            "problem": problem,
            "x0": x0.tolist(),
            "seed": int(seed),
            "options": json.dumps(opts),
            "target": target or "",
            "image_dir": str(image_dir or Path(path).with_suffix("").as_posix() + "-images"),
            "ansi": bool(ansi),
            "round": 0,
            "answers": [],
        }
        session = cls(path, opt, renderer or _renderer_for(meta), meta)
        session.save()
        return session

    @classmethod
    def load(
        cls, path: str | Path, renderer: Callable[[np.ndarray, dict[str, Any]], str] | None = None
    ) -> RankingSession:
        """Resume a saved session (the renderer is rebuilt from the saved problem unless given)."""
        path = Path(path)
        if not path.exists():
            raise ValueError(f"no session file at {path}")
        data = checkpoint.load(path)
        meta = data.get("session", {})
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not a zoo ranking session (format {meta.get('format')!r})")
        opt = zoo.make(
            "rank-sgd", x0=np.asarray(meta["x0"]), seed=int(meta["seed"]), **json.loads(meta["options"])
        )
        opt.load_state_dict(data["optimizer"])
        meta["answers"] = list(meta.get("answers") or [])
        return cls(path, opt, renderer or _renderer_for(meta), meta)

    def save(self) -> Path:
        """Write the optimizer state and the session metadata (atomic)."""
        return checkpoint.save(self.path, {"optimizer": self.opt.state_dict(), "session": self.meta})

    # ------------------------------------------------------------------ one round
    @property
    def round(self) -> int:
        return int(self.meta["round"])

    @property
    def pick(self) -> np.ndarray:
        """The current pick (the iterate): the best candidate known from the answers so far."""
        return self.opt.state.x.copy()

    def candidates(self) -> np.ndarray:
        """This round's candidates (the pending batch; the same until answered)."""
        return self.opt.ask()

    def show(self) -> str:
        X = self.candidates()
        phase = self.opt.phase
        what = (
            "new candidates around the current pick"
            if phase == "estimate"
            else "step size: [1] is the current pick, the others are steps of decreasing length"
        )
        head = f"Round {self.round + 1} ({what})"
        body = self.renderer(X, {"round": self.round + 1, "phase": phase, "folder": self.path.parent})
        return f"{head}\n{body}"

    def answer(self, answer: str | dict[str, Any]) -> None:
        """Tell this round's answer (text as typed, or ``{"ranking": [...]}`` / ``{"pairs": [...]}`` with
        0-based indices) and save. A malformed answer raises ``ValueError`` and changes nothing."""
        X = self.candidates()
        feedback = parse_answer(answer, len(X)) if isinstance(answer, str) else dict(answer)
        self.opt.tell(X, **feedback)
        self.meta["answers"].append(answer if isinstance(answer, str) else json.dumps(_plain_json(feedback)))
        self.meta["round"] = self.round + 1
        self.save()

    def describe_pick(self) -> str:
        return self.renderer(
            self.pick[None, :], {"round": self.round, "phase": "pick", "folder": self.path.parent}
        )

    # ------------------------------------------------------------------ the terminal loop
    def run(
        self,
        rounds: int | None = None,
        *,
        read: Callable[[str], str] = input,
        write: Callable[[str], Any] = print,
        auto: Callable[[np.ndarray], str] | None = None,
    ) -> int:
        """Show rounds and read answers until ``rounds`` more are done, the person types ``q``, or input ends.
        ``auto(X) -> answer`` answers instead of a person (demos). Returns the number of rounds answered."""
        done = 0
        prompt = "your ranking, best first (e.g. 3 1 4, or 3>1, 1>4; q to stop): "
        while rounds is None or done < rounds:
            write("")
            write(self.show())
            while True:
                if auto is not None:
                    text = auto(self.candidates())
                    write(prompt + text)
                else:
                    try:
                        text = read(prompt)
                    except (EOFError, KeyboardInterrupt):
                        write("")
                        return self._leave(done, write)
                if text.strip().lower() in ("q", "quit", "exit"):
                    return self._leave(done, write)
                try:
                    self.answer(text)
                except (AnswerError, ValueError) as exc:
                    write(f"  not understood: {exc}. Please answer again.")
                    if auto is not None:
                        raise
                    continue
                break
            done += 1
            c = self.opt.state
            extra = f", {c.n_cycles} inconsistent answer cycle(s) so far" if c.n_cycles else ""
            write(f"  saved round {self.round} to {self.path}{extra}")
        write("")
        write("current pick:")
        write(self.describe_pick())
        return done

    def _leave(self, done: int, write: Callable[[str], Any]) -> int:
        self.save()
        write(
            f"session saved to {self.path} after round {self.round}; "
            f"resume with: zoo rank --session {self.path}"
        )
        return done


def colour_auto_answer(target: str) -> Callable[[np.ndarray], str]:
    """A simulated person for the colour problem: ranks candidates by RGB distance to ``target``."""
    goal = np.array(parse_hex(target), dtype=np.float64)

    def answer(X: np.ndarray) -> str:
        dist = [float(np.linalg.norm(np.array(colour_of(x)) - goal)) for x in X]
        return " ".join(str(i + 1) for i in np.argsort(dist, kind="stable"))

    return answer


def _renderer_for(meta: dict[str, Any]) -> Callable[[np.ndarray, dict[str, Any]], str]:
    if meta["problem"] == "colour":
        target = parse_hex(meta["target"]) if meta.get("target") else None
        return ColourRenderer(target, ansi=bool(meta.get("ansi", True)))
    fn = load_callable(meta["problem"])
    sample = fn(np.asarray(meta["x0"], dtype=np.float64))
    if isinstance(sample, np.ndarray) and sample.ndim in (2, 3):
        return ImageRenderer(fn, meta["image_dir"])
    return TextRenderer(fn)


def _plain_json(feedback: dict[str, Any]) -> dict[str, Any]:
    return {k: np.asarray(v).tolist() for k, v in feedback.items()}
