"""GA framework overhead per candidate at population 1,000, d=100, with a free objective (returns zeros).

Side by side in one run, interleaved repeat by repeat so that machine noise hits every library alike:

- zoo ``ga`` (Deep GA: truncation T=20, Gaussian table mutation, elitism, no crossover), with its Numba
  offspring kernel and with the kernel's numpy twin (``use_numba=False``, what the kernel buys),
- EvoTorch ``GeneticAlgorithm`` (GaussianMutation only, elitist, ``re_evaluate=False``, its default float32;
  torch 1 thread),
- pymoo ``GA`` with its defaults (tournament, SBX, polynomial mutation, duplicate elimination) and with
  ``eliminate_duplicates=False``.

A candidate is one evaluated point. The figure is (time of ask + objective + tell per generation) / (points
evaluated in that generation); the median over generations and repeats, after warm-up generations. The
objective returns zeros, so the time is the framework's. Target: zoo <= 1 us per candidate.

    .venv/bin/python benchmarks/ga_overhead.py [--popsize 1000] [--dim 100] [--generations 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import numpy as np

import zoo

TARGET_US = 1.0


def zoo_runner(popsize: int, dim: int, seed: int, use_numba: bool = True):
    opt = zoo.make(
        "ga", x0=np.zeros(dim), seed=seed, popsize=popsize, truncation=20, sigma=0.1, use_numba=use_numba
    )

    def generation() -> int:
        X = opt.ask()
        opt.tell(X, np.zeros(len(X)))
        return len(X)

    return generation


def evotorch_runner(popsize: int, dim: int, seed: int):
    import torch
    from evotorch import Problem
    from evotorch.algorithms import GeneticAlgorithm
    from evotorch.decorators import vectorized
    from evotorch.operators import GaussianMutation

    torch.set_num_threads(1)
    counter = {"n": 0}

    @vectorized
    def free(X: torch.Tensor) -> torch.Tensor:
        counter["n"] += X.shape[0]
        return torch.zeros(X.shape[0], dtype=X.dtype)

    logging.getLogger("evotorch").setLevel(logging.WARNING)
    problem = Problem("min", free, solution_length=dim, initial_bounds=(-1.0, 1.0), seed=seed)  # float32
    ga = GeneticAlgorithm(
        problem, popsize=popsize, operators=[GaussianMutation(problem, stdev=0.1)], re_evaluate=False
    )

    def generation() -> int:
        before = counter["n"]
        ga.step()
        return counter["n"] - before

    return generation


def pymoo_runner(popsize: int, dim: int, seed: int, eliminate_duplicates: bool):
    from pymoo.algorithms.soo.nonconvex.ga import GA
    from pymoo.core.problem import Problem

    class Free(Problem):
        def __init__(self):
            super().__init__(n_var=dim, n_obj=1, xl=-1.0, xu=1.0)

        def _evaluate(self, x, out, *args, **kwargs):
            out["F"] = np.zeros(len(x))

    problem = Free()
    algo = GA(pop_size=popsize, eliminate_duplicates=eliminate_duplicates)
    algo.setup(problem, termination=("n_gen", 10**9), seed=seed, verbose=False)

    def generation() -> int:
        pop = algo.ask()
        algo.evaluator.eval(problem, pop)
        algo.tell(infills=pop)
        return len(pop)

    return generation


def measure(generation, n_gen: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        generation()
    per_candidate = []
    for _ in range(n_gen):
        t0 = time.perf_counter()
        n = generation()
        per_candidate.append((time.perf_counter() - t0) / max(n, 1) * 1e6)
    return per_candidate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--popsize", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--generations", type=int, default=20, help="timed generations per repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--skip", default="", help="comma list of runners to skip: evotorch,pymoo,pymoo-nodup")
    args = ap.parse_args(argv)

    skip = set(filter(None, args.skip.split(",")))
    makers = {
        "zoo ga": lambda s: zoo_runner(args.popsize, args.dim, s),
        "zoo ga (numpy twin)": lambda s: zoo_runner(args.popsize, args.dim, s, use_numba=False),
        "evotorch GeneticAlgorithm": lambda s: evotorch_runner(args.popsize, args.dim, s),
        "pymoo GA (defaults)": lambda s: pymoo_runner(args.popsize, args.dim, s, True),
        "pymoo GA (no dup. elim.)": lambda s: pymoo_runner(args.popsize, args.dim, s, False),
    }
    keys = {
        "evotorch GeneticAlgorithm": "evotorch",
        "pymoo GA (defaults)": "pymoo",
        "pymoo GA (no dup. elim.)": "pymoo-nodup",
    }
    makers = {k: v for k, v in makers.items() if keys.get(k) not in skip}
    samples: dict[str, list[float]] = {k: [] for k in makers}
    for r in range(args.repeats):  # interleaved: every library sees the same machine load
        for name, make in makers.items():
            samples[name] += measure(make(r), args.generations, args.warmup)
    print(
        f"GA overhead per candidate, population {args.popsize}, d={args.dim}, free objective "
        f"(median over {args.repeats} x {args.generations} generations)"
    )
    zoo_us = statistics.median(samples["zoo ga"])
    for name, vals in samples.items():
        med = statistics.median(vals)
        ratio = "" if name == "zoo ga" else f"   {med / zoo_us:7.1f}x zoo"
        print(f"  {name:<28} {med:9.3f} us/candidate{ratio}")
    met = zoo_us <= TARGET_US
    print(f"target zoo <= {TARGET_US} us/candidate: {'met' if met else 'NOT met'} ({zoo_us:.3f} us)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
