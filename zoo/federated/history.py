"""The history of a federated run, and its file: one JSON line per round, written as the round ends.

Line 1 is a header (algorithm, problem, seed, clients, dimension) that a resumed run must match; each further line
is a round's record (``F``, ``x``, queries per client, bytes, faults, simulated clock, ...) together with the
server's state after the round. Client states (e.g. FZooS windows, SCAFFOLD control variates) go beside it in
``<path>.clients.npz``, replaced atomically each round. A run resumes from the last complete line; since every
random number is a function of (seed, round, client), a resumed run continues with the same numbers as an
uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass
class History:
    """Per round (round 0 = the start point): F(x), queries, bytes, faults. Arrays via the properties."""

    rounds: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    algorithm: str = ""
    problem: str = ""
    f_min: float | None = None
    stopped: str | None = None  # why the run stopped early ("budget"), None if it ran its rounds

    def _col(self, key: str) -> np.ndarray:
        return np.array([r[key] for r in self.rounds])

    @property
    def F(self) -> np.ndarray:
        """The report's ``F(x)`` after each round (NaN where it was off or could not be evaluated)."""
        return np.array([np.nan if r["F"] is None else r["F"] for r in self.rounds], dtype=np.float64)

    @property
    def queries(self) -> np.ndarray:
        """Cumulative client queries (all clients) after each round."""
        return np.cumsum(self._col("queries"))

    @property
    def bytes_up(self) -> np.ndarray:
        return self._col("bytes_up")

    @property
    def bytes_down(self) -> np.ndarray:
        return self._col("bytes_down")

    @property
    def clock(self) -> np.ndarray:
        """Simulated wall-clock time (seconds) at the end of each round (see :class:`zoo.federated.Clock`)."""
        return np.cumsum(self._col("clock"))

    @property
    def faults(self) -> list[list[tuple[int, str]]]:
        return [r["faults"] for r in self.rounds]

    @property
    def x(self) -> np.ndarray:
        return self.rounds[-1]["x"]

    def gap(self) -> np.ndarray:
        """``F - F*`` when the problem knows its minimum, else ``F``."""
        return self.F - (self.f_min or 0.0)


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            return np.array(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class HistoryFile:
    """Append-only JSON-lines file of a run (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, header: dict[str, Any]) -> None:
        self.path = Path(path)
        self.header = header

    @property
    def clients_path(self) -> Path:
        return self.path.with_name(self.path.name + ".clients.npz")

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "w") as f:
            f.write(json.dumps({"header": self.header}) + "\n")

    def append(
        self, record: dict[str, Any], server: dict[str, Any], client_states: dict[int, dict[str, Any]] | None
    ) -> None:
        line = json.dumps({"record": _encode(record), "server": _encode(server)}, allow_nan=True)
        with open(self.path, "a") as f:
            f.write(line + "\n")
            f.flush()
        if client_states is not None:  # after the line: a crash between the two resumes one round earlier
            arrays = {f"{i}/{k}": np.asarray(v) for i, s in client_states.items() for k, v in s.items()}
            arrays["__round__"] = np.array(record["round"])
            tmp = self.clients_path.with_name(self.clients_path.name + f".{os.getpid()}.tmp.npz")
            np.savez(tmp, **arrays)
            os.replace(tmp, self.clients_path)  # the states of the last round written, never half a file

    def load(self) -> tuple[list[dict[str, Any]], dict[str, Any], dict[int, dict[str, Any]]]:
        """``(records, server state, client states)`` of the last complete round in the file."""
        if not self.path.exists():
            raise FileNotFoundError(f"cannot resume: no history file {self.path}")
        lines = self.path.read_text().splitlines()
        try:
            header = json.loads(lines[0])["header"]
        except (IndexError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"cannot resume: {self.path} does not start with a zoo federated header"
            ) from exc
        for key, want in self.header.items():
            if header.get(key) != want:
                raise ValueError(
                    f"cannot resume from {self.path}: it was written with {key}={header.get(key)!r}, "
                    f"this run has {key}={want!r}"
                )
        records, servers, raw = [], [], []
        for line in lines[1:]:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut by a crash: resume from the round before it
            records.append(_decode(item["record"]))
            servers.append(_decode(item["server"]))
            raw.append(line)
        if not records:
            raise ValueError(f"cannot resume from {self.path}: it holds no complete round")
        for r in records:
            r["faults"] = [tuple(f) for f in r["faults"]]
        states: dict[int, dict[str, Any]] = {}
        if self.clients_path.exists():
            with np.load(self.clients_path) as f:
                last = int(f["__round__"])
                for key in f.files:
                    if key != "__round__":
                        i, name = key.split("/", 1)
                        states.setdefault(int(i), {})[name] = f[key]
            keep = [k for k, r in enumerate(records) if r["round"] <= last]
            records, servers, raw = records[: keep[-1] + 1], servers[: keep[-1] + 1], raw[: keep[-1] + 1]
        self.path.write_text("\n".join([lines[0], *raw]) + "\n")  # the resumed run appends after these
        return records, servers[-1], states
