"""Federated zeroth-order optimization: problems, a simulator with honest accounting, FedZO / FedProx /
SCAFFOLD / FZooS, and engines (local, Ray, Flower).

    from zoo.federated import Simulator, FZooS, problems
    problem = problems.quadratic(dim=300, n_clients=5, heterogeneity=0.5, seed=0)
    hist = Simulator(problem, FZooS(local_steps=10), engine="local", seed=0).run(rounds=50)

Not imported by ``import zoo``; Ray and Flower are imported only by their engines.
"""

from zoo.federated import problems
from zoo.federated.algorithms import (
    ALGORITHMS,
    FederatedAlgorithm,
    FedProx,
    FedZO,
    FZooS,
    Scaffold,
    make_algorithm,
)
from zoo.federated.engines.local import AlgorithmDiverged
from zoo.federated.history import History
from zoo.federated.problem import FederatedProblem
from zoo.federated.schedule import Clock
from zoo.federated.simulator import Simulator

__all__ = [
    "ALGORITHMS",
    "AlgorithmDiverged",
    "Clock",
    "FZooS",
    "FedProx",
    "FedZO",
    "FederatedAlgorithm",
    "FederatedProblem",
    "History",
    "Scaffold",
    "Simulator",
    "make_algorithm",
    "problems",
]
