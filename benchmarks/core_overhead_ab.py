"""Numpy overhead per candidate, two trees side by side: an old commit (a worktree) against this tree.

    git worktree add --detach /tmp/old 2deecd9          # the tree before the estimate core (issue 9)
    PYTHONPATH=$PWD python benchmarks/core_overhead_ab.py --old /tmp/old [--repeats 5]
    # a third tree in the same alternation, e.g. main before a change (git worktree add --detach /tmp/before HEAD~3)
    PYTHONPATH=$PWD python benchmarks/core_overhead_ab.py --old /tmp/old --before /tmp/before [--plain]

One child process per tree and repeat, alternating old / new, so both see the same machine load; each child
reports CPU time (``time.process_time``: being descheduled does not count) of the ask/tell loop minus the
objective's, per candidate, for the configurations of ``core_overhead.py`` at d=10 (60,000 candidates; rge
q=8: 15,000). Two objectives: the benchmark's batched sphere (zoo's step control drives it to f ~ 1e-300,
where floating-point arithmetic on subnormal numbers is slow in every operation), and ``1 + |x - 0.5|^2``
(the same landscape, values stay normal). The figure is the median over the repeats; the ratio new / old
compares medians. Beside it, the paired ratio: new / old of the two children of one alternation (run one
after the other, so under about the same load), median and range over the alternations; on the shared machine
the load drifts within a run, and the range shows how far one alternation's figure can be trusted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CONFIGS = [
    # zo-adam: rge without the learned metric (issue 16, session 5), the algorithm that rge was in the old tree,
    # where "zo-adam" is an alias of rge: the same algorithm on both sides of the comparison
    ("zo-adam q=64", "zo-adam", {"q": 64}, 60_000),
    ("zo-adam q=8", "zo-adam", {"q": 8}, 15_000),
    ("cge", "cge", {}, 60_000),
]
OBJECTIVES = ("sphere", "shifted")


def child(dim: int) -> None:
    import zoo

    if os.environ.get("ZOO_AB_PLAIN"):  # the rule alone, no step-size control (as the old tree stepped)
        from zoo.estimators.base import GradientMethod

        GradientMethod.controlled = False

    funs = {"sphere": zoo.functions.sphere, "shifted": lambda X: 1.0 + np.sum((X - 0.5) ** 2, axis=1)}
    out = {}
    for obj in OBJECTIVES:
        f = funs[obj]
        for name, method, options, n in CONFIGS:
            opt = zoo.make(method, x0=np.ones(dim), seed=0, **options)
            X = opt.ask()
            opt.tell(X, f(X))  # warm-up: kernels compiled
            t_obj, done = 0.0, 0
            t0 = time.process_time()
            while done < (n if dim == 10 else n // 2):
                X = opt.ask()
                t1 = time.process_time()
                v = f(X)
                t_obj += time.process_time() - t1
                opt.tell(X, v)
                done += len(X)
            out[f"{name} / {obj}"] = ((time.process_time() - t0) - t_obj) / done * 1e6
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True, help="root of the old tree (a git worktree)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--before", help="root of a third tree, run in the same alternation (e.g. main before a change)"
    )
    ap.add_argument("--plain", action="store_true", help="also the new tree without the step-size control")
    ap.add_argument("--dim", type=int, default=10, help="10 (60,000 candidates) or e.g. 1000 (30,000)")
    args = ap.parse_args()
    here = Path(__file__).resolve().parents[1]
    trees = {"old": Path(args.old).resolve()}
    if args.before:
        trees["before"] = Path(args.before).resolve()
    trees["new"] = here
    if args.plain:
        trees["new-plain"] = here
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    for rep in range(args.repeats):
        for label, root in trees.items():
            env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
            env["ZOO_AB_PLAIN"] = "1" if label == "new-plain" else ""
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", str(args.dim)],
                cwd=root, env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            runs[label].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(f"repeat {rep + 1}/{args.repeats} {label}: done", flush=True)
    print(f"\nus per candidate, CPU time, median of {args.repeats} alternations (d={args.dim})")
    others = [label for label in trees if label != "old"]
    print(
        f"{'configuration / objective':28s} {'old':>8s}"
        + "".join(f" {k:>10s} {k + '/old':>14s} {'paired [range]':>20s}" for k in others)
    )
    for key in runs["new"][0]:
        olds = [r[key] for r in runs["old"]]
        old = float(np.median(olds))
        row = f"{key:28s} {old:8.3f}"
        for label in others:
            med = float(np.median([r[key] for r in runs[label]]))
            paired = [r[key] / o for r, o in zip(runs[label], olds)]
            span = f"{np.median(paired):.2f} [{min(paired):.2f}-{max(paired):.2f}]"
            row += f" {med:10.3f} {med / old:14.2f} {span:>20s}"
        print(row)


if __name__ == "__main__":
    if "--child" in sys.argv:
        child(int(sys.argv[sys.argv.index("--child") + 1]))
    else:
        main()
