"""Optimize from comparisons only: rank-sgd fed by a noisy "person" that answers a few pairwise comparisons.

    python examples/rank_from_comparisons.py      # about 5 s on one CPU core

The oracle compares every pair of the batch but flips close calls with probability 0.2, so its answers are
sometimes cyclic, as a person's are; the optimizer counts the cycles and keeps going.
"""

from __future__ import annotations

import numpy as np

import zoo
from zoo.core.rank_oracle import RankOracle

d = 20
f = zoo.functions.rosenbrock
x0 = np.random.default_rng(0).standard_normal(d)
f0 = float(f(x0[None])[0])

for label, kw in {
    "full ranking": {"kind": "full"},
    "top-1 (best only)": {"kind": "topk", "k": 1},
    "noisy all-pairs": {"kind": "pairs", "n_pairs": "all", "flip_prob": 0.2, "close": 0.5 * f0},
}.items():
    oracle = RankOracle(f, dim=d, seed=0, **kw)
    opt = zoo.make("rank-sgd", x0=x0, seed=0, budget=1500)
    while not opt.stop():
        X = opt.ask()
        answer = oracle(X)  # a Comparisons object: indices into X only, no values
        opt.tell(X, **answer.as_kwargs())
    x = opt.best[0]
    print(
        f"{label:<20} best f / f0 = {f(x[None])[0] / f0:.4f}   queries {opt.nfev}   "
        f"cycles in the answers {opt.state.n_cycles}"
    )
