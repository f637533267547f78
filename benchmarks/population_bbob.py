"""BBOB d=10 benchmark of issue 3 (Must show): every method side by side with pycma's IPOP and random search.

    .venv/bin/python benchmarks/population_bbob.py                 # the full run (long: ~1 h on 2 cores)
    .venv/bin/python benchmarks/population_bbob.py --functions 1-5 --instances 1 --budget-per-dim 1000

A thin front to ``zoo bench bbob`` (zoo/bench/) with the Must-show defaults;
extra flags are passed on.
"""

from __future__ import annotations

import sys

from zoo.cli import main

DEFAULTS = [
    "--methods",
    "auto,cma-ipop,cma-bipop,pycma-ipop,cbo,ga,random-search,ng:NGOpt@1000",
    "--dim",
    "10",
    "--budget-per-dim",
    "10000",
    "--functions",
    "1-24",
    "--instances",
    "1-5",
    "--jobs",
    "2",
    "--out",
    "benchmarks/out/issue3-bbob",
    "--plot",
    "benchmarks/results/issue3-bbob-ecdf.png",
]

if __name__ == "__main__":
    args = sys.argv[1:]
    given = {a for a in args if a.startswith("--")}
    merged = []
    for i in range(0, len(DEFAULTS), 2):
        if DEFAULTS[i] not in given:
            merged += DEFAULTS[i : i + 2]
    sys.exit(main(["bench", "bbob", *merged, *args]))
