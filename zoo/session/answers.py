"""Parse a person's answer about a round of candidates (labels 1..n on screen, indices 0..n-1 in zoo).

Accepted forms (spaces, commas and semicolons separate):

- a ranking, best first: ``"3 1 4"`` or ``"3,1,4"`` (top-k: unnamed candidates rank below the named ones);
- comparisons: ``"3>1, 1>4"``, chains ``"3>1>4"``, and ``"2<3"`` (3 beats 2); they may be inconsistent
  (``"1>2, 2>1"``): the estimator counts such cycles and still uses the rest.

Anything else raises :class:`AnswerError` (a ``ValueError``) whose message says what was wrong and what is
expected; the session prints it and asks again.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\d+")


class AnswerError(ValueError):
    """The answer could not be read; the message says why and what is expected."""


def _label(token: str, n: int) -> int:
    token = token.strip()
    if not token:
        raise AnswerError("an empty name in a comparison; write e.g. '3>1'")
    if not _TOKEN.fullmatch(token):
        raise AnswerError(f"{token!r} is not a candidate number; use the numbers 1..{n} shown in brackets")
    k = int(token)
    if not 1 <= k <= n:
        raise AnswerError(f"there is no candidate {k}; the candidates are numbered 1..{n}")
    return k - 1


def parse_answer(text: str, n: int) -> dict[str, Any]:
    """``{"ranking": [...]}`` or ``{"pairs": [(winner, loser), ...]}`` with 0-based indices into the batch."""
    text = text.strip()
    if not text:
        raise AnswerError(f"empty answer; rank the candidates best first, e.g. '{_example(n)}'")
    if ">" in text or "<" in text:
        return {"pairs": _parse_pairs(text, n)}
    tokens = [t for t in re.split(r"[\s,;]+", text) if t]
    ranking = [_label(t, n) for t in tokens]
    seen: set[int] = set()
    for r in ranking:
        if r in seen:
            raise AnswerError(f"candidate {r + 1} is named twice; name each candidate at most once")
        seen.add(r)
    return {"ranking": ranking}


def _parse_pairs(text: str, n: int) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    for chunk in (c for c in re.split(r"[,;]+", text) if c.strip()):
        parts = re.split(r"\s*([<>])\s*", chunk.strip())
        if len(parts) < 3:
            raise AnswerError(f"{chunk.strip()!r} is not a comparison; write 'a>b' (a is better than b)")
        labels = [_label(p, n) for p in parts[0::2]]
        for left, op, right in zip(labels, parts[1::2], labels[1:]):
            winner, loser = (left, right) if op == ">" else (right, left)
            if winner == loser:
                raise AnswerError(f"'{winner + 1}{op}{winner + 1}' compares a candidate with itself")
            pairs.append((winner, loser))
    if not pairs:
        raise AnswerError(f"no comparison found; write e.g. '{_example(n)}' or '2>1, 1>3'")
    return pairs


def _example(n: int) -> str:
    return " ".join(str(i) for i in [3, 1, 2, 4][: max(min(n, 4), 1)] if i <= n) or "1"
