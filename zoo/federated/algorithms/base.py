"""What every federated algorithm shares: the four phases of a round, and RGE local steps over many clients.

A round (Konecny et al. 2016; McMahan et al. 2017): the server ``broadcast``s a message, each sampled client runs
``local_update`` (a few ZO steps on its own objective only), uploads a message, and the server ``aggregate``s the
uploads. Messages are dicts of float arrays: their sizes are the bytes the simulator counts each way.

Clients are processed as a stack: ``local_update`` receives ``C`` clients (all of them in the local engine, one
shard in Ray, one in Flower) and works on arrays of shape ``(C, d)``. Client ``i`` draws its random numbers from
its own generator, so its numbers do not depend on which other clients share its stack.

The local step is zoo's RGE with zoo's update rules, from the one estimate core called with one row per client
(vectorized across the stack): Gaussian directions read from the shared noise table (:mod:`zoo.kernels.noise`) at
offsets drawn from each client's generator, the forward estimate
``g = (1/q) sum_j (f(x + mu u_j) - f(x)) / mu u_j`` of :mod:`zoo.estimators.formulas.two_point` (non-finite
directions dropped, as in :class:`zoo.RGE`; ``tests/federated`` holds it equal to ``zoo.RGE``), then a
``zoo.updates`` transform (Adam by default) on the stacked iterates.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import numpy as np

from zoo.core.validate import check_int
from zoo.estimators.formulas import probes, two_point
from zoo.updates.base import make_rule, select


@dataclasses.dataclass(frozen=True)
class AlgoParams:
    local_steps: int = 10
    lr: float = 0.05
    update: str = "adam"
    q: int = 20
    mu: float = 0.01

    def check(self) -> None:
        for name in ("local_steps", "q"):
            check_int(getattr(self, name), name, 1)
        if not (np.isfinite(self.mu) and self.mu > 0):
            raise ValueError(f"mu (the smoothing radius) must be positive, got {self.mu!r}")
        make_rule(self.update, self.lr)


Message = dict[str, np.ndarray]


class FederatedAlgorithm(abc.ABC):
    """Base class: subclasses set ``name``/``Params`` and override the phases they change."""

    name: ClassVar[str] = "base"
    Params: ClassVar[type] = AlgoParams

    def __init__(self, **options: Any) -> None:
        fields = {f.name for f in dataclasses.fields(self.Params)}
        unknown = sorted(set(options) - fields)
        if unknown:
            raise TypeError(f"unknown option(s) {unknown} for {self.name}; valid options: {sorted(fields)}")
        self.params = self.Params(**options)
        self.params.check()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params})"

    # ------------------------------------------------------------------ server side
    def init_server(self, x0: np.ndarray, seed: int) -> dict[str, Any]:
        return {"x": x0.copy()}

    def broadcast(self, server: dict[str, Any], rnd: int) -> Message:
        return {"x": server["x"]}

    def aggregate(
        self, server: dict[str, Any], uploads: list[Message], weights: np.ndarray, rnd: int, n_clients: int
    ) -> dict[str, Any]:
        """Weighted average of the client iterates (weights renormalized over the clients that answered)."""
        return {**server, "x": weighted_mean(weights, uploads, "x")}

    # ------------------------------------------------------------------ client side
    def init_client(self, dim: int) -> dict[str, Any]:
        return {}

    @abc.abstractmethod
    def local_update(
        self,
        message: Message,
        states: list[dict[str, Any]],
        batch: Any,
        rngs: list[np.random.Generator],
        rnd: int,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[list[Message], list[dict[str, Any]]]:
        """One round of local steps on each client of the batch; returns their messages and states."""


# ---------------------------------------------------------------------- stacked RGE + update rule
def project(X: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    return X if bounds is None else np.clip(X, bounds[0], bounds[1])


def probe_points(
    x: np.ndarray,
    rngs: list[np.random.Generator],
    q: int,
    mu: float,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, tuple]:
    """The forward probe rows ``(C, q + 1, d)`` of every client (table directions at offsets drawn from each
    client's generator, clipped into the bounds) and the ``table`` the estimate needs."""
    offsets = probes.table_offsets(rngs, q, x.shape[1])
    X, scales = two_point.table_points(x, offsets, mu, "forward")
    return project(X, bounds), (offsets, scales, x.shape[1])


def client_estimates(
    batch: Any,
    x: np.ndarray,
    rngs: list[np.random.Generator],
    q: int,
    mu: float,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Forward RGE for every client of the stack: ``g`` (C, d) and ``ok`` (C,) (False: no usable direction or a
    non-finite f(x): the step is skipped, as ``zoo.RGE`` does). Costs ``q + 1`` queries a client. Clipped probes
    use the displacement actually queried."""
    X, table = probe_points(x, rngs, q, mu, bounds)
    values = batch(X)  # (C, q + 1)
    return two_point.estimate(values, mu, "forward", table=table, X=None if bounds is None else X)


def stacked_steps(
    x: np.ndarray,
    rule: Any,
    rule_state: dict[str, Any],
    g: np.ndarray,
    ok: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One update-rule step for the clients where ``ok`` (others keep x and the rule state)."""
    g = np.where(ok[:, None], g, 0.0)
    x_new, rs_new = rule.apply(x, g, rule_state)
    good = ok & np.all(np.isfinite(x_new), axis=1)  # an exploding step never poisons the iterate
    x_out = np.where(good[:, None], project(x_new, bounds), x)
    return x_out, select(good, rs_new, rule_state)


def weighted_mean(weights: np.ndarray, uploads: list[Message], key: str) -> np.ndarray:
    """``sum_i w_i u_i[key]`` with the weights renormalized: one matrix product over the stacked uploads."""
    w = weights / weights.sum()
    return w @ np.stack([u[key] for u in uploads])


def new_rule(params: AlgoParams) -> Any:
    return make_rule(params.update, params.lr)
