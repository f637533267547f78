"""Train-mode Dropout(0.2) + BatchNorm: forward-only training with them vs the same MLP without them.

Digits, MLP 64-32-10 and MLP 64-32-BatchNorm-ReLU-Dropout(0.2)-10, both trained in train mode (evaluated in
eval mode), zoo's defaults, the same epochs and minibatches, median over seeds; spsa, rge (q = 8) and sparse cge
(90 %). Then the cosine of a central-cge estimate (float64, mu = 1e-5, masks fixed by the step's common random
numbers) with the autograd gradient of the same train-mode loss. Targets (issue 11): every method within 2
points of the plain model; cosine >= 0.999. Exits non-zero when one is missed.

    .venv/bin/python benchmarks/torch_trainmode.py --seeds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys

import torch
from torch import nn
from torch.nn import functional as F

from zoo.torch.suite import TASKS, fit

torch.set_num_threads(1)
METHODS = {"spsa": {}, "rge": {"n_directions": 8}, "cge": {}}


def model(seed: int, layers: bool, dtype=torch.float32) -> nn.Sequential:
    torch.manual_seed(seed)
    mid = [nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2)] if layers else [nn.ReLU()]
    return nn.Sequential(nn.Linear(64, 32), *mid, nn.Linear(32, 10)).to(dtype)


def cosine(seed: int = 0) -> float:
    import zoo.torch as zt

    data = TASKS["digits"].data(seed)
    net = model(seed, True, torch.float64)
    x, y = data.x_train[:128].double(), data.y_train[:128]
    state = torch.get_rng_state()
    loss = F.cross_entropy(net(x), y)
    ref = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(net.parameters()))])
    torch.set_rng_state(state)
    snap = [p.detach().clone() for p in net.parameters()]
    opt = zt.ZOSGD(net.parameters(), lr=1.0, estimator="cge", difference="central", mu=1e-5)
    opt.step(zt.ForwardLoss(net, F.cross_entropy, x, y, feature_reuse=True))
    est = torch.cat([(s - p.detach()).reshape(-1) for p, s in zip(net.parameters(), snap)])
    return float(est @ ref / (est.norm() * ref.norm()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--methods", default=",".join(METHODS))
    args = ap.parse_args()
    task, ok = TASKS["digits"], True
    for method in args.methods.split(","):
        med = {}
        for layers in (False, True):
            accs = [
                100
                * fit(task, method, s, epochs=args.epochs, model=model(s, layers), **METHODS[method]).metric
                for s in range(args.seeds)
            ]
            med[layers] = statistics.median(accs)
            name = "Dropout+BN" if layers else "plain"
            print(
                f"{method:<5} {name:<10} median test acc {med[layers]:6.2f} %   (seeds: "
                + ", ".join(f"{a:.2f}" for a in accs)
                + f")   epochs {args.epochs}",
                flush=True,
            )
        gap = med[False] - med[True]
        print(
            f"{method:<5} Dropout+BN vs plain: {-gap:+.2f} points (target: within 2) -> "
            f"{'MET' if gap <= 2 else 'NOT MET'}",
            flush=True,
        )
        ok &= gap <= 2
    cos = cosine()
    print(
        f"central cge vs autograd, Dropout(0.2)+BatchNorm in train mode, float64: cosine {cos:.6f} "
        f"(target >= 0.999) -> {'MET' if cos >= 0.999 else 'NOT MET'}"
    )
    if not (ok and cos >= 0.999):
        sys.exit(1)


if __name__ == "__main__":
    main()
