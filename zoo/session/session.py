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

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import zoo
from zoo.core import checkpoint
from zoo.session.answers import AnswerError, validate_answer
from zoo.session.callables import load_callable
from zoo.session.problems import BUILTIN
from zoo.session.render import ColourRenderer, ImageRenderer, TextRenderer, colour_of, parse_hex

FORMAT = "zoo-ranking-session/1"
#: rank-sgd options for a person: few candidates per round, perceptible perturbations, short searches
PERSON_DEFAULTS: dict[str, Any] = {"popsize": 4, "mu": 0.5, "n_trials": 3, "eta": 1.5, "direction": "unit"}
COLOUR_DIM = 3


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
        """A new session. ``problem``: ``"colour"`` (find a colour you have in mind; 3 numbers mapped to RGB),
        ``"shape"`` (a parametric shape), ``"landscape"`` (a small procedural image; both in
        :mod:`zoo.session.problems`) or ``"module:function"`` whose ``function(x)`` returns a text (shown as
        is), an image array or PNG bytes (written as PNG files); ``renderer`` (Python API) overrides how
        candidates are shown."""
        if target is not None:
            parse_hex(target)  # fail early on a malformed colour
        opts = {**PERSON_DEFAULTS, **(options or {})}
        if "m" in opts:  # rank-sgd's old name of popsize (session files and `zoo rank --m` still say m)
            opts["popsize"] = opts.pop("m")
        if problem in BUILTIN:
            if dim not in (None, BUILTIN[problem][0]):
                raise ValueError(f"the {problem} problem has dim {BUILTIN[problem][0]}, got dim={dim}")
            dim = BUILTIN[problem][0]
        elif renderer is None:
            load_callable(problem)  # validate now rather than at the first round
        if x0 is None:
            if dim is None:
                raise ValueError("give dim= (or x0=) for a problem other than 'colour'")
            x0 = np.zeros(int(dim))
        x0 = np.asarray(x0, dtype=np.float64)
        if x0.ndim != 1 or not len(x0) or not np.isfinite(x0).all():
            raise ValueError(f"x0 must be a non-empty list of finite numbers, got {x0.tolist()}")
        if dim is not None and len(x0) != dim:
            what = f"the {problem} problem" if problem in BUILTIN else f"dim={dim}"
            raise ValueError(f"x0 has {len(x0)} number(s) but {what} needs {dim}")
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
            "log": [],
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
        opt = _fresh_optimizer(meta)
        opt.load_state_dict(data["optimizer"])
        meta["answers"] = list(meta.get("answers") or [])
        meta["log"] = list(meta.get("log") or [])
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
        body = self._render(X, {"round": self.round + 1, "phase": phase, "folder": self.path.parent})
        return f"{head}\n{body}"

    def _render(self, X: np.ndarray, context: dict[str, Any]) -> str:
        try:
            return self.renderer(X, context)
        except Exception as exc:  # the person's own problem function: name it, keep the saved session
            raise ValueError(
                f"problem {self.meta['problem']!r} failed to show a candidate: {type(exc).__name__}: {exc} "
                f"(the session is saved after round {self.round})"
            ) from exc

    def answer(self, answer: str | dict[str, Any], *, source: str = "terminal") -> None:
        """Tell this round's answer (text as typed, or ``{"ranking": [...]}`` / ``{"pairs": [...]}`` with
        0-based indices, ties as in :func:`zoo.session.answers.validate_answer`) and save, logging the time
        and ``source``. A malformed answer raises :class:`AnswerError` (a ``ValueError``), changes nothing."""
        X = self.candidates()
        comparisons = validate_answer(answer, len(X))
        self.opt.tell(X, **comparisons.as_kwargs())
        stored = answer if isinstance(answer, str) else json.dumps(_plain_json(comparisons.as_kwargs()))
        self.meta["answers"].append(stored)
        self.meta["round"] = self.round + 1
        self._log("answer", source, answer=stored)
        self.save()

    def undo(self, *, source: str = "terminal") -> None:
        """Take back the last answer: the optimizer is rebuilt from the session's seed and the answers before
        it are told again (ask/tell are deterministic, so this is the state before that answer, bit for bit)."""
        if not self.meta["answers"]:
            raise AnswerError("there is no answer to undo: no round has been answered yet")
        keep = self.meta["answers"][:-1]
        opt = _fresh_optimizer(self.meta)
        for stored in keep:
            X = opt.ask()
            opt.tell(X, **validate_answer(_stored_answer(stored), len(X)).as_kwargs())
        self.opt = opt
        self.meta["answers"] = keep
        self.meta["round"] = len(keep)
        self._log("undo", source)
        self.save()

    def _log(self, event: str, source: str, **extra: Any) -> None:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
        self.meta["log"].append({"event": event, "round": self.round, "time": now, "source": source, **extra})

    def describe_pick(self) -> str:
        return self._render(
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


def _fresh_optimizer(meta: dict[str, Any]) -> zoo.Method:
    """The session's rank-sgd as it was before the first answer."""
    return zoo.make(
        "rank-sgd", x0=np.asarray(meta["x0"]), seed=int(meta["seed"]), **json.loads(meta["options"])
    )


def _stored_answer(stored: str) -> str | dict[str, Any]:
    """An answer as the session file keeps it: the typed text, or JSON (a text answer never starts with '{')."""
    return json.loads(stored) if stored.startswith("{") else stored


def _renderer_for(meta: dict[str, Any]) -> Callable[[np.ndarray, dict[str, Any]], str]:
    if meta["problem"] == "colour":
        target = parse_hex(meta["target"]) if meta.get("target") else None
        return ColourRenderer(target, ansi=bool(meta.get("ansi", True)))
    if meta["problem"] in BUILTIN:
        return ImageRenderer(BUILTIN[meta["problem"]][1], meta["image_dir"])
    fn = load_callable(meta["problem"])
    try:
        sample = fn(np.asarray(meta["x0"], dtype=np.float64))
    except Exception as exc:
        raise ValueError(
            f"problem {meta['problem']!r}: the function raised {type(exc).__name__}: {exc} (at x0)"
        ) from exc
    if (isinstance(sample, np.ndarray) and sample.ndim in (2, 3)) or isinstance(sample, (bytes, bytearray)):
        return ImageRenderer(fn, meta["image_dir"])
    return TextRenderer(fn)


def _plain_json(obj: Any) -> Any:
    """Numpy arrays and integers as plain lists and ints (ties keep their nested lists and '=' markers)."""
    if isinstance(obj, dict):
        return {k: _plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_plain_json(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
