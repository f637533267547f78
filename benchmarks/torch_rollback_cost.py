"""Step time before / after a change of zoo.torch's step machinery (trainmode, batched, optim), side by side.

The reference is another version of ``zoo/torch/trainmode.py``, ``zoo/torch/batched.py`` and
``zoo/torch/optim.py`` (``git show REV:zoo/torch/FILE > DIR/FILE``), loaded as modules of their own and wired
to each other (what else they import comes from this tree). Each configuration trains two copies of the same
network from the same seed, one with each version, the steps interleaved (order swapped every repeat); printed:
the median seconds per step of each and the median over repeats of the paired ratio (this tree / reference) of
wall-clock and process CPU time. The two copies' parameters and buffers must end bit for bit equal (checked;
exit 1 when not). Session 10 (torch10): the cost of saving train-mode BatchNorm's running statistics at each
step (the rollback of a failed step), on the 4 x 1024 MLP with and without BatchNorm and the small transformer.

    git show 0d48384:zoo/torch/trainmode.py > /tmp/ref/trainmode.py   # likewise batched.py, optim.py
    nice -n 10 .venv/bin/python benchmarks/torch_rollback_cost.py --reference /tmp/ref
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import sys
import time


def _load(name: str, path: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def reference(directory: str):
    """(optim module, batched module) of the reference version, wired to its own trainmode."""
    trainmode = _load("reference_trainmode", f"{directory}/trainmode.py")
    batched = _load("reference_batched", f"{directory}/batched.py")
    batched.trainmode = trainmode
    optim = _load("reference_optim", f"{directory}/optim.py")
    optim.trainmode, optim.ForwardLoss = trainmode, batched.ForwardLoss
    return optim, batched


def build(model: str):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if model.startswith("mlp"):
        layers: list[nn.Module] = []
        for i in range(4):
            layers.append(nn.Linear(1024, 1024))
            if i < 3:
                layers += ([nn.BatchNorm1d(1024)] if model == "mlp_bn" else []) + [nn.ReLU()]
        net = nn.Sequential(*layers)
        x, y = torch.randn(64, 1024), torch.randint(0, 1024, (64,))
    else:
        from zoo.torch.suite import TinyTransformer

        net = TinyTransformer(vocab=64, length=32, d=128, heads=4, classes=4)
        g = torch.Generator().manual_seed(0)
        x, y = torch.randint(0, 64, (64, 32), generator=g), torch.randint(0, 4, (64,), generator=g)
    net.train()
    return net, x, y


def stepper(optim, batched, net, x, y, estimator: str, q: int, closure: str):
    from torch.nn import functional as F

    cls = optim.ZOSGD if q == 1 else optim.ZOAdam
    opt = cls(net.parameters(), lr=1e-6 if q == 1 else 1e-4, estimator=estimator, n_directions=q, seed=0)
    if closure == "forward":
        return lambda: opt.step(batched.ForwardLoss(net, F.cross_entropy, x, y))
    return lambda: opt.step(lambda: F.cross_entropy(net(x), y))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", required=True, metavar="DIR", help="trainmode.py, batched.py, optim.py")
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--steps", type=int, default=5, help="steps per arm per repeat")
    args = ap.parse_args()
    import torch

    from zoo.torch import batched, optim

    torch.set_num_threads(1)
    ref = reference(args.reference)
    configs = [
        ("mlp", "spsa", 1, "plain"),
        ("mlp_bn", "spsa", 1, "plain"),
        ("mlp_bn", "rge", 8, "forward"),
        ("mlp_bn", "spsa", 4, "plain"),
        ("transformer", "spsa", 1, "plain"),
    ]
    ok = True
    for model, estimator, q, closure in configs:
        net, x, y = build(model)
        nets = {"new": net, "ref": copy.deepcopy(net)}
        runs = {
            "new": stepper(optim, batched, nets["new"], x, y, estimator, q, closure),
            "ref": stepper(*ref, nets["ref"], x, y, estimator, q, closure),
        }
        wall = {k: [] for k in runs}
        cpu = {k: [] for k in runs}
        for r in range(args.repeats + 1):
            for k in ("new", "ref") if r % 2 == 0 else ("ref", "new"):
                state = torch.get_rng_state()
                t0, c0 = time.perf_counter(), time.process_time()
                for _ in range(args.steps):
                    runs[k]()
                t1, c1 = time.perf_counter(), time.process_time()
                torch.set_rng_state(state)  # both arms draw the same dropout / generator stream
                if r:  # the first repeat warms up
                    wall[k].append((t1 - t0) / args.steps)
                    cpu[k].append((c1 - c0) / args.steps)
        a, b = nets["new"].state_dict(), nets["ref"].state_dict()
        same = all(torch.equal(a[n], b[n]) for n in a)
        ok = ok and same
        ratio = statistics.median(n / r for n, r in zip(wall["new"], wall["ref"]))
        ratio_cpu = statistics.median(n / r for n, r in zip(cpu["new"], cpu["ref"]))
        print(
            f"{model:12s} {estimator} q={q} {closure:7s}: new {statistics.median(wall['new']) * 1e3:7.2f} ms, "
            f"reference {statistics.median(wall['ref']) * 1e3:7.2f} ms, new / reference x{ratio:.3f} wall, "
            f"x{ratio_cpu:.3f} cpu; parameters and buffers bit for bit equal: {same}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
