"""FedZO's and FZooS's round CPU time by run order in one process (issue 12, session 9): FedZO twice, FZooS,
FedZO, FZooS, FedZO at 100 and 1,000 clients, d=100, median CPU time of rounds 4-8 of each run. Under glibc's
default malloc a FedZO run after an FZooS run is several times cheaper (its temporaries stop page-faulting once a
large free has raised the dynamic mmap threshold); with large thresholds every run costs the same:

    .venv/bin/python benchmarks/fed_scale_order.py
    MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 .venv/bin/python benchmarks/fed_scale_order.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from fed_scale import round_times  # noqa: E402

from zoo.federated import problems  # noqa: E402
from zoo.federated.simulator import single_threaded_blas  # noqa: E402

if __name__ == "__main__":
    with single_threaded_blas():
        warm = problems.quadratic(dim=100, n_clients=2, seed=0)
        for a in ("fedzo", "fzoos"):
            round_times(warm, a, 2)
        for n in (100, 1000):
            p = problems.quadratic(dim=100, n_clients=n, seed=0)
            for a in ("fedzo", "fedzo", "fzoos", "fedzo", "fzoos", "fedzo"):
                _, cpu = round_times(p, a, 8, cpu=True)
                print(n, a, f"CPU median rounds 4-8 {np.median(cpu[3:]):.4f} s", flush=True)
