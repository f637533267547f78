"""Built-in problems of ``zoo rank`` and how any problem's candidate becomes a PNG (``render(x) -> bytes``).

- ``colour`` (dim 3): ``RGB = 255 * sigmoid(x)``, shown as a swatch (:func:`zoo.session.render.colour_of`);
- ``shape`` (dim 4): a closed parametric shape, the polar curve
  ``r(t) = 0.5 + 0.22 tanh(x0) cos 2t + 0.16 tanh(x1) cos 3t + 0.12 tanh(x2) sin 5t``, filled, with its hue
  set by ``x3`` (``x = 0`` is a grey-blue disc). Smooth in ``x``, so small steps give small visible changes.
- ``landscape`` (dim 6): a small procedural image, a sky, a sun and a range of hills
  (:func:`landscape_image`): the sky's hue (``x0``), the sun's height and size (``x1``, ``x2``), the hills'
  height and roughness (``x3``, ``x4``) and the ground's hue (``x5``). Every edge is anti-aliased over about
  a pixel, so the image is a continuous function of ``x``: a small step changes it a little, never a jump.

A person's own problem ``module:function`` returns a text (terminal only), an image array ``(H, W)`` /
``(H, W, 3)`` in [0, 1] or uint8, or PNG bytes; :func:`png_renderer` turns the last two into PNG bytes for the
web page.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.session.callables import load_callable
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


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


def landscape_image(x: np.ndarray, size: int = 96) -> np.ndarray:
    """The ``landscape`` problem's candidate (uint8 RGB): every parameter enters through ``tanh``, so any real
    ``x`` is a picture and ``x = 0`` a blue noon sky over green hills.

    - sky: a vertical gradient, hue ``0.58 + 0.3 tanh(x0)`` at the top, paler and warmer at the horizon
      (orange as the sun sets: weight ``((1 - tanh x1) / 2)^2``);
    - sun: a disc at height ``0.55 + 0.35 tanh(x1)`` (0 = horizon, 1 = top), radius ``0.12 + 0.07 tanh(x2)``;
    - hills: ``y(u) = 0.3 + 0.15 tanh(x3) + a (0.6 sin(2 pi (1.3 u + 0.1)) + 0.4 sin(2 pi (3.1 u + 0.7)))``
      with roughness ``a = 0.07 + 0.06 tanh(x4)``; ground hue ``0.3 + 0.2 tanh(x5)``, darker at the bottom.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.tanh(x[:6])
    px = 1.0 / size  # the width of an anti-aliased edge: one pixel
    v, u = np.mgrid[1.0 : 0.0 : size * 1j, 0.0 : 1.0 : size * 1j]  # v: height (1 top), u: left to right
    sun_y = 0.55 + 0.35 * t[1]
    warm = (0.5 * (1.0 - t[1])) ** 2  # a low sun warms the horizon (0 high, 1 at the horizon)
    top = _hsv(0.58 + 0.3 * t[0], 0.75, 0.85)
    horizon = (1 - warm) * _hsv(0.58 + 0.3 * t[0], 0.3, 1.0) + warm * _hsv(0.07, 0.8, 1.0)
    img = horizon + (top - horizon) * v[:, :, None]  # the sky
    r = 0.12 + 0.07 * t[2]
    sun = np.clip((r - np.hypot(u - 0.68, v - sun_y)) / px + 0.5, 0.0, 1.0)[:, :, None]
    img = img * (1 - sun) + _hsv(0.14 - 0.1 * warm, 0.25 + 0.6 * warm, 1.0) * sun
    a = 0.07 + 0.06 * t[4]
    ridge = (
        0.3
        + 0.15 * t[3]
        + a * (0.6 * np.sin(2 * np.pi * (1.3 * u + 0.1)) + 0.4 * np.sin(2 * np.pi * (3.1 * u + 0.7)))
    )
    ground = np.clip((ridge - v) / px + 0.5, 0.0, 1.0)[:, :, None]
    soil = _hsv(0.3 + 0.2 * t[5], 0.6, 0.65) * (0.55 + 0.45 * (v / np.maximum(ridge, px))[:, :, None])
    img = img * (1 - ground) + soil * ground
    return np.round(np.clip(img, 0.0, 1.0) * 255).astype(np.uint8)


#: name -> (dimension, ``draw(x) -> image array``)
BUILTIN: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "colour": (3, colour_image),
    "shape": (4, shape_image),
    "landscape": (6, landscape_image),
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
    fn = load_callable(problem)
    return lambda x: as_png(fn(np.asarray(x, dtype=np.float64)), f"problem {problem!r}")
