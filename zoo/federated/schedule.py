"""Who takes part in a round, how long they take: client availability and sampling, per-client local steps,
and a simulated clock (compute time and bandwidth per client) with a round deadline for stragglers.

Each round the server samples ``m`` clients without replacement among those *available* (client ``i`` is
available with probability ``availability[i]``), with probabilities proportional to ``sampling[i]`` (uniform by
default; FedML and Flower's samplers do the same). The aggregate still weights the answering clients by the
problem's weights, renormalized.

The simulated clock (synchronous rounds): client ``i``'s round takes
``t_i = latency_i + bytes_down / bandwidth_i + compute_i * queries_i + bytes_up / bandwidth_i`` seconds. The
round lasts ``max_i t_i`` over the clients that answered; with a ``deadline`` the server stops waiting at the
deadline, and a client with ``t_i > deadline`` is a straggler: recorded as such, its queries counted (it made
them), its upload left out. ``History.clock`` is the cumulative simulated time, so curves against wall-clock time
can be drawn for any hardware mix, independent of the machine that runs the simulation.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def _per_client(value: Any, n: int, name: str, positive: bool = True) -> np.ndarray:
    arr = (
        np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        if np.ndim(value) == 0
        else np.asarray(value, dtype=np.float64).reshape(-1)
    )
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a number or one value per client ({n}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or (positive and np.any(arr == 0)):
        raise ValueError(
            f"{name} must be finite and {'positive' if positive else 'non-negative'}, got {arr.tolist()[:8]}"
        )
    return arr


@dataclasses.dataclass
class Clock:
    """Simulated time: ``compute`` seconds per query, ``bandwidth`` bytes per second, ``latency`` seconds per
    round trip (each a number or one value per client); ``deadline``: seconds the server waits (None: for all)."""

    compute: Any = 1e-3
    bandwidth: Any = 1e6
    latency: Any = 0.0
    deadline: float | None = None

    def bind(self, n: int) -> Clock:
        if self.deadline is not None and not (np.isfinite(self.deadline) and self.deadline > 0):
            raise ValueError(f"deadline must be a positive number of seconds, got {self.deadline!r}")
        return Clock(
            _per_client(self.compute, n, "compute", positive=False),
            _per_client(self.bandwidth, n, "bandwidth"),
            _per_client(self.latency, n, "latency", positive=False),
            self.deadline,
        )

    def times(self, ids: np.ndarray, queries: np.ndarray, down: np.ndarray, up: np.ndarray) -> np.ndarray:
        return self.latency[ids] + (down + up) / self.bandwidth[ids] + self.compute[ids] * queries


def sample(
    rng: np.random.Generator, m: int, available: np.ndarray, sampling: np.ndarray | None
) -> np.ndarray:
    """Sorted ids of ``m`` clients (or all available ones if fewer) among ``available``."""
    pool = np.flatnonzero(available)
    if len(pool) <= m:
        return pool
    if sampling is None:
        return np.sort(rng.choice(pool, m, replace=False))
    p = sampling[pool]
    if not p.sum() > 0:
        return np.sort(rng.choice(pool, m, replace=False))
    k = min(m, int(np.count_nonzero(p)))
    return np.sort(rng.choice(pool, k, replace=False, p=p / p.sum()))


def local_steps(value: Any, n: int) -> np.ndarray | None:
    """Per-client local steps (a number or one int per client, each >= 1), or None for the algorithm's own."""
    if value is None:
        return None
    arr = np.asarray(value)
    arr = np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr.reshape(-1)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1):
        raise ValueError(
            f"local_steps must be a positive int or one positive int per client ({n}), got {value!r}"
        )
    return arr.astype(np.int64)
