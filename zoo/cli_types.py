"""argparse types and the parser class of the ``zoo`` command: a bad argument is one line, never a traceback.

Each type raises ``argparse.ArgumentTypeError`` with what was expected; argparse adds the argument's name, and
:class:`Parser` prints that as one line (``zoo train: error: argument --epochs: must be a positive int, got
0 (see zoo train --help)``) and exits with status 2. Sub-command modules use these types for their flags.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int, got {text!r}") from None


def _float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def positive_int(text: str) -> int:
    """An int >= 1 (a count: dimension, budget, epochs, rounds, clients)."""
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive int, got {v}")
    return v


def nonnegative_int(text: str) -> int:
    """An int >= 0 (a seed)."""
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {v}")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate, a step size)."""
    v = _float(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text}")
    return v


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    v = _float(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return v


def fraction(text: str) -> float:
    """A number in [0, 1) (a share left out, such as a sparsity)."""
    v = _float(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return v
