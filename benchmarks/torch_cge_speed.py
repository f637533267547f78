"""Speed of one CGE step (every coordinate, one minibatch) on the digits small CNN, side by side in one run.

    plain loop        one perturbed full forward per coordinate (the anchor, written out here)
    loop + reuse      one forward per coordinate, restarting from the cached input of its stage (DeepZero)
    batched           zoo's vmap over stacked perturbed tensors, full forward
    batched + reuse   vmap, restarting from the cached stage input
    zoo (+ fold)      zoo's default: batched + reuse, and a coordinate of the Linear/Conv2d layer that opens its
                      stage folded into the batch dimension (its output is the base output + a rank-one term)

Target (issue 5): batched + reuse >= 10x the plain loop; and the share that feature reuse alone buys
(DeepZero reports about 2x on ResNet-20). Medians over repeats; torch threads 1.

    .venv/bin/python benchmarks/torch_cge_speed.py --model cnn --batch 64 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.nn import functional as F

import zoo.torch as zt
from zoo.torch.digits import MODELS, load_digits

torch.set_num_threads(1)


@torch.no_grad()
def plain_loop(model, x, y, mu) -> torch.Tensor:
    """The anchor: g_i = (L(theta + mu e_i) - L(theta)) / mu, one full forward per coordinate."""
    f0 = float(F.cross_entropy(model(x), y))
    out = []
    for p in model.parameters():
        flat = p.data.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + mu
            out.append((float(F.cross_entropy(model(x), y)) - f0) / mu)
            flat[i] = old
    return torch.tensor(out)


@torch.no_grad()
def zoo_cge(model, x, y, mu, **flags) -> torch.Tensor:
    closure = zt.ForwardLoss(model, F.cross_entropy, x, y, **flags)
    f0 = float(closure.base_loss())
    parts = []
    for p in model.parameters():
        idx = torch.arange(p.numel())
        parts.append((closure.coordinate_losses(p, idx, mu) - f0) / mu)
    return torch.cat(parts).float()


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="cnn", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    data = load_digits()
    model = MODELS[args.model]()
    x, y, mu = data.x_train[: args.batch], data.y_train[: args.batch], 5e-3
    d = sum(p.numel() for p in model.parameters())
    print(
        f"one CGE step, digits {args.model} (d = {d} coordinates), minibatch {args.batch}, "
        f"median of {args.repeats}, torch threads 1"
    )
    variants = {
        "plain loop": lambda: plain_loop(model, x, y, mu),
        "loop + reuse": lambda: zoo_cge(model, x, y, mu, batched=False, feature_reuse=True),
        "batched": lambda: zoo_cge(model, x, y, mu, batched=True, feature_reuse=False),
        "batched + reuse": lambda: zoo_cge(model, x, y, mu, batched=True, feature_reuse=True, fold=False),
        "zoo (+ fold)": lambda: zoo_cge(model, x, y, mu, batched=True, feature_reuse=True),
    }
    res = {name: timed(fn, args.repeats) for name, fn in variants.items()}
    ref = res["plain loop"][1]
    for name, (sec, g) in res.items():
        cos = float(g @ ref / (g.norm() * ref.norm()))
        print(
            f"  {name:<16} {1e3 * sec:9.1f} ms/step   {d / sec:10.0f} coords/s   "
            f"speed-up x{res['plain loop'][0] / sec:6.1f}   cos with loop {cos:.4f}"
        )
    speedup = res["plain loop"][0] / res["zoo (+ fold)"][0]
    print(
        f"zoo (batched + reuse + fold) vs plain loop: x{speedup:.1f} (target >= 10) -> "
        f"{'MET' if speedup >= 10 else 'NOT MET'}"
    )
    print(
        f"feature reuse alone: x{res['plain loop'][0] / res['loop + reuse'][0]:.2f} in the loop, "
        f"x{res['batched'][0] / res['batched + reuse'][0]:.2f} in the batched call (DeepZero reports ~2x)"
    )
    if speedup < 10:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
