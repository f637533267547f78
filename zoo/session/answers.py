"""Parse a person's answer about a round of candidates (labels 1..n on screen, indices 0..n-1 in zoo).

Accepted forms (spaces, commas and semicolons separate):

- a ranking, best first: ``"3 1 4"`` or ``"3,1,4"`` (top-k: unnamed candidates rank below the named ones);
  ``=`` joins equally good candidates: ``"3=1 4"`` says 3 and 1 tie, both better than 4;
- comparisons: ``"3>1, 1>4"``, chains ``"3>1>4"``, ``"2<3"`` (3 beats 2) and ties ``"2=4"``; they may be
  inconsistent (``"1>2, 2>1"``): the estimator counts such cycles and still uses the rest.

Anything else raises :class:`AnswerError` (a ``ValueError``) whose message says what was wrong and what is
expected; the session prints it and asks again.
"""

from __future__ import annotations

import re
from typing import Any

from zoo.core.feedback import Comparisons, normalize_comparisons

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
    """``{"ranking": [...]}`` or ``{"pairs": [(winner, loser), ...]}`` with 0-based indices into the batch;
    a tie is a list of indices in the ranking (``[[2, 0], 3]``) or ``(a, "=", b)`` among the pairs (the forms
    of :func:`zoo.core.feedback.normalize_comparisons`)."""
    text = re.sub(r"\s*=\s*", "=", text.strip())
    if not text:
        raise AnswerError(f"empty answer; rank the candidates best first, e.g. '{_example(n)}'")
    if ">" in text or "<" in text:
        return {"pairs": _parse_pairs(text, n)}
    ranking: list[Any] = []
    seen: set[int] = set()
    for token in (t for t in re.split(r"[\s,;]+", text) if t):
        group = [_label(t, n) for t in token.split("=")]
        for r in group:
            if r in seen:
                raise AnswerError(f"candidate {r + 1} is named twice; name each candidate at most once")
            seen.add(r)
        ranking.append(group if len(group) > 1 else group[0])
    return {"ranking": ranking}


def _parse_pairs(text: str, n: int) -> list[tuple[Any, ...]]:
    pairs: list[tuple[Any, ...]] = []
    for chunk in (c for c in re.split(r"[,;]+", text) if c.strip()):
        parts = re.split(r"\s*([<>=])\s*", chunk.strip())
        if len(parts) < 3:
            raise AnswerError(f"{chunk.strip()!r} is not a comparison; write 'a>b' (a is better than b)")
        labels = [_label(p, n) for p in parts[0::2]]
        for left, op, right in zip(labels, parts[1::2], labels[1:]):
            if left == right:
                raise AnswerError(f"'{left + 1}{op}{left + 1}' compares a candidate with itself")
            if op == "=":
                pairs.append((left, "=", right))
            else:
                pairs.append((left, right) if op == ">" else (right, left))
    if not pairs:
        raise AnswerError(f"no comparison found; write e.g. '{_example(n)}' or '2>1, 1>3'")
    return pairs


def _example(n: int) -> str:
    return " ".join(str(i) for i in [3, 1, 2, 4][: max(min(n, 4), 1)] if i <= n) or "1"


def validate_answer(answer: Any, n: int) -> Comparisons:
    """Any answer (typed text, or ``{"ranking": [...]}`` / ``{"pairs": [...]}`` with 0-based indices, ties in
    the forms of :func:`zoo.core.feedback.normalize_comparisons`) checked against a round of ``n``
    candidates; raises :class:`AnswerError` saying what is wrong. The terminal and the web page call this."""
    if isinstance(answer, str):
        answer = parse_answer(answer, n)
    elif not isinstance(answer, dict):
        raise AnswerError(
            f"an answer is a text or {{'ranking': [...]}} / {{'pairs': [...]}}, got {type(answer).__name__}"
        )
    keys = sorted(answer)
    if keys not in (["ranking"], ["pairs"]):
        raise AnswerError(f"an answer has one key, 'ranking' or 'pairs', got keys {keys}")
    value = answer[keys[0]]
    if not isinstance(value, (list, tuple)):
        raise AnswerError(f"{keys[0]} must be a list of candidate indices, got {type(value).__name__}")
    try:
        return normalize_comparisons(n, **answer)
    except (TypeError, ValueError) as exc:
        raise AnswerError(str(exc)) from None
