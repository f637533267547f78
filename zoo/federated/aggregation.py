"""Robust aggregation and adversarial clients.

The algorithms aggregate with weighted means (FedAvg). With ``aggregator="median"`` or ``"trimmed-mean"`` the
simulator first replaces every upload array by its coordinate-wise robust combination over the clients that
answered, then hands ``len(uploads)`` identical copies to the algorithm's own ``aggregate`` (so an algorithm that
counts its participants, like SCAFFOLD's ``|S| / N``, still counts them):

- coordinate-wise median (Yin et al., ICML 2018): ``med_j = median_i u_ij`` (unweighted);
- coordinate-wise trimmed mean (Yin et al. 2018): drop the ``ceil(trim * n)`` largest and smallest values of each
  coordinate, average the rest (unweighted; with ``trim=0`` it is the plain mean).

Adversarial clients (``adversaries=[ids]``) answer their queries honestly but corrupt their upload before it is
sent: ``"sign-flip"`` sends ``ref - scale * (u - ref)`` (the reversed, amplified update; ``ref`` is the broadcast
value of the same key, or 0), ``"noise"`` sends ``u + scale * N(0, I)`` drawn from (seed, round, client).
"""

from __future__ import annotations

import math

import numpy as np

AGGREGATORS = ("mean", "median", "trimmed-mean")
ATTACKS = ("sign-flip", "noise")


def check(aggregator: str, trim: float, attack: str) -> None:
    if aggregator not in AGGREGATORS:
        raise ValueError(f"aggregator must be one of {AGGREGATORS}, got {aggregator!r}")
    if not (np.isfinite(trim) and 0.0 <= trim < 0.5):
        raise ValueError(f"trim must be a fraction in [0, 0.5), got {trim!r}")
    if attack not in ATTACKS:
        raise ValueError(f"attack must be one of {ATTACKS}, got {attack!r}")


def trimmed_mean(stack: np.ndarray, trim: float) -> np.ndarray:
    """Coordinate-wise mean of ``stack`` (n, ...) without its ``ceil(trim n)`` extremes on each side."""
    n = stack.shape[0]
    k = min(math.ceil(trim * n), (n - 1) // 2)
    s = np.sort(stack, axis=0)
    return s[k : n - k].mean(axis=0)


def robust_uploads(
    uploads: list[dict[str, np.ndarray]], aggregator: str, trim: float
) -> list[dict[str, np.ndarray]]:
    """The uploads replaced by ``len(uploads)`` copies of their coordinate-wise robust combination."""
    if aggregator == "mean" or len(uploads) < 3:
        return uploads
    keys = set(uploads[0]).intersection(*uploads[1:])
    combined = {}
    for key in keys:
        stack = np.stack([np.asarray(u[key], dtype=np.float64) for u in uploads])
        combined[key] = np.median(stack, axis=0) if aggregator == "median" else trimmed_mean(stack, trim)
    return [{**u, **combined} for u in uploads]


def corrupt(
    upload: dict[str, np.ndarray],
    message: dict[str, np.ndarray],
    attack: str,
    scale: float,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    out = {}
    for key, u in upload.items():
        if attack == "sign-flip":
            ref = message.get(key, np.zeros_like(u))
            ref = ref if np.shape(ref) == np.shape(u) else np.zeros_like(u)
            out[key] = ref - scale * (u - ref)
        else:
            out[key] = u + scale * rng.standard_normal(np.shape(u))
    return out
