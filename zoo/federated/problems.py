"""Federated problems: a list of client objectives with weights, ``F(x) = sum_i w_i f_i(x)``.

Client ``i`` can query only its own ``f_i`` (a vectorized callable ``f_i(X) -> (n,)`` for ``X`` of shape
``(n, d)``); the server never queries anything. ``F`` is evaluated by the simulator for the report only.

Built-ins:

- :func:`quadratic`: the heterogeneous quadratic of the FZooS setup (Shu et al., 2023): d=300, 5 clients,
  ``f_i(x) = 1/2 sum_k a_ik (x_k - c_ik)^2`` where the curvature of every coordinate is split among the clients
  by a Dirichlet draw (concentration ``(1 - h) / h`` for heterogeneity ``h``) and the client optima are spread
  by ``h``; its minimum ``F*`` is known in closed form.
- :func:`ackley`, :func:`levy`: ``f_i(x) = s_i * g(x - shift_i)`` with client-specific shifts and scales.
- :func:`rosenbrock`: a shifted, scaled Rosenbrock mixture with unequal client weights.
- :func:`attack` (in :mod:`zoo.federated.attack`): a black-box adversarial perturbation against 10 classifiers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo import functions as _functions

Objective = Callable[[np.ndarray], np.ndarray]


@dataclasses.dataclass
class FederatedProblem:
    """Client objectives ``f_i`` with weights ``w_i`` (normalized to sum 1), a start point and optional box.

    ``batched`` (optional): ``batched(ids, X)`` evaluates clients ``ids`` at once, ``X`` of shape
    ``(C, n, d)`` -> ``(C, n)``; the local engine uses it to vectorize clients of the same kind. It must give
    the same numbers as calling the objectives one by one.
    """

    objectives: Sequence[Objective]
    weights: Any = None
    x0: Any = None
    dim: int | None = None
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    name: str = "problem"
    f_min: float | None = None
    batched: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    success: Callable[[np.ndarray], bool] | None = None  # e.g. "the attack fools most classifiers"
    evaluator: Callable[[np.ndarray], float] | None = None  # the report's F(x), separate from the clients

    def __post_init__(self) -> None:
        self.objectives = list(self.objectives)
        n = len(self.objectives)
        if n == 0:
            raise ValueError("a federated problem needs at least one client objective; got an empty list")
        for i, f in enumerate(self.objectives):
            if not callable(f):
                raise TypeError(f"client objective {i} must be callable f(X) -> (n,), got {type(f).__name__}")
        w = np.ones(n) if self.weights is None else np.asarray(self.weights, dtype=np.float64).reshape(-1)
        if w.shape != (n,):
            raise ValueError(f"weights must have one entry per client ({n}), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights must be finite and non-negative, got {w.tolist()}")
        total = float(w.sum())
        if not total > 0:
            raise ValueError(f"weights must sum to a positive number, got sum {total}")
        self.weights = w / total
        if self.x0 is None:
            if self.dim is None:
                raise ValueError("give x0 or dim")
            self.x0 = np.zeros(int(self.dim))
        self.x0 = np.asarray(self.x0, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(self.x0)):
            raise ValueError(f"x0 must be finite; got non-finite entries at {np.flatnonzero(~np.isfinite(self.x0))[:8].tolist()}")
        if self.dim is not None and int(self.dim) != self.x0.size:
            raise ValueError(f"dim={self.dim} disagrees with x0 of size {self.x0.size}")
        self.dim = int(self.x0.size)
        if self.bounds is not None:
            if len(self.bounds) != 2:
                raise ValueError(f"bounds must be a pair (lower, upper), got {len(self.bounds)} items")
            try:
                lo, hi = (np.broadcast_to(np.asarray(b, dtype=np.float64), (self.dim,)).copy() for b in self.bounds)
            except ValueError as exc:
                raise ValueError(f"bounds must be numbers or arrays of length {self.dim}: {exc}") from exc
            if np.any(np.isnan(lo)) or np.any(np.isnan(hi)):
                raise ValueError("bounds must not contain NaN")
            if np.any(lo > hi):
                k = np.flatnonzero(lo > hi)
                raise ValueError(f"bounds: lower > upper at coordinates {k[:8].tolist()} "
                                 f"(e.g. {lo[k[0]]} > {hi[k[0]]})")
            if np.any(self.x0 < lo) or np.any(self.x0 > hi):
                raise ValueError("x0 lies outside the bounds")
            self.bounds = (lo, hi)

    @property
    def n_clients(self) -> int:
        return len(self.objectives)

    def check_dimensions(self) -> None:
        """Query every client once at x0 (uncounted, at build time) so that a client expecting another
        dimension fails here with a clear message rather than mid-run."""
        X = self.x0[None, :]
        for i, f in enumerate(self.objectives):
            try:
                v = np.asarray(f(X), dtype=np.float64)
            except Exception as exc:  # noqa: BLE001 - re-raised with the client named
                raise ValueError(
                    f"client {i} failed on x0 of dimension {self.dim}: {type(exc).__name__}: {exc}"
                ) from exc
            if v.size != 1:
                raise ValueError(f"client {i} returned {v.size} values for 1 point of dimension {self.dim}")

    def global_value(self, x: np.ndarray) -> float:
        """``F(x) = sum_i w_i f_i(x)``: for the report only (never counted as a client query)."""
        X = np.asarray(x, dtype=np.float64).reshape(1, -1)
        if self.batched is not None:
            vals = self.batched(np.arange(self.n_clients), np.broadcast_to(X, (self.n_clients, 1, self.dim)))
            return float(self.weights @ vals[:, 0])
        return float(sum(w * float(np.asarray(f(X)).reshape(-1)[0]) for w, f in zip(self.weights, self.objectives)))


@dataclasses.dataclass
class GroupValue:
    """``F(x) = sum_i w_i f_i(x)`` computed from a vectorized client group: the built-ins' report evaluator,
    separate from the client objectives (which the simulator may wrap, time out or corrupt)."""

    group: Any
    weights: np.ndarray

    def __call__(self, x: np.ndarray) -> float:
        n = len(self.weights)
        X = np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(1, -1), (n, 1, np.size(x)))
        return float(self.weights @ self.group(np.arange(n), X)[:, 0])


@dataclasses.dataclass
class WeightedSum:
    """``F(x) = sum_i w_i f_i(x)`` over plain objectives (a report evaluator)."""

    objectives: list[Objective]
    weights: np.ndarray

    def __call__(self, x: np.ndarray) -> float:
        X = np.asarray(x, dtype=np.float64).reshape(1, -1)
        return float(sum(w * float(np.asarray(f(X)).reshape(-1)[0]) for w, f in zip(self.weights, self.objectives)))


# --------------------------------------------------------------------------- quadratic
@dataclasses.dataclass
class QuadraticClients:
    """``f_i(x) = 1/2 sum_k a_ik (x_k - c_ik)^2`` for every client at once (picklable, vectorized)."""

    curvature: np.ndarray  # (n_clients, d)
    center: np.ndarray  # (n_clients, d)

    def __call__(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        a = self.curvature[ids][:, None, :]
        c = self.center[ids][:, None, :]
        return 0.5 * np.sum(a * (X - c) ** 2, axis=-1)

    def client(self, i: int) -> Objective:
        return _OneClient(self, i)


@dataclasses.dataclass
class _OneClient:
    group: Any
    index: int

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[None, :]
        return self.group(np.array([self.index]), X[None])[0]


def quadratic(
    dim: int = 300, n_clients: int = 5, heterogeneity: float = 0.5, seed: int = 0, condition: float = 10.0
) -> FederatedProblem:
    """The heterogeneous quadratic (see the module docstring); ``heterogeneity`` in [0, 1)."""
    if not 0.0 <= heterogeneity < 1.0:
        raise ValueError(f"heterogeneity must be in [0, 1), got {heterogeneity}")
    if n_clients < 1 or dim < 1:
        raise ValueError(f"need n_clients >= 1 and dim >= 1, got n_clients={n_clients}, dim={dim}")
    rng = np.random.default_rng(seed)
    base = np.logspace(0.0, -np.log10(condition), dim)  # curvature of F per coordinate, 1 .. 1/condition
    if heterogeneity == 0.0 or n_clients == 1:
        share = np.full((n_clients, dim), 1.0 / n_clients)
    else:
        alpha = (1.0 - heterogeneity) / heterogeneity
        share = rng.dirichlet(np.full(n_clients, alpha), size=dim).T  # (n_clients, d), columns sum to 1
    curvature = n_clients * share * base + 1e-3  # a client sees every coordinate a little
    center = rng.standard_normal(dim) + 2.0 * heterogeneity * rng.standard_normal((n_clients, dim))
    group = QuadraticClients(curvature, center)
    w = np.full(n_clients, 1.0 / n_clients)
    a_bar = w @ curvature
    x_star = (w @ (curvature * center)) / a_bar
    f_star = float(w @ group(np.arange(n_clients), np.broadcast_to(x_star, (n_clients, 1, dim)))[:, 0])
    return FederatedProblem(
        [group.client(i) for i in range(n_clients)], w, x0=np.zeros(dim), name=f"quadratic-d{dim}",
        f_min=f_star, batched=group, evaluator=GroupValue(group, w),
    )


# --------------------------------------------------------------------------- shifted test functions
@dataclasses.dataclass
class ShiftedClients:
    """``f_i(x) = s_i * g(x - shift_i)`` for a zoo test function ``g`` (vectorized over clients)."""

    function: str
    shift: np.ndarray  # (n_clients, d)
    scale: np.ndarray  # (n_clients,)

    def __call__(self, ids: np.ndarray, X: np.ndarray) -> np.ndarray:
        g = _functions.get(self.function)
        C, n, d = X.shape
        Z = (X - self.shift[ids][:, None, :]).reshape(C * n, d)
        return self.scale[ids][:, None] * g(Z).reshape(C, n)

    def client(self, i: int) -> Objective:
        return _OneClient(self, i)


def _shifted(function: str, dim: int, n_clients: int, heterogeneity: float, seed: int, x0_scale: float):
    """``f_i(x) = s_i g(x - shift_i)`` with ``shift_i = argmin g + heterogeneity * N(0, I)`` and
    ``s_i = exp(heterogeneity * N(0, 1))``, equal client weights, ``x0 = argmin g + x0_scale * N(0, I)``.

    Client ``i``'s own minimizer is ``x_i* = shift_i + argmin g = 2 argmin g + heterogeneity * N(0, I)`` (the
    argument ``x - shift_i`` must equal ``argmin g``): near 0 for Ackley (``argmin g = 0``), near 2 (not 1) for
    Levy and Rosenbrock (``argmin g = 1``). ``x0`` is drawn around ``argmin g``, not around the clients' optima.
    The minimizer of ``F`` is not known in closed form (``f_min`` is None).
    """
    if n_clients < 1 or dim < 1:
        raise ValueError(f"need n_clients >= 1 and dim >= 1, got n_clients={n_clients}, dim={dim}")
    g = _functions.get(function)
    rng = np.random.default_rng(seed)
    shift = g.argmin(dim) + heterogeneity * rng.standard_normal((n_clients, dim))
    scale = np.exp(heterogeneity * rng.standard_normal(n_clients))
    group = ShiftedClients(function, shift, scale)
    x0 = g.argmin(dim) + x0_scale * rng.standard_normal(dim)
    return FederatedProblem(
        [group.client(i) for i in range(n_clients)], None, x0=x0, name=f"{function}-d{dim}", batched=group,
        evaluator=GroupValue(group, np.full(n_clients, 1.0 / n_clients)),
    )


def ackley(dim: int = 30, n_clients: int = 10, heterogeneity: float = 0.5, seed: int = 0) -> FederatedProblem:
    """Ackley with client-specific shifts (``heterogeneity`` * N(0, I)) and log-normal scales."""
    return _shifted("ackley", dim, n_clients, heterogeneity, seed, x0_scale=3.0)


def levy(dim: int = 30, n_clients: int = 10, heterogeneity: float = 0.5, seed: int = 0) -> FederatedProblem:
    """Levy with client-specific shifts and scales (client ``i``'s optimum at ``2 + heterogeneity * N(0, I)``,
    see :func:`_shifted`; x0 around 1)."""
    return _shifted("levy", dim, n_clients, heterogeneity, seed, x0_scale=3.0)


def rosenbrock(dim: int = 20, n_clients: int = 8, heterogeneity: float = 0.3, seed: int = 0) -> FederatedProblem:
    """A Rosenbrock mixture with unequal client weights: ``f_i(x) = s_i * rosenbrock(x - shift_i)``, client
    weights from a Dirichlet(1) draw (so some clients count several times more than others), x0 at -1 + noise,
    client ``i``'s optimum at ``2 + heterogeneity * N(0, I)`` (see :func:`_shifted`).
    """
    if not heterogeneity >= 0:
        raise ValueError(f"heterogeneity must be >= 0, got {heterogeneity}")
    p = _shifted("rosenbrock", dim, n_clients, heterogeneity, seed, x0_scale=0.5)
    rng = np.random.default_rng([seed, 0xF0E])
    w = rng.dirichlet(np.ones(n_clients))
    p.x0 = p.x0 - 2.0  # start across the valley, about 3 per coordinate from the client optima (near x = 2)
    return FederatedProblem(p.objectives, w, x0=p.x0, name=f"rosenbrock-mixture-d{dim}", batched=p.batched,
                            evaluator=GroupValue(p.batched, w / w.sum()))


def attack(n_clients: int = 10, epsilon: float = 0.3, image: int = 0, seed: int = 0) -> FederatedProblem:
    """Black-box adversarial attack on scikit-learn digits (see :mod:`zoo.federated.attack`)."""
    from zoo.federated.attack import attack_problem

    return attack_problem(n_clients=n_clients, epsilon=epsilon, image=image, seed=seed)


BUILTINS: dict[str, Callable[..., FederatedProblem]] = {
    "quadratic": quadratic, "ackley": ackley, "levy": levy, "rosenbrock": rosenbrock, "attack": attack,
}


def get(name: str, **kwargs: Any) -> FederatedProblem:
    if name not in BUILTINS:
        raise ValueError(f"unknown federated problem {name!r}; choose one of {sorted(BUILTINS)}")
    return BUILTINS[name](**kwargs)
