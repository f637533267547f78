"""Why the attack problem's FedProx / SCAFFOLD II figures drift between RESULTS sections (issue 12, session 9):
each algorithm on the suite's attack problem (seeds 0-4, FedZO's queries as the budget, as in ``fed_suite.py``),
then again from ``x0 + 1e-12`` (clipped into the box). Prints ``final F -> final F from the shifted x0`` per seed.

    .venv/bin/python benchmarks/fed_attack_drift.py
"""

from __future__ import annotations

import numpy as np
from fed_suite import PROBLEMS, run_one

from zoo.federated.simulator import single_threaded_blas

make, rounds = PROBLEMS["attack"]
with single_threaded_blas():
    for a in ("fedzo", "fedprox", "scaffold2"):
        out = []
        for seed in range(5):
            p = make(seed)
            base = run_one(p, "fedzo", seed, rounds)
            budget = None if a == "fedzo" else int(base["queries"][-1])
            r0 = run_one(p, a, seed, rounds, budget)
            p.x0 = np.clip(p.x0 + 1e-12, p.bounds[0], p.bounds[1])
            r1 = run_one(p, a, seed, rounds, budget)
            out.append(f"{r0['F'][-1]:.5g}->{r1['F'][-1]:.5g}")
        print(a, " ".join(out))
