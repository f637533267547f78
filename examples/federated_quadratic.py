"""Federated ZO on the heterogeneous quadratic: FZooS vs FedZO, 5 clients, d=100, 20 rounds (under a minute).

.venv/bin/python examples/federated_quadratic.py
"""

from __future__ import annotations

from zoo.federated import FedZO, FZooS, Simulator, problems

problem = problems.quadratic(dim=100, n_clients=5, heterogeneity=0.5, seed=0)
for algo in (FedZO(local_steps=10), FZooS(local_steps=10)):
    hist = Simulator(problem, algo, seed=0).run(rounds=20, progress=True)
    print(
        f"{algo.name:<6} F - F* = {hist.gap()[-1]:.4g}   client queries {int(hist.queries[-1])}   "
        f"bytes up per client per round {int(hist.bytes_up[5]) // problem.n_clients}"
    )
