"""A public suite of small tasks for forward-only training: the defaults of :mod:`zoo.torch` are tuned on it.

Every task is bundled with scikit-learn or generated (no download), small enough for a CPU core:

=================  ===============================================  ========================  ==========
task               data                                             model                     metric
=================  ===============================================  ========================  ==========
``digits``         sklearn digits, 8x8 images, 10 classes           MLP 64-32-10              accuracy
``iris``           sklearn iris, 4 features, 3 classes              MLP 4-16-3                accuracy
``diabetes``       sklearn diabetes, 10 features, regression        MLP 10-32-1 (MSE)         R^2
``moons``          sklearn two moons, noise 0.2                     MLP 2-32-32-2             accuracy
``spiral``         three-armed spiral (generated)                   MLP 2-64-64-3             accuracy
``digits_cnn``     sklearn digits                                   CNN conv8-conv16-linear   accuracy
``tokens``         token sequences: is token 1 more frequent than   1-block transformer,      accuracy
                   token 2? (generated)                             d_model 32, 2 heads
=================  ===============================================  ========================  ==========

Held-out tasks (:data:`HELD_OUT`), never used to choose a default, only to check the defaults afterwards:

=================  ===============================================  ========================  ==========
``wine``           sklearn wine, 13 features, 3 classes             MLP 13-32-3               accuracy
``breast_cancer``  sklearn breast cancer, 30 features, 2 classes    MLP 30-32-2               accuracy
``friedman``       sklearn make_friedman1, 10 features, noise 1     MLP 10-64-64-1 (MSE)      R^2
``blobs_deep``     sklearn make_classification, 20 features,        MLP 20-64-64-64-4         accuracy
                   4 classes, 10 informative
``tanh_class``     sklearn make_classification, 16 features,        MLP 16-32-32-3, tanh      accuracy
                   3 classes, 8 informative (added in session 5)
``friedman3``      sklearn make_friedman3, 4 features, noise 0.1    MLP 4-32-32-1, tanh (MSE) R^2
                   (added in session 5)
=================  ===============================================  ========================  ==========

Features are standardized on the train split (the regression target too); splits are stratified per seed.
:func:`fit` trains one task with backprop (``torch.optim.Adam``) or a zoo optimizer with the same loop, the same
minibatches and a cosine learning-rate decay to 0, and reports the test metric, time and forward passes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from zoo.torch.digits import Split, load_digits, mlp, small_cnn


@dataclass(frozen=True)
class Task:
    name: str
    data: Callable[[int], Split]
    model: Callable[[int], nn.Module]
    regression: bool = False
    epochs: int = 60
    batch_size: int = 64

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out.squeeze(-1), y) if self.regression else F.cross_entropy(out, y)

    def metric(self, model: nn.Module, data: Split) -> float:
        """Test accuracy (classification) or R^2 (regression, on the standardized target)."""
        with torch.no_grad():
            was = model.training
            model.eval()
            out = model(data.x_test)
            model.train(was)
        if self.regression:
            y = data.y_test
            return float(1.0 - ((out.squeeze(-1) - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())
        return float((out.argmax(1) == data.y_test).float().mean())


def _split(
    x: np.ndarray, y: np.ndarray, seed: int, regression: bool = False, test_size: float = 0.2
) -> Split:
    from sklearn.model_selection import train_test_split

    xtr, xte, ytr, yte = train_test_split(
        x, y, test_size=test_size, random_state=seed, stratify=None if regression else y
    )
    mean, std = xtr.mean(0), xtr.std(0) + 1e-8
    fx = lambda a: torch.as_tensor((a - mean) / std, dtype=torch.float32)  # noqa: E731
    if regression:
        ym, ys = ytr.mean(), ytr.std()
        fy = lambda a: torch.as_tensor((a - ym) / ys, dtype=torch.float32)  # noqa: E731
    else:
        fy = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    return Split(fx(xtr), fy(ytr), fx(xte), fy(yte))


def iris(seed: int) -> Split:
    from sklearn.datasets import load_iris

    return _split(*load_iris(return_X_y=True), seed, test_size=0.3)


def diabetes(seed: int) -> Split:
    from sklearn.datasets import load_diabetes

    return _split(*load_diabetes(return_X_y=True), seed, regression=True)


def moons(seed: int) -> Split:
    from sklearn.datasets import make_moons

    return _split(*make_moons(1000, noise=0.2, random_state=seed), seed)


def spiral(seed: int, n: int = 150, arms: int = 3, noise: float = 0.2) -> Split:
    """``arms`` interleaved spirals, ``n`` points each (the classic CS231n toy set)."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.05, 1.0, n), arms)
    label = np.repeat(np.arange(arms), n)
    angle = label * (2 * math.pi / arms) + r * 4.0 + rng.normal(0.0, noise, arms * n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], 1)
    return _split(x, label, seed)


def wine(seed: int) -> Split:
    from sklearn.datasets import load_wine

    return _split(*load_wine(return_X_y=True), seed, test_size=0.3)


def breast_cancer(seed: int) -> Split:
    from sklearn.datasets import load_breast_cancer

    return _split(*load_breast_cancer(return_X_y=True), seed)


def friedman(seed: int) -> Split:
    from sklearn.datasets import make_friedman1

    return _split(*make_friedman1(600, n_features=10, noise=1.0, random_state=seed), seed, regression=True)


def blobs_deep(seed: int) -> Split:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        1000, n_features=20, n_informative=10, n_classes=4, n_clusters_per_class=2, random_state=seed
    )
    return _split(x, y, seed)


def tanh_class(seed: int) -> Split:
    from sklearn.datasets import make_classification

    x, y = make_classification(
        800, n_features=16, n_informative=8, n_classes=3, n_clusters_per_class=1, random_state=seed
    )
    return _split(x, y, seed)


def friedman3(seed: int) -> Split:
    from sklearn.datasets import make_friedman3

    return _split(*make_friedman3(600, noise=0.1, random_state=seed), seed, regression=True)


def tokens(seed: int, n: int = 1000, length: int = 12, vocab: int = 8) -> Split:
    """Random sequences over ``vocab`` tokens; label 1 when token 1 occurs more often than token 2 (ties drawn
    out: sequences with equal counts are resampled). Needs the whole sequence, not one position."""
    rng = np.random.default_rng(seed)
    seqs = []
    while len(seqs) < n:
        s = rng.integers(0, vocab, (2 * n, length))
        c1, c2 = (s == 1).sum(1), (s == 2).sum(1)
        seqs.extend(s[c1 != c2])
    x = np.asarray(seqs[:n])
    y = ((x == 1).sum(1) > (x == 2).sum(1)).astype(np.int64)
    from sklearn.model_selection import train_test_split

    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    t = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    return Split(t(xtr), t(ytr), t(xte), t(yte))


class TinyTransformer(nn.Module):
    """Token + position embeddings, one pre-norm transformer block (2-head attention, MLP 64), mean pooling,
    a linear head. Written out (not ``nn.TransformerEncoderLayer``) so that ``torch.func`` can batch it."""

    def __init__(self, vocab: int = 8, length: int = 12, d: int = 32, heads: int = 2, classes: int = 2):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(length, d) * 0.02)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        self.head = nn.Linear(d, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tok(x) + self.pos
        b, n, d = h.shape
        q, k, v = self.qkv(self.ln1(h)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        h = h + self.proj(att)
        h = h + self.mlp(self.ln2(h))
        return self.head(h.mean(1))


def _seeded(build: Callable[[], nn.Module]) -> Callable[[int], nn.Module]:
    def make(seed: int) -> nn.Module:
        torch.manual_seed(seed)
        return build()

    return make


def _mlp(*sizes: int, act: Callable[[], nn.Module] = nn.ReLU) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [nn.Linear(a, b)] + ([act()] if i < len(sizes) - 2 else [])
        return nn.Sequential(*layers)

    return build


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("digits", lambda s: load_digits(seed=s), lambda s: mlp(seed=s), epochs=100),
        Task("iris", iris, _seeded(_mlp(4, 16, 3)), epochs=200, batch_size=16),
        Task("diabetes", diabetes, _seeded(_mlp(10, 32, 1)), regression=True, epochs=200, batch_size=32),
        Task("moons", moons, _seeded(_mlp(2, 32, 32, 2)), epochs=60),
        Task("spiral", spiral, _seeded(_mlp(2, 64, 64, 3)), epochs=150, batch_size=32),
        Task("digits_cnn", lambda s: load_digits(seed=s), lambda s: small_cnn(seed=s), epochs=60),
        Task("tokens", tokens, _seeded(TinyTransformer), epochs=40),
    )
}


# checks only: the defaults were chosen on TASKS and then run, unchanged, on these
HELD_OUT: dict[str, Task] = {
    t.name: t
    for t in (
        Task("wine", wine, _seeded(_mlp(13, 32, 3)), epochs=100, batch_size=16),
        Task("breast_cancer", breast_cancer, _seeded(_mlp(30, 32, 2)), epochs=60, batch_size=32),
        Task("friedman", friedman, _seeded(_mlp(10, 64, 64, 1)), regression=True, epochs=100, batch_size=32),
        Task("blobs_deep", blobs_deep, _seeded(_mlp(20, 64, 64, 64, 4)), epochs=60),
        # session 5: two more, never run while the session-5 rule was chosen
        Task("tanh_class", tanh_class, _seeded(_mlp(16, 32, 32, 3, act=nn.Tanh)), epochs=60, batch_size=32),
        Task(
            "friedman3",
            friedman3,
            _seeded(_mlp(4, 32, 32, 1, act=nn.Tanh)),
            regression=True,
            epochs=100,
            batch_size=32,
        ),
    )
}


@dataclass
class Result:
    task: str
    method: str
    seed: int
    metric: float
    sec_per_epoch: float
    forwards_per_epoch: float
    curve: list[float]


def make(method: str, model: nn.Module, seed: int, **options: Any) -> torch.optim.Optimizer:
    """``backprop``: ``torch.optim.Adam(lr=1e-3)``; ``spsa`` / ``rge`` / ``cge``: ``zoo.torch.ZOAdam`` with
    zoo's defaults (cge: ``sparsity=0.9``) unless ``options`` says otherwise."""
    if method == "backprop":
        return torch.optim.Adam(model.parameters(), **({"lr": 1e-3} | options))
    from zoo.torch.optim import ZOAdam

    if method == "cge":
        options = {"sparsity": 0.9} | options
    return ZOAdam(model.parameters(), estimator=method, seed=seed, **options)


def fit(
    task: Task | str,
    method: str,
    seed: int = 0,
    *,
    epochs: int | None = None,
    model: nn.Module | None = None,
    progress: Callable[[str], None] | None = None,
    closure: str = "forward",
    **options: Any,
) -> Result:
    """Train ``task`` with ``method`` (``backprop`` or a zoo estimator); cosine lr decay to 0 over the epochs.

    ``closure="forward"`` (default): zoo gets a :class:`~zoo.torch.ForwardLoss` of the minibatch, so that its
    perturbed forwards are batched (cge with feature reuse on ``nn.Sequential``; spsa / rge then take the
    batched default of ``n_directions``, :func:`zoo.torch.groups.batched_directions`). ``closure="plain"``:
    spsa / rge get the one-line closure ``lambda: loss_fn(model(x), y)``, which the optimizer batches the same
    way (:meth:`ForwardLoss.from_closure`; the same steps bit for bit, 3 forwards more at the first step);
    cge always gets the ForwardLoss (feature reuse).
    """
    if closure not in ("forward", "plain"):
        raise ValueError(f"closure must be 'forward' or 'plain', got {closure!r}")
    from zoo.torch.batched import ForwardLoss
    from zoo.torch.optim import ZOOptimizer

    task = (TASKS | HELD_OUT)[task] if isinstance(task, str) else task
    epochs = task.epochs if epochs is None else epochs
    data = task.data(seed)
    model = task.model(seed) if model is None else model
    opt = make(method, model, seed, **options)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0)
    zo = isinstance(opt, ZOOptimizer)
    gen = torch.Generator().manual_seed(seed)
    n = data.x_train.shape[0]
    t0, curve = time.perf_counter(), []
    model.train()
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, task.batch_size):
            idx = perm[start : start + task.batch_size]
            x, y = data.x_train[idx], data.y_train[idx]
            if zo:
                if method == "cge":
                    opt.step(
                        ForwardLoss(model, task.loss, x, y, feature_reuse=isinstance(model, nn.Sequential))
                    )
                elif closure == "forward":
                    opt.step(ForwardLoss(model, task.loss, x, y))
                else:
                    opt.step(lambda: task.loss(model(x), y))  # noqa: B023 (used at once)
            else:
                opt.zero_grad()
                task.loss(model(x), y).backward()
                opt.step()
        sched.step()
        curve.append(task.metric(model, data))
        if progress is not None:
            progress(f"{task.name} {method} seed {seed} epoch {epoch + 1}/{epochs}: {curve[-1]:.4f}")
    seconds = time.perf_counter() - t0
    steps = -(-n // task.batch_size) * epochs
    forwards = opt.queries if zo else steps  # backprop: one forward (and one backward) per step
    return Result(
        task.name, method, seed, curve[-1], seconds / max(1, epochs), forwards / max(1, epochs), curve
    )
