"""Library overhead per query with a free objective (batched sphere), zoo vs nevergrad and pycma, in one run.

    python benchmarks/core_overhead.py [--repeats 5]

overhead per candidate = (time of the ask/tell loop - time of the objective on the same batches) / candidates.
Every figure is the median over repeats; the ratios compare figures measured in this same process.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import zoo

sphere = zoo.functions.sphere


def zoo_loop(method, d, n_candidates, options):
    opt = zoo.make(method, x0=np.ones(d), seed=0, **options)
    X = opt.ask()
    opt.tell(X, sphere(X))  # warm-up (kernels compiled, caches filled)
    t_obj = 0.0
    done = 0
    t0 = time.perf_counter()
    while done < n_candidates:
        X = opt.ask()
        t1 = time.perf_counter()
        v = sphere(X)
        t_obj += time.perf_counter() - t1
        opt.tell(X, v)
        done += len(X)
    total = time.perf_counter() - t0
    return (total - t_obj) / done, total / done


def nevergrad_loop(d, n_candidates):
    import nevergrad as ng

    opt = ng.optimizers.OnePlusOne(parametrization=ng.p.Array(shape=(d,)), budget=n_candidates + 10)
    opt.parametrization.random_state = np.random.RandomState(0)
    t_obj = 0.0
    t0 = time.perf_counter()
    for _ in range(n_candidates):
        cand = opt.ask()
        t1 = time.perf_counter()
        v = float(sphere(cand.value[None, :])[0])
        t_obj += time.perf_counter() - t1
        opt.tell(cand, v)
    total = time.perf_counter() - t0
    return (total - t_obj) / n_candidates, total / n_candidates


def cma_loop(d, n_candidates):
    import cma

    es = cma.CMAEvolutionStrategy(np.ones(d), 0.5, {"seed": 1, "verbose": -9, "maxfevals": 10**9})
    t_obj = 0.0
    done = 0
    t0 = time.perf_counter()
    while done < n_candidates:
        X = es.ask()
        t1 = time.perf_counter()
        v = sphere(np.asarray(X)).tolist()
        t_obj += time.perf_counter() - t1
        es.tell(X, v)
        done += len(X)
    total = time.perf_counter() - t0
    return (total - t_obj) / done, total / done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    print(f"median over {args.repeats} repeats; us per candidate: overhead (objective excluded) / total\n")
    rows = []
    for d in (10, 1000):
        n_zoo = 200_000 if d == 10 else 20_000
        configs = [
            ("zoo rge q=64", zoo_loop, ("rge", d, n_zoo, {"q": 64})),
            ("zoo rge q=8", zoo_loop, ("rge", d, n_zoo // 4, {"q": 8})),
            # rge without its learned metric (the metric is on for d <= 200 by default)
            ("zoo zo-adam q=64", zoo_loop, ("zo-adam", d, n_zoo, {"q": 64})),
            ("zoo cge (all d)", zoo_loop, ("cge", d, n_zoo, {})),
            ("nevergrad OnePlusOne", nevergrad_loop, (d, 2000 if d == 10 else 500)),
            ("pycma ask/tell", cma_loop, (d, 5000 if d == 10 else 480)),
        ]
        res = {}
        for name, fn, fargs in configs:
            runs = np.array([fn(*fargs) for _ in range(args.repeats)]) * 1e6
            res[name] = np.median(runs, axis=0)
        for name, (over, total) in res.items():
            rows.append((d, name, over, total))
            print(f"d={d:<5} {name:<22} overhead {over:9.3f} us   total {total:9.3f} us")
        for zname in ("zoo rge q=64", "zoo cge (all d)"):
            for anchor in ("nevergrad OnePlusOne", "pycma ask/tell"):
                print(f"d={d:<5} {anchor} / {zname}: {res[anchor][0] / res[zname][0]:8.1f}x")
        print()


if __name__ == "__main__":
    main()
