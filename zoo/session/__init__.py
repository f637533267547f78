"""Person-in-the-loop optimization from rankings: :class:`RankingSession` (``zoo rank``), renderers."""

from zoo.session.answers import AnswerError, parse_answer
from zoo.session.render import ColourRenderer, ImageRenderer, TextRenderer, write_png
from zoo.session.session import RankingSession, colour_auto_answer

__all__ = [
    "AnswerError",
    "ColourRenderer",
    "ImageRenderer",
    "RankingSession",
    "TextRenderer",
    "colour_auto_answer",
    "parse_answer",
    "write_png",
]
