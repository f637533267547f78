"""Private synthetic data with the genetic algorithm (Private-GSD; Liu, Tang, Vietri, Wu, ICML 2023).

    from zoo.synth import PrivateGSD, data
    df = data.census(20_000, seed=0)
    syn = PrivateGSD(epsilon=1.0, delta=1e-5, queries="2way,range", domain=data.census_domain(), seed=0).fit(df).sample()

Parts: :mod:`~zoo.synth.domain` (schema, encoding), :mod:`~zoo.synth.queries` (statistical queries),
:mod:`~zoo.synth.zcdp` (accounting), :mod:`~zoo.synth.ga` (the record GA), :mod:`~zoo.synth.fitness`
(full and incremental workload error), :mod:`~zoo.synth.gsd` (the mechanism), :mod:`~zoo.synth.data`.
"""

from zoo.synth import data, zcdp
from zoo.synth.domain import Attribute, Domain
from zoo.synth.fitness import WorkloadFitness
from zoo.synth.ga import RecordGA
from zoo.synth.gsd import PrivateGSD
from zoo.synth.queries import Workload
from zoo.synth.zcdp import Accountant, BudgetExceeded

__all__ = [
    "Accountant",
    "Attribute",
    "BudgetExceeded",
    "Domain",
    "PrivateGSD",
    "RecordGA",
    "Workload",
    "WorkloadFitness",
    "data",
    "zcdp",
]
