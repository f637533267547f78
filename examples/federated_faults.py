"""Faults are recorded, never averaged in: one client raises, one returns NaN, clients drop out at random.

.venv/bin/python examples/federated_faults.py      # about 5 s on one CPU core
"""

from __future__ import annotations

import numpy as np

from zoo.federated import FederatedProblem, FedZO, Simulator

rng = np.random.default_rng(0)
centers = rng.standard_normal((4, 10))


def client(center):
    return lambda X: np.sum((np.atleast_2d(X) - center) ** 2, axis=1)


def broken(X):
    raise RuntimeError("sensor offline")


def nan_client(X):
    return np.full(len(np.atleast_2d(X)), np.nan)


problem = FederatedProblem([*(client(c) for c in centers), broken, nan_client], dim=10)
sim = Simulator(problem, FedZO(local_steps=5), seed=0, dropout=0.2, check_dimensions=False)
hist = sim.run(rounds=5)
healthy = problem.objectives[:4]
for r in hist.rounds[1:]:
    # the report's F is NaN (it cannot evaluate the broken clients either); show the healthy clients' mean
    f_healthy = np.mean([float(f(r["x"])[0]) for f in healthy])
    print(f"round {r['round']}: healthy mean {f_healthy:.4g}, queries {r['queries']}, faults {r['faults']}")
