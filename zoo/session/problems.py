"""Built-in problems of ``zoo rank`` and how any problem's candidate becomes a PNG (``render(x) -> bytes``).

- ``colour`` (dim 3): ``RGB = 255 * sigmoid(x)``, shown as a swatch (:func:`zoo.session.render.colour_of`);
- ``shape`` (dim 4): a closed parametric shape, the polar curve
  ``r(t) = 0.5 + 0.22 tanh(x0) cos 2t + 0.16 tanh(x1) cos 3t + 0.12 tanh(x2) sin 5t``, filled, with its hue
  set by ``x3`` (``x = 0`` is a grey-blue disc). Smooth in ``x``, so small steps give small visible changes.

A person's own problem ``module:function`` returns a text (terminal only), an image array ``(H, W)`` /
``(H, W, 3)`` in [0, 1] or uint8, or PNG bytes; :func:`png_renderer` turns the last two into PNG bytes for the
web page.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.session.render import colour_of, png_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def colour_image(x: np.ndarray, size: int = 96) -> np.ndarray:
    """The colour problem's candidate as a square swatch (uint8 RGB)."""
    return np.broadcast_to(np.array(colour_of(x), dtype=np.uint8), (size, size, 3)).copy()


def shape_image(x: np.ndarray, size: int = 96) -> np.ndarray:
    """The ``shape`` problem's candidate: the filled polar curve of the module docstring (uint8 RGB)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.tanh(x[:3])
    yy, xx = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    rho, t = np.hypot(xx, yy), np.arctan2(yy, xx)
    r = 0.5 + 0.22 * a[0] * np.cos(2 * t) + 0.16 * a[1] * np.cos(3 * t) + 0.12 * a[2] * np.sin(5 * t)
    hue = (0.6 + 0.5 * np.tanh(x[3])) % 1.0
    fill = np.array(colorsys.hsv_to_rgb(hue, 0.65, 0.85)) * 255
    img = np.full((size, size, 3), 245.0)
    img[rho <= r] = fill
    return img.astype(np.uint8)


#: name -> (dimension, ``draw(x) -> image array``)
BUILTIN: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "colour": (3, colour_image),
    "shape": (4, shape_image),
}


def as_png(image: Any, what: str) -> bytes:
    """PNG bytes from what a problem returned (PNG bytes as they are, or an image array)."""
    if isinstance(image, (bytes, bytearray)):
        if not bytes(image).startswith(PNG_SIGNATURE):
            raise ValueError(f"{what} returned bytes that are not a PNG")
        return bytes(image)
    if isinstance(image, np.ndarray) and image.ndim in (2, 3):
        return png_bytes(image)
    raise ValueError(
        f"{what} returned {type(image).__name__}; the web page shows images: return an image array "
        "(H, W) / (H, W, 3) or PNG bytes"
    )


def png_renderer(problem: str) -> Callable[[np.ndarray], bytes]:
    """``render(x) -> PNG bytes`` for a built-in problem or ``module:function``."""
    if problem in BUILTIN:
        draw = BUILTIN[problem][1]
        return lambda x: png_bytes(draw(x))
    from zoo.session.session import load_callable

    fn = load_callable(problem)
    return lambda x: as_png(fn(np.asarray(x, dtype=np.float64)), f"problem {problem!r}")
