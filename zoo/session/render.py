"""Renderers: how the candidates of a round are shown to a person.

A renderer is any callable ``renderer(X, context) -> str``: ``X`` is the batch ``(n, d)`` (row ``i`` is shown
as candidate ``i + 1``, in batch order, never shuffled), ``context`` a dict with ``round``, ``phase`` and the
session folder; it returns the text to print (and may write files, e.g. PNGs).

- :class:`TextRenderer`: one line per candidate from ``describe(x) -> str`` (default: the coordinates).
- :class:`ColourRenderer`: the built-in colour problem, a 24-bit ANSI swatch plus the hex code.
- :class:`ImageRenderer`: ``draw(x) -> array (H, W) or (H, W, 3)`` in [0, 1] (or uint8), or PNG bytes, is
  written as a PNG per candidate (``<folder>/round-0003/candidate-1.png``); the text lists the files.

:func:`write_png` writes a PNG with the standard library only (zlib), so images need no extra package.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def write_png(path: str | Path, image: Any) -> Path:
    """Write ``image`` ((H, W) grey or (H, W, 3) RGB; floats in [0, 1] or uint8) as an 8-bit PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(image))
    return path


def png_bytes(image: Any) -> bytes:
    """``image`` ((H, W) grey or (H, W, 3) RGB; floats in [0, 1] or uint8) encoded as an 8-bit PNG."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"an image must have shape (H, W) or (H, W, 3), got {a.shape}")
    a = a[:, :, :3]
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0)
        a = np.round(a * 255).astype(np.uint8)
    h, w = a.shape[:2]
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    return png


class TextRenderer:
    """``[i] describe(x)`` per candidate; the default description is the rounded coordinates."""

    def __init__(self, describe: Callable[[np.ndarray], Any] | None = None, digits: int = 3) -> None:
        self.describe = describe
        self.digits = digits

    def __call__(self, X: np.ndarray, context: dict[str, Any]) -> str:
        lines = []
        for i, x in enumerate(X):
            text = str(self.describe(x)) if self.describe else np.array2string(x, precision=self.digits)
            lines.append(f"  [{i + 1}] {text}")
        return "\n".join(lines)


def colour_of(x: np.ndarray) -> tuple[int, int, int]:
    """The built-in colour problem's map: RGB = 255 * sigmoid(x) (x = 0 is mid grey)."""
    rgb = 255.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=np.float64)[:3], -30, 30)))
    r, g, b = (int(round(v)) for v in rgb)
    return r, g, b


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def parse_hex(text: str) -> tuple[int, int, int]:
    """``"#ff8800"`` or ``"ff8800"`` -> (255, 136, 0)."""
    s = text.strip().lstrip("#")
    if len(s) != 6 or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise ValueError(f"a colour is written as #RRGGBB (e.g. #ff8800), got {text!r}")
    return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)


def swatch(rgb: tuple[int, int, int], width: int = 10, ansi: bool = True) -> str:
    """A block of the colour (24-bit ANSI background) followed by its hex code and RGB numbers."""
    code = f"{hex_colour(rgb)}  (R {rgb[0]:3d}, G {rgb[1]:3d}, B {rgb[2]:3d})"
    if not ansi:
        return code
    r, g, b = rgb
    return f"\x1b[48;2;{r};{g};{b}m{' ' * width}\x1b[0m  {code}"


class ColourRenderer:
    """Candidates as colour swatches; ``target`` (optional) is shown above them for reference."""

    def __init__(self, target: tuple[int, int, int] | None = None, ansi: bool = True) -> None:
        self.target = target
        self.ansi = ansi

    def __call__(self, X: np.ndarray, context: dict[str, Any]) -> str:
        lines = []
        if self.target is not None:
            lines.append(f"  target {swatch(self.target, ansi=self.ansi)}")
        lines += [f"  [{i + 1}] {swatch(colour_of(x), ansi=self.ansi)}" for i, x in enumerate(X)]
        return "\n".join(lines)


class ImageRenderer:
    """Writes ``draw(x)`` of each candidate as a PNG under ``folder`` and lists the files."""

    def __init__(self, draw: Callable[[np.ndarray], Any], folder: str | Path = "zoo-rank-images") -> None:
        self.draw = draw
        self.folder = Path(folder)

    def __call__(self, X: np.ndarray, context: dict[str, Any]) -> str:
        if (
            context.get("phase") == "pick"
        ):  # its own file: a round's folder holds that round's candidates only
            path = self._write(self.folder / f"pick-after-round-{int(context.get('round', 0)):04d}.png", X[0])
            return f"  {path}"
        sub = self.folder / f"round-{int(context.get('round', 0)):04d}"
        images = [self.draw(x) for x in X]
        lines = [f"  images in {sub}/ (open them to compare)"]
        for i, img in enumerate(images):
            path = _write_image(sub / f"candidate-{i + 1}.png", img)
            lines.append(f"  [{i + 1}] {path}")
        if len(images) > 1 and not any(isinstance(im, (bytes, bytearray)) for im in images):
            sheet = write_png(sub / "all.png", contact_sheet([_as_rgb(im) for im in images]))
            lines.append(f"  all candidates side by side, 1 to {len(images)} from the left: {sheet}")
        return "\n".join(lines)

    def _write(self, path: Path, x: np.ndarray) -> Path:
        return _write_image(path, self.draw(x))


def _write_image(path: Path, image: Any) -> Path:
    """An image array as PNG, or PNG bytes (a problem may return them) as they are."""
    if isinstance(image, (bytes, bytearray)):
        if not bytes(image).startswith(b"\x89PNG\r\n\x1a\n"):
            raise ValueError("the problem returned bytes that are not a PNG")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(image))
        return path
    return write_png(path, _as_rgb(image))


def _as_rgb(image: Any) -> np.ndarray:
    a = np.asarray(image)
    if a.dtype != np.uint8:
        a = np.round(np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0) * 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] < 3:
        raise ValueError(f"an image must have shape (H, W) or (H, W, 3), got {a.shape}")
    return a[:, :, :3]


def contact_sheet(images: list[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images (uint8 RGB) left to right on one grey canvas, in candidate order."""
    h = max(im.shape[0] for im in images)
    w = sum(im.shape[1] for im in images) + gap * (len(images) + 1)
    sheet = np.full((h + 2 * gap, w, 3), 128, dtype=np.uint8)
    col = gap
    for im in images:
        sheet[gap : gap + im.shape[0], col : col + im.shape[1]] = im
        col += im.shape[1] + gap
    return sheet
