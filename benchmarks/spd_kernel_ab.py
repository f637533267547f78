"""The batched Cholesky-solve kernel (``zoo.kernels.spd.chol_solve``) in two or more trees side by side: time per
1,000 solves of FZooS's sizes and whether the trees give the same bits.

    git worktree add --detach /tmp/before <commit>
    PYTHONPATH=$PWD python benchmarks/spd_kernel_ab.py --tree /tmp/before --tree $PWD [--alternations 3]

The matrices: RBF kernels of 1,000 random windows (d = 100) of n = 60, 30 and 7 points plus 1e-3 on the diagonal
(FZooS's GP: its window, the hyper-parameter fit's 30 points, a filling window). One child process per tree and
alternation, alternating the trees; each reports the median CPU time of 15 calls per size and a hash of the
solutions and log determinants.
"""

from __future__ import annotations

import json
import statistics

from ab_trees import check_trees, run_in_tree, tree_parser

CHILD = r"""
import hashlib, json, time
import numpy as np
from zoo.kernels.spd import chol_solve

rng = np.random.default_rng(0)
out, h = {}, hashlib.sha256()
for n in (60, 30, 7):
    Z = 0.1 * rng.standard_normal((1000, n, 100))
    sq = np.einsum("cnd,cnd->cn", Z, Z)
    D2 = np.maximum(sq[:, :, None] + sq[:, None, :] - 2 * Z @ Z.transpose(0, 2, 1), 0.0)
    K = np.exp(-D2 / 2) + 1e-3 * np.eye(n)
    y = rng.standard_normal((1000, n))
    alpha, logdet, ok = chol_solve(K, y)
    h.update(alpha.tobytes()); h.update(logdet.tobytes())
    ts = []
    for _ in range(15):
        t0 = time.process_time(); chol_solve(K, y); ts.append(time.process_time() - t0)
    out[n] = float(np.median(ts)) * 1e3
print(json.dumps({"ms": out, "hash": h.hexdigest()[:16]}))
"""


def main() -> int:
    args = tree_parser(__doc__, alternations=3).parse_args()
    check_trees(args)
    runs: dict[str, list[dict]] = {t: [] for t in args.tree}
    for _ in range(args.alternations):
        for t in args.tree:
            done = run_in_tree(t, CHILD)
            runs[t].append(json.loads(done.stdout))
    print(
        f"chol_solve, 1,000 matrices, ms per call (median of 15; median over {args.alternations} alternations)"
    )
    print("| tree | n = 60 | n = 30 | n = 7 | bits (hash) |")
    print("|---|---|---|---|---|")
    for t, rs in runs.items():
        ms = {n: statistics.median(r["ms"][n] for r in rs) for n in ("60", "30", "7")}
        hashes = sorted({r["hash"] for r in rs})
        print(f"| {t} | {ms['60']:.2f} | {ms['30']:.2f} | {ms['7']:.3f} | {', '.join(hashes)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
