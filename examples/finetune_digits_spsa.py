"""Fine-tuning without backprop: pre-train an MLP on digits 0-4 with backprop, then fine-tune it on digits 5-9
with spsa only (MeZO: forward passes, in-place seeded perturbations, the memory of inference).

    .venv/bin/python examples/finetune_digits_spsa.py       # under a minute on a laptop CPU
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

import zoo.torch
from zoo.torch.digits import accuracy, load_digits, mlp

torch.set_num_threads(1)


def batches(x, y, batch_size, gen):
    perm = torch.randperm(x.shape[0], generator=gen)
    for start in range(0, x.shape[0], batch_size):
        idx = perm[start : start + batch_size]
        yield x[idx], y[idx]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pretrain-epochs", type=int, default=30)
    ap.add_argument("--finetune-epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-2, help="spsa (Adam) learning rate")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(args.seed)
    low, high = (
        load_digits(args.seed, classes=(0, 1, 2, 3, 4)),
        load_digits(args.seed, classes=(5, 6, 7, 8, 9)),
    )
    model = mlp(seed=args.seed)

    # 1. pre-train on 0-4 with backprop
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(args.pretrain_epochs):
        for x, y in batches(low.x_train, low.y_train, 64, gen):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
    print(
        f"pre-trained on 0-4 (backprop): acc on 0-4 {100 * accuracy(model, low.x_test, low.y_test):.1f} %, "
        f"on 5-9 {100 * accuracy(model, high.x_test, high.y_test):.1f} %"
    )

    # 2. fine-tune on 5-9 with spsa only: the same loop, the optimizer swapped, no backward
    opt = zoo.torch.ZOAdam(model.parameters(), lr=args.lr, estimator="spsa", n_directions=4, seed=args.seed)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.finetune_epochs)
    t0 = time.perf_counter()
    for epoch in range(1, args.finetune_epochs + 1):
        for x, y in batches(high.x_train, high.y_train, 64, gen):
            opt.step(lambda x=x, y=y: F.cross_entropy(model(x), y))
        sched.step()
        if epoch % 20 == 0 or epoch == args.finetune_epochs:
            print(
                f"  spsa epoch {epoch:3d}: acc on 5-9 {100 * accuracy(model, high.x_test, high.y_test):5.1f} %"
            )
    print(
        f"fine-tuned on 5-9 (spsa, {opt.queries} forward passes, {time.perf_counter() - t0:.1f} s): "
        f"acc on 5-9 {100 * accuracy(model, high.x_test, high.y_test):.1f} %, "
        f"on 0-4 {100 * accuracy(model, low.x_test, low.y_test):.1f} %"
    )


if __name__ == "__main__":
    main()
