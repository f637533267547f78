"""Peak memory of one training step: spsa (MeZO, zoo.torch.ZOSGD) vs backprop (torch SGD) vs inference alone.

Method: every mode runs in a fresh subprocess. The child first runs the same mode once on a tiny copy of the
network (so that libraries, kernels and allocator pools are loaded), records its resident set size (VmRSS),
resets the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``), then builds the wide network, runs
two steps of the mode and reads the peak (VmHWM). Peak memory of the mode = VmHWM - the RSS before the network
existed: weights + whatever the step allocates (activations, gradients, perturbation temporaries). Linux only.

Target (issue 5): spsa <= 1.2x inference on an MLP where the weights dominate; backprop's ratio printed beside.

    .venv/bin/python benchmarks/torch_memory.py --width 2048 --layers 4 --batch 64
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

MODES = ("inference", "spsa", "backprop")


def _status(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{key} not in /proc/self/status")


def child(mode: str, width: int, layers: int, batch: int) -> dict:
    import torch
    from torch import nn
    from torch.nn import functional as F

    import zoo.torch as zt

    torch.set_num_threads(1)

    def build(w: int) -> nn.Sequential:
        mods: list[nn.Module] = [nn.Linear(w, w) if i % 2 == 0 else nn.ReLU() for i in range(2 * layers - 1)]
        return nn.Sequential(*mods)

    def run(model: nn.Sequential, w: int, steps: int) -> None:
        x, y = torch.randn(batch, w), torch.randint(0, w, (batch,))
        if mode == "inference":
            with torch.no_grad():
                for _ in range(steps):
                    float(F.cross_entropy(model(x), y))
        elif mode == "spsa":
            opt = zt.ZOSGD(model.parameters(), lr=1e-4, estimator="spsa", seed=0)
            for _ in range(steps):
                opt.step(lambda: F.cross_entropy(model(x), y))
        else:
            opt = torch.optim.SGD(model.parameters(), lr=1e-4)
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(model(x), y).backward()
                opt.step()

    run(build(64), 64, 2)  # warm-up on a tiny copy
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    model = build(width)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    run(model, width, 2)
    return {"mode": mode, "peak": _status("VmHWM") - base, "weights": weights}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.width, args.layers, args.batch)))
        return
    res = {}
    for mode in MODES:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--width",
                str(args.width),
                "--layers",
                str(args.layers),
                "--batch",
                str(args.batch),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        res[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    weights = res["inference"]["weights"]
    print(
        f"MLP {args.layers} x Linear({args.width}, {args.width}), batch {args.batch}, float32: "
        f"weights {weights / 2**20:.1f} MiB; peak RSS growth per mode, fresh process each"
    )
    inf = res["inference"]["peak"]
    for mode in MODES:
        peak = res[mode]["peak"]
        print(f"  {mode:<10} {peak / 2**20:8.1f} MiB   x{peak / inf:.2f} inference")
    ratio = res["spsa"]["peak"] / inf
    print(
        f"spsa / inference = {ratio:.2f} (target <= 1.2) -> {'MET' if ratio <= 1.2 else 'NOT MET'};   "
        f"backprop / inference = {res['backprop']['peak'] / inf:.2f}"
    )
    if ratio > 1.2:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
