"""Black-box adversarial attack on scikit-learn's digits, federated: 10 clients, each with its own classifier.

Each client holds a classifier of the 8x8 digits (pixels scaled to [0, 1]) trained at build time on a non-IID
share of the data (every class split among the clients by a Dirichlet(0.5) draw; at least 3 images of each
class per client); even clients train a logistic regression, odd ones a one-hidden-layer MLP. The weights are
cached as plain arrays (``.npz``, no pickle) under ``$ZOO_CACHE_DIR`` (default ``~/.cache/zoo``)/federated.

The shared variable is a perturbation ``delta`` in the box ``[-epsilon, epsilon]^64`` added to one image ``x``
of class ``y`` that every classifier gets right. Client ``i`` sees only its classifier's scores (black box) and
reports the Carlini-Wagner margin ``f_i(delta) = max(log p_i(y | x') - max_{j != y} log p_i(j | x'), -kappa)``,
``x' = clip(x + delta, 0, 1)``. The attack succeeds when most classifiers (more than half) misclassify ``x'``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from zoo.federated.problem import FederatedProblem, WeightedSum

N_CLASSES = 10


def cache_dir() -> Path:
    root = os.environ.get("ZOO_CACHE_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "zoo"
    return path / "federated"


def _split(
    y: np.ndarray, n_clients: int, rng: np.random.Generator, min_per_class: int = 3
) -> list[np.ndarray]:
    parts: list[list[int]] = [[] for _ in range(n_clients)]
    for k in range(N_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == k))
        floor = idx[: min_per_class * n_clients].reshape(n_clients, min_per_class)
        rest = idx[min_per_class * n_clients :]
        cuts = (np.cumsum(rng.dirichlet(np.full(n_clients, 0.5)))[:-1] * len(rest)).astype(int)
        for i, chunk in enumerate(np.split(rest, cuts)):
            parts[i].extend(floor[i].tolist() + chunk.tolist())
    return [np.array(sorted(p)) for p in parts]


def _train(n_clients: int, seed: int) -> dict[str, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    test[rng.choice(len(y), 300, replace=False)] = True
    parts = _split(np.where(test, -1, y), n_clients, rng)
    out: dict[str, np.ndarray] = {"test_X": X[test], "test_y": y[test]}
    for i, idx in enumerate(parts):
        if i % 2 == 0:
            clf = LogisticRegression(max_iter=2000, C=1.0).fit(X[idx], y[idx])
            out[f"c{i}_W0"], out[f"c{i}_b0"] = clf.coef_.T.copy(), clf.intercept_.copy()
        else:
            clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=1500, random_state=seed + i).fit(
                X[idx], y[idx]
            )
            out[f"c{i}_W0"], out[f"c{i}_b0"] = clf.coefs_[0], clf.intercepts_[0]
            out[f"c{i}_W1"], out[f"c{i}_b1"] = clf.coefs_[1], clf.intercepts_[1]
        assert list(clf.classes_) == list(range(N_CLASSES))
    return out


def classifiers(n_clients: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """The trained weights (from the cache, or trained now and cached)."""
    path = cache_dir() / f"digits-{n_clients}clients-seed{seed}.npz"
    if path.exists():
        with np.load(path) as f:
            return dict(f)
    weights = _train(n_clients, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **weights)
    os.replace(tmp, path)  # atomic: parallel builders never read half a file
    return weights


@dataclasses.dataclass
class DigitClassifier:
    """Log-probabilities of one client's classifier (logistic regression or a ReLU MLP), in numpy."""

    layers: list[tuple[np.ndarray, np.ndarray]]

    def log_proba(self, X: np.ndarray) -> np.ndarray:
        h = X
        for k, (W, b) in enumerate(self.layers):
            h = h @ W + b
            if k < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        return h - np.log(np.exp(h).sum(axis=1, keepdims=True))


@dataclasses.dataclass
class MarginLoss:
    """``f(delta) = max(log p(y|x') - max_{j != y} log p(j|x'), -kappa)``, ``x' = clip(x + delta, 0, 1)``."""

    model: DigitClassifier
    image: np.ndarray
    label: int
    kappa: float = 0.5

    def margins(self, D: np.ndarray) -> np.ndarray:
        D = np.asarray(D, dtype=np.float64)
        if D.ndim == 1:
            D = D[None, :]
        if D.shape[1] != self.image.size:
            raise ValueError(f"the perturbation must have {self.image.size} coordinates, got {D.shape[1]}")
        lp = self.model.log_proba(np.clip(self.image + D, 0.0, 1.0))
        own = lp[:, self.label].copy()
        lp[:, self.label] = -np.inf
        return own - lp.max(axis=1)

    def __call__(self, D: np.ndarray) -> np.ndarray:
        return np.maximum(self.margins(D), -self.kappa)


@dataclasses.dataclass
class MostFooled:
    losses: list[MarginLoss]

    def __call__(self, delta: np.ndarray) -> bool:
        fooled = sum(float(m.margins(delta)[0]) < 0 for m in self.losses)
        return fooled > len(self.losses) / 2


def attack_problem(
    n_clients: int = 10, epsilon: float = 0.3, image: int = 0, seed: int = 0, kappa: float = 0.5
) -> FederatedProblem:
    if not epsilon > 0:
        raise ValueError(f"epsilon (the box half-width) must be positive, got {epsilon}")
    w = classifiers(n_clients, seed)
    models = []
    for i in range(n_clients):
        layers = [(w[f"c{i}_W0"], w[f"c{i}_b0"])]
        if f"c{i}_W1" in w:
            layers.append((w[f"c{i}_W1"], w[f"c{i}_b1"]))
        models.append(DigitClassifier(layers))
    X, y = w["test_X"], w["test_y"]
    right = np.all([m.log_proba(X).argmax(axis=1) == y for m in models], axis=0)
    candidates = np.flatnonzero(right)
    if len(candidates) == 0:
        raise RuntimeError("no test image is classified correctly by every client")
    k = candidates[image % len(candidates)]
    losses = [MarginLoss(m, X[k], int(y[k]), kappa) for m in models]
    d = X.shape[1]
    return FederatedProblem(
        losses,
        None,
        x0=np.zeros(d),
        bounds=(np.full(d, -epsilon), np.full(d, epsilon)),
        name=f"attack-digits-{n_clients}clients",
        success=MostFooled(losses),
        evaluator=WeightedSum(list(losses), np.full(n_clients, 1.0 / n_clients)),
    )
