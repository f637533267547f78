"""Throughput of batched forward evaluation vs a loop: perturbed forwards per second, K perturbed parameter sets.

    loop     K times: load the k-th perturbed parameters into the model in place, one forward, restore
    zoo      ForwardLoss.direction_losses: all K sets in one call (torch.func.functional_call under vmap),
             chunked to --memory-mb

Models: the digits MLP 64-32-10 and the digits small CNN (batch --batch of digits); with --device cuda also a
ResNet-20-sized CNN (3 stages x 3 basic blocks, 16/32/64 channels, ~0.27 M parameters) on random 32x32
inputs. The code is device-agnostic; on a machine without CUDA, --device cuda says so and exits.

    .venv/bin/python benchmarks/torch_batched_throughput.py --device cpu
    .venv/bin/python benchmarks/torch_batched_throughput.py --device cuda      # on a GPU machine
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

import zoo.torch as zt
from zoo.torch.digits import load_digits, mlp, small_cnn

torch.set_num_threads(1)


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.short = nn.Conv2d(cin, cout, 1, stride, bias=False) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        out = self.c2(F.relu(self.c1(x)))
        return F.relu(out + (x if self.short is None else self.short(x)))


def resnet20() -> nn.Sequential:
    """ResNet-20-sized (He et al. 2016, CIFAR variant) without batch norm (a ZO-friendly variant)."""
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for b in range(3):
            layers.append(_Block(cin, cout, stride if b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def loop(model, params, deltas, x, y) -> torch.Tensor:
    out = []
    for k in range(deltas[0].shape[0]):
        saved = [p.detach().clone() for p in params]
        for p, d in zip(params, deltas):
            p.add_(d[k])
        out.append(F.cross_entropy(model(x), y))
        for p, s in zip(params, saved):
            p.copy_(s)
    return torch.stack(out)


def rate(fn, K, device, repeats) -> tuple[float, torch.Tensor]:
    fn()  # warm-up (vmap tracing, kernels)
    _sync(device)
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return K / statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--K", default="1,8,64,256")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-mb", type=int, default=256)
    ap.add_argument("--resnet", action="store_true", help="also the ResNet-20-sized CNN on CPU (slow)")
    args = ap.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "no CUDA device on this machine: this benchmark is ready to run on one (--device cuda); skipped"
        )
        return
    data = load_digits()
    xd, yd = data.x_train[: args.batch].to(device), data.y_train[: args.batch].to(device)
    cases = [("digits MLP", mlp().to(device), xd, yd), ("digits CNN", small_cnn().to(device), xd, yd)]
    if device.type == "cuda" or args.resnet:
        g = torch.Generator(device=device).manual_seed(0)
        x32 = torch.randn(args.batch, 3, 32, 32, device=device, generator=g)
        cases.append(
            ("ResNet-20-size", resnet20().to(device), x32, torch.randint(0, 10, (args.batch,), device=device))
        )
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU, torch threads 1"
    print(f"perturbed forwards per second (minibatch {args.batch}), {name}; median of {args.repeats}")
    print(f"{'model':<16}{'d':>9}{'K':>6}{'loop /s':>12}{'zoo /s':>12}{'zoo/loop':>10}{'max |diff|':>12}")
    for label, model, x, y in cases:
        params = list(model.parameters())
        d = sum(p.numel() for p in params)
        closure = zt.ForwardLoss(model, F.cross_entropy, x, y, memory_limit=args.memory_mb << 20)
        for K in (int(k) for k in args.K.split(",")):
            g = torch.Generator(device=device).manual_seed(K)
            deltas = [1e-3 * torch.randn(K, *p.shape, device=device, generator=g) for p in params]
            r_loop, a = rate(lambda: loop(model, params, deltas, x, y), K, device, args.repeats)  # noqa: B023
            r_zoo, b = rate(lambda: closure.direction_losses(params, deltas), K, device, args.repeats)  # noqa: B023
            diff = float((a.double() - b.double()).abs().max())
            print(
                f"{label:<16}{d:>9}{K:>6}{r_loop:>12.0f}{r_zoo:>12.0f}{r_zoo / r_loop:>9.1f}x{diff:>12.1e}",
                flush=True,
            )
    if device.type != "cuda":
        print(
            "(GPU figures: run with --device cuda on a CUDA machine; none was lent to this run)",
            file=sys.stdout,
        )


if __name__ == "__main__":
    main()
