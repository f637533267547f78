"""Numba kernel vs its numpy twin: direction sampling + estimate assembly at d=10^4, q=64; first-call compile time.

    python benchmarks/core_kernels.py [--repeats 30]

Three ways of building the probe batch X = [x, x + mu u_1, ..., x + mu u_q] and assembling g = sum_i w_i u_i:
  numba (table):  zoo's kernels reading Gaussian directions from the shared noise table (the default)
  numpy (table):  the plain-numpy twin of the same computation (fancy indexing into the table)
  numpy (fresh):  fresh N(0, 1) draws from a numpy Generator, the textbook implementation
The compile time is measured in a fresh subprocess with an empty Numba cache (then with the cache warm).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from zoo.kernels import noise


def time_it(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


COMPILE_SNIPPET = """
import time, numpy as np
t0 = time.perf_counter()
from zoo.kernels import noise
noise.noise_table()  # built once per process; not part of the compile time
t1 = time.perf_counter()
x = np.zeros(10); off = np.array([0, 5])
noise.perturb_rows(x, off, 0.1, False, False); noise.assemble_rows(off, np.ones(2), 10)
t2 = time.perf_counter()
print(f"{t2 - t1:.3f}")
"""


def compile_time(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", COMPILE_SNIPPET], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--d", type=int, default=10_000)
    ap.add_argument("--q", type=int, default=64)
    args = ap.parse_args()
    d, q, mu = args.d, args.q, 1e-3
    rng = np.random.default_rng(0)
    x = rng.standard_normal(d)
    w = rng.standard_normal(q)
    noise.noise_table()

    def numba_table():
        off = noise.draw_offsets(rng, q, d)
        X, s = noise.perturb_rows(x, off, mu, False, False, use_numba=True)
        return noise.assemble_rows(off, w * s, d, use_numba=True)

    def numpy_table():
        off = noise.draw_offsets(rng, q, d)
        X, s = noise.perturb_rows(x, off, mu, False, False, use_numba=False)
        return noise.assemble_rows(off, w * s, d, use_numba=False)

    gen = np.random.default_rng(1)

    def numpy_fresh():
        U = gen.standard_normal((q, d))
        X = np.concatenate([x[None, :], x + mu * U])
        return w @ U, X

    t = {
        name: time_it(fn, args.repeats)
        for name, fn in [
            ("numba (table)", numba_table),
            ("numpy (table)", numpy_table),
            ("numpy (fresh)", numpy_fresh),
        ]
    }
    print(f"direction sampling + estimate assembly, d={d}, q={q}, median of {args.repeats}")
    for name, v in t.items():
        print(f"  {name:<14} {v * 1e3:8.3f} ms   ({v / q * 1e6:7.2f} us per direction)")
    print(f"  speed-up numba vs numpy twin:      {t['numpy (table)'] / t['numba (table)']:.1f}x")
    print(f"  speed-up numba vs fresh numpy draws: {t['numpy (fresh)'] / t['numba (table)']:.1f}x")
    with tempfile.TemporaryDirectory() as cache:
        cold = compile_time(cache)
        warm = compile_time(cache)
    print(
        f"first-call compile time (perturb + assemble): {cold:.2f} s cold cache, {warm:.3f} s from the cache"
    )


if __name__ == "__main__":
    main()
