"""The public suite (zoo/torch/suite.py): backprop Adam vs zoo's forward-only optimizers with their defaults.

Per task: median over seeds of the final test metric (accuracy in %, or R^2), time per epoch and forward passes
per epoch, every method in the same run, the same epochs and the same minibatches. Targets (issue 11): spsa
within 3 points (0.03 R^2) of backprop on every task, sparse cge within 1.5 points (0.015 R^2); the script exits
non-zero when one is missed (``--no-check``: report only, as the sweeps do).

    .venv/bin/python benchmarks/torch_suite.py --methods backprop,spsa,cge --seeds 3
    .venv/bin/python benchmarks/torch_suite.py --methods spsa --set lr=3e-3 --set n_directions=4 --no-check
    .venv/bin/python benchmarks/torch_suite.py --tasks held_out --methods spsa --plateau max_growth=1 --no-check
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import sys

import torch

from zoo.torch.suite import HELD_OUT, TASKS, fit

torch.set_num_threads(1)
TARGETS = {"spsa": 3.0, "cge": 1.5}  # points of accuracy; R^2 targets are these / 100


def _value(text: str):
    """A Python literal, or a float such as ``inf`` (``--plateau rise=inf``: the rise test off)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(TASKS), help=f"comma list; 'held_out': {','.join(HELD_OUT)}")
    ap.add_argument("--methods", default="backprop,spsa,cge")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument(
        "--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 (split a run)"
    )
    ap.add_argument("--epochs", type=int, default=None, help="override every task's epochs")
    ap.add_argument("--set", action="append", default=[], help="zoo optimizer option key=value (sweeps)")
    ap.add_argument(
        "--plateau",
        action="append",
        default=[],
        help="zoo.updates.Plateau field key=value (the rule's options)",
    )
    ap.add_argument(
        "--closure",
        choices=("forward", "plain"),
        default="forward",
        help="spsa / rge: a batched ForwardLoss (default) or the one-line lambda closure",
    )
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--json", default=None, help="write every run's result here")
    args = ap.parse_args()
    options = {k: ast.literal_eval(v) for k, v in (s.split("=", 1) for s in args.set)}
    if args.plateau:
        from zoo.updates import Plateau

        fields = {k: _value(v) for k, v in (s.split("=", 1) for s in args.plateau)}
        options["plateau"] = Plateau(**fields)
    methods = args.methods.split(",")
    rows, missed, dump = [], [], []
    names = ",".join(HELD_OUT) if args.tasks == "held_out" else args.tasks
    for name in names.split(","):
        task = (TASKS | HELD_OUT)[name]
        res: dict[str, list] = {}
        for method in methods:
            opts = {} if method == "backprop" else {"closure": args.closure, **options}
            res[method] = []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                res[method].append(fit(task, method, seed, epochs=args.epochs, **opts))
                r = res[method][-1]
                print(
                    f"  ({name} {method} seed {seed}: {r.metric:.4f}, {r.sec_per_epoch:.3f} s/epoch)",
                    flush=True,
                )
            dump += [r.__dict__ for r in res[method]]
            scale = 1.0 if task.regression else 100.0
            med = statistics.median(r.metric for r in res[method]) * scale
            line = (
                f"{name:<10} {method:<8} {'R^2' if task.regression else 'acc'} {med:7.2f}"
                f"{'' if task.regression else ' %'}   {statistics.median(r.sec_per_epoch for r in res[method]):7.3f} s/epoch"
                f"   {statistics.median(r.forwards_per_epoch for r in res[method]):8.0f} forwards/epoch"
                f"   epochs {len(res[method][0].curve)}   (seeds: "
                + ", ".join(f"{r.metric * scale:.2f}" for r in res[method])
                + ")"
            )
            print(line, flush=True)
            rows.append(line)
        if "backprop" in res:
            scale = 1.0 if task.regression else 100.0
            ref = statistics.median(r.metric for r in res["backprop"]) * scale
            for method, target in TARGETS.items():
                if method in res:
                    gap = ref - statistics.median(r.metric for r in res[method]) * scale
                    tol = target / 100 if task.regression else target
                    ok = gap <= tol
                    print(
                        f"{name:<10} {method} vs backprop: {-gap:+.3f} (target: within {tol:g}) -> "
                        f"{'MET' if ok else 'NOT MET'}",
                        flush=True,
                    )
                    if not ok:
                        missed.append((name, method))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(dump, fh)
    if missed and not args.no_check:
        print(f"missed: {missed}")
        sys.exit(1)


if __name__ == "__main__":
    main()
