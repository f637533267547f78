"""Step time and peak memory, side by side: zoo spsa vs a plain in-place MeZO step vs backprop, vs inference.

Models: a 4 x Linear(1024, 1024) MLP (ReLU between; weights dominate the memory), the suite's small
transformer (zoo/torch/suite.py; d_model 128, 4 heads, 32 tokens) and ``gpt2``: a Hugging Face GPT-2
classifier from a small config (zoo/torch/hf.py; 4 layers, width 256, random weights). Modes:

- ``mezo``: the MeZO step as the paper's code writes it (Malladi et al. 2023, Algorithm 1): reseed, add
  ``mu z`` in place, forward, ``-2 mu z``, forward, ``+mu z``, then reseed and add ``-lr g z``;
- ``zoo_sgd``: ``zoo.torch.ZOSGD(estimator="spsa")`` (bit-exact restore of the parameters after each forward);
- ``zoo_adam``: ``zoo.torch.ZOAdam(estimator="spsa")`` (m and v: 2 parameter copies);
- ``backprop``: ``torch.optim.SGD``, zero_grad / forward / backward / step; ``inference``: one forward.

Time: the modes interleaved in one process, each repeat runs every mode once (so machine load hits them
alike), in an order rotated by one each repeat: a step runs faster after some neighbours than after others
(the one before it leaves the caches and the allocator in its own state: up to ~5 % of a transformer step),
and a fixed order charged that to whichever mode came after MeZO. Printed: the median time per step, the
ratio to MeZO as the median over repeats of the two modes' ratio within the repeat (paired: a load burst
moves both), and the same paired ratio of the process CPU time (``time.process_time``), which other processes
on a loaded machine move less. The target is checked on the paired wall-clock ratio. Memory: each mode in a fresh subprocess, peak RSS growth over the process
before the model existed (VmHWM after ``clear_refs``, as benchmarks/torch_memory.py) over 4 steps, the median of
``--memory-repeats`` fresh processes per mode (the allocator's reuse of freed activations moves one process's
peak by a few MiB, which on the transformer, whose weights are 0.6 MiB, is a quarter of inference). Linux only. Targets
(issue 11): zoo spsa time <= 1.1 x MeZO's; ZOSGD <= 1.2 x inference memory; ZOAdam <= 3.2 x. Exits non-zero
when one is missed.

    .venv/bin/python benchmarks/torch_step_cost.py --model mlp
    .venv/bin/python benchmarks/torch_step_cost.py --model transformer
    .venv/bin/python benchmarks/torch_step_cost.py --model gpt2

``--reference-perturb FILE`` adds a mode ``zoo_sgd_ref``, timed in the same run (no memory figure): the same
ZOSGD step with ``zoo.torch.optim``'s walk functions (perturb, flip, restore, restore_and_add) taken from FILE,
another version of zoo/torch/perturb.py (``git show REV:zoo/torch/perturb.py > FILE``): a before / after of
the walks, side by side in one process. ``--reference-optim FILE`` likewise adds ``zoo_sgd_refopt``: the
ZOSGD class of another zoo/torch/optim.py (``git show REV:zoo/torch/optim.py > FILE``; the modules it imports
are this tree's), a before / after of the optimizer's own per-step work.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from torch_memory import _status  # the same VmRSS / VmHWM reader as the memory benchmark

MODES = ("inference", "mezo", "zoo_sgd", "zoo_adam", "backprop")


def build(model: str, tiny: bool = False):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if model == "mlp":
        w = 64 if tiny else 1024
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [nn.Linear(w, w)] + ([nn.ReLU()] if i < 3 else [])
        net = nn.Sequential(*layers)
        x, y = torch.randn(64, w), torch.randint(0, w, (64,))
    elif model == "gpt2":
        from zoo.torch.hf import tiny_gpt2

        net = tiny_gpt2(vocab=64, length=32, width=32 if tiny else 256, layers=1 if tiny else 4, classes=4)
        g = torch.Generator().manual_seed(0)
        x, y = torch.randint(0, 64, (64, 32), generator=g), torch.randint(0, 4, (64,), generator=g)
    else:
        from zoo.torch.suite import TinyTransformer

        d = 16 if tiny else 128
        net = TinyTransformer(vocab=64, length=32, d=d, heads=4, classes=4)
        g = torch.Generator().manual_seed(0)
        x, y = torch.randint(0, 64, (64, 32), generator=g), torch.randint(0, 4, (64,), generator=g)
    return net, x, y


WALKS = ("perturb", "flip", "restore", "restore_and_add")


def reference_walks(path: str) -> dict:
    """The walk functions of another zoo/torch/perturb.py (loaded from ``path`` as a module of its own)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_perturb", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {name: getattr(mod, name) for name in WALKS}


def with_walks(run, walks: dict):
    """``run`` with zoo.torch.optim's walk functions replaced by ``walks`` for the call."""
    from zoo.torch import optim

    def call():
        own = {name: getattr(optim, name) for name in WALKS}
        for name, fn in walks.items():
            setattr(optim, name, fn)
        try:
            return run()
        finally:
            for name, fn in own.items():
                setattr(optim, name, fn)

    return call


def reference_optimizer(path: str):
    """``ZOSGD`` of another zoo/torch/optim.py (loaded from ``path`` as a module of its own; what it imports
    comes from this tree)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_optim", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ZOSGD


def stepper(mode: str, net, x, y, cls=None, seed: int = 0):
    """A function running one step of ``mode`` (``seed``: the zoo optimizer's)."""
    import torch
    from torch.nn import functional as F

    import zoo.torch as zt

    loss = lambda: F.cross_entropy(net(x), y)  # noqa: E731
    params = [p for p in net.parameters() if p.requires_grad]
    if mode == "inference":

        def run():
            with torch.no_grad():
                return float(loss())

        return run
    if mode == "mezo":
        mu, lr, state = 1e-3, 1e-6, {"t": 0}
        gen = torch.Generator()

        def shift(seed: int, scale: float) -> None:
            gen.manual_seed(seed)
            for p in params:
                p.data.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype), alpha=scale)

        @torch.no_grad()
        def run():
            seed = 1000 + state["t"]
            state["t"] += 1
            shift(seed, mu)
            lp = float(loss())
            shift(seed, -2 * mu)
            lm = float(loss())
            shift(seed, mu)
            shift(seed, -lr * (lp - lm) / (2 * mu))
            return 0.5 * (lp + lm)

        return run
    if mode in ("zoo_sgd", "zoo_adam"):
        cls = cls or (zt.ZOSGD if mode == "zoo_sgd" else zt.ZOAdam)
        opt = cls(net.parameters(), lr=1e-6, estimator="spsa", n_directions=1, seed=seed)  # as MeZO: q = 1
        return lambda: float(opt.step(loss))
    opt = torch.optim.SGD(net.parameters(), lr=1e-6)

    def run():
        opt.zero_grad(set_to_none=True)
        out = loss()
        out.backward()
        opt.step()
        return float(out)

    return run


def interleaved(runs: dict, repeats: int, warmup: int = 1) -> tuple[dict, dict]:
    """Wall-clock and CPU seconds of each of ``runs`` (name -> function), ``repeats`` times each: every repeat
    runs every function once, starting one further along the list than the repeat before (rotated order)."""
    names = list(runs)
    for _ in range(warmup):
        for m in names:
            runs[m]()
    times: dict[str, list[float]] = {m: [] for m in names}
    cpu: dict[str, list[float]] = {m: [] for m in names}
    for r in range(repeats):
        k = r % len(names)
        for m in names[k:] + names[:k]:
            t0, c0 = time.perf_counter(), time.process_time()
            runs[m]()
            times[m].append(time.perf_counter() - t0)
            cpu[m].append(time.process_time() - c0)
        print(f"repeat {r + 1}/{repeats}", file=sys.stderr, flush=True)
    return times, cpu


def paired(a: list[float], b: list[float]) -> float:
    """The median over repeats of ``a[r] / b[r]`` (two modes timed in the same repeat)."""
    return statistics.median(x / y for x, y in zip(a, b))


def child(mode: str, model: str) -> dict:
    import torch

    torch.set_num_threads(1)
    run = stepper(mode, *build(model, tiny=True))
    run(), run()  # libraries, kernels and allocator pools loaded on a tiny copy
    base = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    net, x, y = build(model)
    weights = sum(p.numel() * p.element_size() for p in net.parameters())
    run = stepper(mode, net, x, y)
    for _ in range(4):  # the peak grows over the first steps, as the allocator settles
        run()
    return {"mode": mode, "peak": _status("VmHWM") - base, "weights": weights}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("mlp", "transformer", "gpt2"), default="mlp")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--memory-repeats", type=int, default=3, help="fresh processes per mode (median)")
    ap.add_argument("--reference-perturb", metavar="FILE", help="time a zoo_sgd_ref mode with these walks")
    ap.add_argument("--reference-optim", metavar="FILE", help="time a zoo_sgd_refopt mode with this optim.py")
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.model)))
        return
    import torch

    torch.set_num_threads(1)
    net, x, y = build(args.model)
    # a seed per zoo mode: two optimizers of one seed on one model draw the same direction at the same step,
    # and the second would read the one perturb.py keeps (KEEP_BYTES) from the first instead of drawing it
    runs = {m: stepper(m, net, x, y, seed=k) for k, m in enumerate(MODES)}
    if args.reference_perturb:
        runs["zoo_sgd_ref"] = with_walks(
            stepper("zoo_sgd", net, x, y, seed=len(runs)), reference_walks(args.reference_perturb)
        )
    if args.reference_optim:
        runs["zoo_sgd_refopt"] = stepper(
            "zoo_sgd", net, x, y, reference_optimizer(args.reference_optim), seed=len(runs)
        )
    times, cpu = interleaved(runs, args.repeats, warmup=1)
    med = {m: statistics.median(v) for m, v in times.items()}
    ratio = {m: paired(times[m], times["mezo"]) for m in runs}
    cratio = {m: paired(cpu[m], cpu["mezo"]) for m in runs}
    mem: dict[str, dict] = {}
    for m in MODES:
        peaks = []
        for _ in range(args.memory_repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--child", m, "--model", args.model],
                capture_output=True,
                text=True,
                check=True,
            )
            peaks.append(json.loads(out.stdout.strip().splitlines()[-1]))
        mem[m] = {
            **peaks[0],
            "peak": statistics.median(r["peak"] for r in peaks),
            "all": [r["peak"] for r in peaks],
        }
    d = sum(p.numel() for p in net.parameters())
    print(
        f"{args.model}: d = {d:,} parameters, batch {x.shape[0]}, float32, 1 thread; median of {args.repeats} steps; "
        f"memory: median of {args.memory_repeats} processes per mode"
    )
    inf = mem["inference"]["peak"]
    for m in MODES:
        print(
            f"  {m:<10} {1e3 * med[m]:9.2f} ms/step  x{ratio[m]:.3f} MeZO (CPU x{cratio[m]:.3f})  "
            f"peak {mem[m]['peak'] / 2**20:7.1f} MiB  x{mem[m]['peak'] / inf:.2f} inference  "
            f"(processes: {' / '.join(f'{v / 2**20:.1f}' for v in mem[m]['all'])})"
        )
    if args.reference_perturb:
        print(
            f"  {'zoo_sgd_ref':<10} {1e3 * med['zoo_sgd_ref']:9.2f} ms/step  x{ratio['zoo_sgd_ref']:.3f} MeZO "
            f"(CPU x{cratio['zoo_sgd_ref']:.3f})  walks of {args.reference_perturb}; zoo_sgd / zoo_sgd_ref "
            f"x{paired(times['zoo_sgd'], times['zoo_sgd_ref']):.3f} (CPU x{paired(cpu['zoo_sgd'], cpu['zoo_sgd_ref']):.3f})"
        )
    if args.reference_optim:
        m = "zoo_sgd_refopt"
        print(
            f"  {m:<10} {1e3 * med[m]:6.2f} ms/step  x{ratio[m]:.3f} MeZO (CPU x{cratio[m]:.3f})  ZOSGD of "
            f"{args.reference_optim}; zoo_sgd / {m} x{paired(times['zoo_sgd'], times[m]):.3f} "
            f"(CPU x{paired(cpu['zoo_sgd'], cpu[m]):.3f})"
        )
    checks = {
        "zoo spsa time / MeZO <= 1.1": ratio["zoo_sgd"] <= 1.1,
        "ZOSGD memory / inference <= 1.2": mem["zoo_sgd"]["peak"] / inf <= 1.2,
        "ZOAdam memory / inference <= 3.2": mem["zoo_adam"]["peak"] / inf <= 3.2,
    }
    for name, ok in checks.items():
        print(f"{name}: {'MET' if ok else 'NOT MET'}")
    if not all(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
