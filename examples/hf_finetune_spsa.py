"""Fine-tune a Hugging Face transformer without backprop: a 2-layer GPT-2 classifier built from a small config
(random weights, no download) trained with ``zoo.torch.ZOSGD(estimator="spsa")`` (MeZO) on generated token
sequences (is token 1 more frequent than token 2?). Writes the loss curve as a PNG. Takes about 20 s on a
laptop CPU (13 s of CPU measured here).

    .venv/bin/python examples/hf_finetune_spsa.py --steps 400 --plot benchmarks/results/issue11-hf-gpt2-spsa.png
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F

import zoo.torch
from zoo.torch.hf import tiny_gpt2
from zoo.torch.suite import tokens

torch.set_num_threads(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default=None, help="write the loss curve here (PNG)")
    args = ap.parse_args()

    data = tokens(args.seed)
    model = tiny_gpt2(seed=args.seed)
    d = sum(p.numel() for p in model.parameters())
    opt = zoo.torch.ZOSGD(model.parameters(), lr=args.lr, estimator="spsa", seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    losses, t0 = [], time.perf_counter()
    for step in range(args.steps):
        idx = torch.randint(0, data.x_train.shape[0], (args.batch,), generator=gen)
        x, y = data.x_train[idx], data.y_train[idx]
        losses.append(float(opt.step(lambda: F.cross_entropy(model(x), y))))  # noqa: B023
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {losses[-1]:.4f}  {time.perf_counter() - t0:6.1f} s", flush=True)
    with torch.no_grad():
        acc = float((model(data.x_test).argmax(1) == data.y_test).float().mean())
    first, last = sum(losses[:20]) / 20, sum(losses[-20:]) / 20
    print(
        f"GPT-2 (2 layers, d = {d:,}), spsa: loss {first:.4f} -> {last:.4f} (mean of the first / last 20 steps)"
    )
    print(f"test accuracy {100 * acc:.2f} %, {opt.queries} forward passes, {time.perf_counter() - t0:.1f} s")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(losses, lw=0.6, alpha=0.5, label="minibatch loss")
        k = 20
        smooth = [
            sum(losses[max(0, i - k + 1) : i + 1]) / len(losses[max(0, i - k + 1) : i + 1])
            for i in range(len(losses))
        ]
        ax.plot(smooth, label=f"mean of {k}")
        ax.set(xlabel="step", ylabel="cross-entropy", title=f"GPT-2 (random init, d = {d:,}) + ZOSGD spsa")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
