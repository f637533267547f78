"""scikit-learn's bundled digits (8x8 images, 1,797 samples; no download), the two small models of the
examples, and one training loop shared by the examples, ``zoo train``, the demo and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from zoo.torch.batched import ForwardLoss


@dataclass
class Split:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits(
    seed: int = 0, classes: tuple[int, ...] | None = None, test_size: float = 0.2, dtype=torch.float32
) -> Split:
    """Standardized digits (features scaled by the train split's mean and std), a stratified split."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    x, y = sk_digits(return_X_y=True)
    if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    mean, std = xtr.mean(0), xtr.std(0) + 1.0
    t = lambda a: torch.as_tensor((a - mean) / std, dtype=dtype)  # noqa: E731
    return Split(t(xtr), torch.as_tensor(ytr), t(xte), torch.as_tensor(yte))


def mlp(hidden: int = 32, seed: int = 0, dtype=torch.float32) -> nn.Sequential:
    """The 64-32-10 MLP (d = 2,410)."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10)).to(dtype)


def small_cnn(seed: int = 0, dtype=torch.float32) -> nn.Sequential:
    """conv(1->8, 3x3) - pool - conv(8->16, 3x3) - pool - linear(64->10) on 8x8 digits (d = 1,898)."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    ).to(dtype)


MODELS: dict[str, Callable[..., nn.Sequential]] = {"mlp": mlp, "cnn": small_cnn}


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


@dataclass
class History:
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def final_acc(self) -> float:
        return self.test_acc[-1]

    @property
    def sec_per_epoch(self) -> float:
        return self.seconds[-1] / max(1, self.epoch[-1])


# optimizer settings that work on digits (Adam for every method; the benchmarks use the same)
DEFAULTS: dict[str, dict[str, Any]] = {
    "backprop": dict(lr=1e-2, update="adam"),
    "cge": dict(lr=2e-2, update="adam", sparsity=0.9),
    "deepzero": dict(lr=2e-2, update="adam", sparsity=0.9),  # cge + ZO-GraSP layer ratios
    "rge": dict(lr=3e-3, update="adam", n_directions=10),
    "spsa": dict(lr=3e-3, update="adam", n_directions=4),
}


def plot_history(histories: dict[str, History], path: str, title: str = "") -> str:
    """Test accuracy and training loss per epoch, one line per run; writes a PNG and returns its path."""
    from zoo.plotting import _pyplot, save_figure

    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, h in histories.items():
        ax1.plot(h.epoch, [100 * a for a in h.test_acc], label=label)
        ax2.semilogy(h.epoch, h.train_loss, label=label)
    ax1.set(xlabel="epoch", ylabel="test accuracy (%)", title=title)
    ax2.set(xlabel="epoch", ylabel="training loss")
    ax1.legend()
    ax1.grid(alpha=0.3)
    ax2.grid(alpha=0.3)
    return str(save_figure(fig, path))


def make_optimizer(model: nn.Module, method: str, **options: Any) -> torch.optim.Optimizer:
    """``method``: ``backprop`` (torch Adam/SGD), a ZO estimator (``spsa``, ``rge``, ``cge``) or ``deepzero``."""
    from zoo.torch.optim import ZOOptimizer

    options = dict(options)
    update = options.pop("update", "adam")
    lr = options.pop("lr")
    if method == "backprop":
        if update == "adam":
            return torch.optim.Adam(model.parameters(), lr=lr)
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=options.pop("beta", 0.0))
    if method == "deepzero":
        from zoo.torch.deepzero import DeepZero

        return DeepZero(model.parameters(), lr, update=update, **options)
    return ZOOptimizer(model.parameters(), lr, update=update, estimator=method, **options)


def train(
    model: nn.Module,
    data: Split,
    opt: torch.optim.Optimizer,
    *,
    epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    feature_reuse: bool = True,
    progress: bool = False,
    lr_decay: float | None = None,
) -> History:
    """Minibatch training; backprop when ``opt`` is a torch optimizer, forward-only when it is a zoo one."""
    from zoo.torch.optim import ZOOptimizer

    zo = isinstance(opt, ZOOptimizer)
    gen = torch.Generator().manual_seed(seed)
    n = data.x_train.shape[0]
    hist, t0 = History(), time.perf_counter()
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs) if lr_decay else None
    bar = None
    if progress:
        from zoo.progress import progress_bar

        bar = progress_bar(epochs, unit="epochs")
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            x, y = data.x_train[idx], data.y_train[idx]
            if zo:
                closure = ForwardLoss(
                    model,
                    F.cross_entropy,
                    x,
                    y,
                    feature_reuse=feature_reuse and isinstance(model, nn.Sequential),
                )
                loss = opt.step(closure)
            else:
                opt.zero_grad()
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
            total += float(loss.detach()) * len(idx)
            count += len(idx)
        if sched is not None:
            sched.step()
        hist.epoch.append(epoch)
        hist.train_loss.append(total / count)
        hist.test_acc.append(accuracy(model, data.x_test, data.y_test))
        hist.queries.append(opt.queries if zo else 0)
        hist.seconds.append(time.perf_counter() - t0)
        if bar is not None:
            bar.set_postfix(
                loss=f"{hist.train_loss[-1]:.3f}", acc=f"{hist.test_acc[-1]:.3f}", queries=hist.queries[-1]
            )
            bar.update(1)
    if bar is not None:
        bar.close()
    return hist
