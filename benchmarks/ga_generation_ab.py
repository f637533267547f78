"""The GA's generation in two or more trees side by side: CPU time, minor page faults and (optionally) instructions.

    git worktree add --detach /tmp/old 2deecd9          # the tree before the estimate core (issue 9)
    PYTHONPATH=$PWD python benchmarks/ga_generation_ab.py --tree /tmp/old --tree $PWD [--alternations 4]
    PYTHONPATH=$PWD python benchmarks/ga_generation_ab.py --tree /tmp/old --tree $PWD --callgrind

Population 1,000, d = 100, a free objective (zeros), the loop ``X = opt.ask(); opt.tell(X, f)``. One child process
per tree and alternation (each imports zoo from its tree), alternating the trees so they see the same load:

- a long run, 2,000 generations after 50: CPU time per generation (``time.process_time``) and minor page faults
  per generation (``getrusage``): a batch that lands on freshly grown heap pages faults on every page;
- with ``--callgrind``: instructions per generation under valgrind, a process of 20 fresh optimizers x 23
  generations minus the same process without them (imports, numba cache loads and one warm-up run cancel);
  deterministic, unlike the times on a shared host. Numba caches must be warm (run the script once without).
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile

from ab_trees import check_trees, run_in_tree, tree_parser

CHILD = r"""
import json, resource, sys, time
import numpy as np
import zoo

mode = sys.argv[1]
def make(seed):
    return zoo.make("ga", x0=np.zeros(100), seed=seed, popsize=1000, truncation=20, sigma=0.1)
if mode == "long":
    opt = make(0)
    for _ in range(50):
        X = opt.ask(); opt.tell(X, np.zeros(len(X)))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.process_time()
    for _ in range(2000):
        X = opt.ask(); opt.tell(X, np.zeros(len(X)))
    cpu = (time.process_time() - t0) / 2000
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / 2000
    print(json.dumps({"cpu_us": cpu * 1e6, "faults": faults}))
else:  # "fresh K": K fresh optimizers x 23 generations after one warm-up optimizer
    opt = make(0)
    for _ in range(3):
        X = opt.ask(); opt.tell(X, np.zeros(len(X)))
    for r in range(int(sys.argv[2])):
        opt = make(r)
        for _ in range(23):
            X = opt.ask(); opt.tell(X, np.zeros(len(X)))
"""


def child(tree: str, *args: str, valgrind: bool = False) -> str:
    if not valgrind:
        return run_in_tree(tree, CHILD, *args).stdout
    with tempfile.TemporaryDirectory() as tmp:
        vg = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out")
        out = run_in_tree(tree, CHILD, *args, prefix=vg)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if not m:
        raise SystemExit(f"valgrind printed no count for {tree}:\n{out.stderr[-2000:]}")
    return m.group(1)


def main() -> int:
    ap = tree_parser(__doc__, alternations=4)
    ap.add_argument("--callgrind", action="store_true", help="also count instructions per generation (slow)")
    args = ap.parse_args()
    check_trees(args)
    runs: dict[str, list[dict]] = {t: [] for t in args.tree}
    for _ in range(args.alternations):
        for t in args.tree:
            runs[t].append(json.loads(child(t, "long")))
    print(
        "GA generation, population 1,000, d=100, free objective; long run (2,000 generations after 50), "
        f"{args.alternations} alternations"
    )
    print("| tree | CPU us per generation (each alternation) | median | minor page faults per generation |")
    print("|---|---|---|---|")
    for t, rs in runs.items():
        cpus = [r["cpu_us"] for r in rs]
        faults = [r["faults"] for r in rs]
        print(
            f"| {t} | {' / '.join(f'{c:.0f}' for c in cpus)} | {statistics.median(cpus):.0f} | "
            f"{min(faults):.1f}-{max(faults):.1f} |",
            flush=True,
        )
    if args.callgrind:
        print("\ninstructions per generation (callgrind; 20 fresh optimizers x 23 generations, minus none)")
        for t in args.tree:
            base, full = (
                int(child(t, "fresh", "0", valgrind=True)),
                int(child(t, "fresh", "20", valgrind=True)),
            )
            print(f"  {t}: {(full - base) / (20 * 23):,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
