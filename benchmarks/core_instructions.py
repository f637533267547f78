"""Instructions per step of the numpy gradient methods at d=10, counted by valgrind (callgrind), trees side by side.

    git worktree add --detach /tmp/old 2deecd9          # the tree before the estimate core (issue 9)
    PYTHONPATH=$PWD python benchmarks/core_instructions.py --tree /tmp/old --tree $PWD [--steps 200] [--jobs 1]

Times on the shared 2-core machine move by 10-50 % with the load (``core_overhead_ab.py`` pairs them to cope);
an instruction count does not depend on the load: the same tree gives the same count within about 1-2 % from run
to run (addresses and the garbage collector's moments differ), whatever else runs. It is not a time (a cache miss or a subnormal operation costs more than an add), but for this loop of small numpy
calls and Python frames it follows the CPU time, and it tells whether a change removed work. For each tree,
one valgrind process runs the configurations of ``core_overhead_ab.py`` (zo-adam q=64, zo-adam q=8, cge; x0 = ones(10),
seed 0) on its two objectives; after 50 warm-up steps it counts the instructions of ``--steps`` ask / tell
steps, the objective's calls left out (collection is switched off around them), and prints instructions per
candidate and per step. Needs valgrind and a C compiler (the switch is valgrind's client request, compiled into
a tiny helper library); the run under valgrind takes minutes (the import, and Numba's kernels compiled again:
valgrind reports another CPU, so the cache does not apply).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import ctypes
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# zo-adam: rge without the learned metric (issue 16, session 5), what rge was in the old tree (where "zo-adam" is
# an alias of rge): the same algorithm on both sides, as in core_overhead_ab.py
CONFIGS = [("zo-adam q=64", "zo-adam", {"q": 64}), ("zo-adam q=8", "zo-adam", {"q": 8}), ("cge", "cge", {})]
OBJECTIVES = ("shifted", "sphere")
HELPER = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void cg_dump(const char *s) { CALLGRIND_DUMP_STATS_AT(s); }
"""


def child(lib: str, steps: int) -> None:
    import numpy as np

    cg = ctypes.CDLL(lib)
    import zoo

    funs = {"sphere": zoo.functions.sphere, "shifted": lambda X: 1.0 + np.sum((X - 0.5) ** 2, axis=1)}
    cg.cg_start()
    for obj in OBJECTIVES:
        f = funs[obj]
        for name, method, options in CONFIGS:
            opt = zoo.make(method, x0=np.ones(10), seed=0, **options)
            for _ in range(50):
                X = opt.ask()
                opt.tell(X, f(X))
            done = 0
            cg.cg_zero()
            cg.cg_toggle()
            for _ in range(steps):
                X = opt.ask()
                cg.cg_toggle()  # the objective is not counted
                v = f(X)
                cg.cg_toggle()
                opt.tell(X, v)
                done += len(X)
            cg.cg_toggle()
            cg.cg_dump(f"{name}|{obj}|{done}|{steps}".encode())


def count(tree: Path, lib: str, steps: int, out: Path) -> dict[str, tuple[float, float]]:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
        f"--callgrind-out-file={out / 'cg.out'}", sys.executable, str(Path(__file__).resolve()),
        "--child", lib, str(steps),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True)
    res = {}
    for f in sorted(out.glob("cg.out.*")):
        text = f.read_text(errors="replace")
        desc = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.M)
        total = re.search(r"^totals: (\d+)", text, re.M)
        if desc and total:
            name, obj, done, n = desc.group(1).split("|")
            res[f"{name} / {obj}"] = (int(total.group(1)) / int(done), int(total.group(1)) / int(n))
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", action="append", required=True, help="a tree's root (give two or more)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="valgrind processes at once (default 1: the trees one after another)",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="zoo-cg-"))
    src = tmp / "cg.c"
    src.write_text(HELPER)
    lib = str(tmp / "libcg.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", lib, str(src)], check=True)
    trees = [Path(t).resolve() for t in args.tree]
    # one valgrind process per tree, --jobs at once (a count does not depend on the load; one at a time leaves
    # the other core to whoever shares the machine)
    with cf.ThreadPoolExecutor(max(1, min(args.jobs, len(trees)))) as ex:
        futs = [ex.submit(count, t, lib, args.steps, tmp / f"t{i}") for i, t in enumerate(trees)]
        results = [fu.result() for fu in futs]
    print(
        f"instructions per candidate (per step), {args.steps} steps after 50 warm-up steps, objective not counted"
    )
    print(f"{'configuration / objective':24s}" + "".join(f" {t.name[:18]:>28s}" for t in trees))
    for key in results[0]:
        base = results[0][key][0]
        row = f"{key:24s}"
        for r in results:
            per_cand, per_step = r[key]
            row += f" {per_cand:9.0f} ({per_step:8.0f}) {per_cand / base:5.2f}x"
        print(row)


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(sys.argv[i + 1], int(sys.argv[i + 2]))
    else:
        main()
