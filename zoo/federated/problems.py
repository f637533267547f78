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
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo import functions as _functions
from zoo.federated.attack import attack_problem
from zoo.federated.problem import FederatedProblem, GroupValue, Objective, WeightedSum  # noqa: F401 - re-exported


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
        [group.client(i) for i in range(n_clients)],
        w,
        x0=np.zeros(dim),
        name=f"quadratic-d{dim}",
        f_min=f_star,
        batched=group,
        evaluator=GroupValue(group, w),
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
        [group.client(i) for i in range(n_clients)],
        None,
        x0=x0,
        name=f"{function}-d{dim}",
        batched=group,
        evaluator=GroupValue(group, np.full(n_clients, 1.0 / n_clients)),
    )


def ackley(dim: int = 30, n_clients: int = 10, heterogeneity: float = 0.5, seed: int = 0) -> FederatedProblem:
    """Ackley with client-specific shifts (``heterogeneity`` * N(0, I)) and log-normal scales."""
    return _shifted("ackley", dim, n_clients, heterogeneity, seed, x0_scale=3.0)


def levy(dim: int = 30, n_clients: int = 10, heterogeneity: float = 0.5, seed: int = 0) -> FederatedProblem:
    """Levy with client-specific shifts and scales (client ``i``'s optimum at ``2 + heterogeneity * N(0, I)``,
    see :func:`_shifted`; x0 around 1)."""
    return _shifted("levy", dim, n_clients, heterogeneity, seed, x0_scale=3.0)


def rosenbrock(
    dim: int = 20, n_clients: int = 8, heterogeneity: float = 0.3, seed: int = 0
) -> FederatedProblem:
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
    return FederatedProblem(
        p.objectives,
        w,
        x0=p.x0,
        name=f"rosenbrock-mixture-d{dim}",
        batched=p.batched,
        evaluator=GroupValue(p.batched, w / w.sum()),
    )


def attack(n_clients: int = 10, epsilon: float = 0.3, image: int = 0, seed: int = 0) -> FederatedProblem:
    """Black-box adversarial attack on scikit-learn digits (see :mod:`zoo.federated.attack`)."""
    return attack_problem(n_clients=n_clients, epsilon=epsilon, image=image, seed=seed)


BUILTINS: dict[str, Callable[..., FederatedProblem]] = {
    "quadratic": quadratic,
    "ackley": ackley,
    "levy": levy,
    "rosenbrock": rosenbrock,
    "attack": attack,
}


def get(name: str, **kwargs: Any) -> FederatedProblem:
    if name not in BUILTINS:
        raise ValueError(f"unknown federated problem {name!r}; choose one of {sorted(BUILTINS)}")
    return BUILTINS[name](**kwargs)
