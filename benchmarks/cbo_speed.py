"""CBO step cost per particle at N=10,000, d=20, zoo vs the cbx package, side by side in one run.

The vectorized objective (zoo's Numba Rastrigin) is excluded from both timings: it is wrapped in a timer and
its time subtracted. zoo's step is ``ask()`` + ``tell()`` (the fused Numba consensus + update kernel, the
per-run bookkeeping and the best-point tracking); cbx's is ``dyn.step()`` (consensus, drift, noise, update,
best-particle tracking; history tracking switched off to give it its best case). Same parameters for both:
anisotropic noise, sigma=10.1, dt=0.01, lambda=1, alpha=30, init U[-3,3]^d.

zoo variants printed: the default (noise read from the shared float32 N(0,1) table, one offset per run and
step), ``noise_source="rng"`` (fresh float64 normals from numpy's generator, ~9 ns each) and
``use_numba=False`` (the plain-numpy twin of the kernel, with fresh normals).

    .venv/bin/python benchmarks/cbo_speed.py [--n 10000] [--d 20] [--steps 40] [--repeats 7]

Target: zoo default <= 0.3 us per particle (cbx: about 0.7 us per particle).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import zoo
from zoo.functions import rastrigin


class TimedObjective:
    """Counts the seconds spent inside the objective, so they can be subtracted."""

    def __init__(self, fun):
        self.fun = fun
        self.seconds = 0.0

    def __call__(self, X):
        t0 = time.perf_counter()
        out = self.fun(X)
        self.seconds += time.perf_counter() - t0
        return out


def _figures(step_seconds: list[float], n: int) -> tuple[float, float]:
    """(median over steps, mean over steps) in microseconds per particle."""
    t = np.asarray(step_seconds) / n * 1e6
    return float(np.median(t)), float(np.mean(t))


def zoo_us_per_particle(n: int, d: int, steps: int, seed: int, **options) -> tuple[float, float]:
    f = TimedObjective(rastrigin)
    opt = zoo.make(
        "cbo",
        dim=d,
        seed=seed,
        popsize=n,
        init_bounds=(-3.0, 3.0),
        sigma=10.1,
        alpha=30.0,
        dt=0.01,
        lambda_=1.0,
        noise="anisotropic",
        alpha_schedule="fixed",
        **options,
    )
    X = opt.ask()
    opt.tell(X, f(X))  # warm-up step (compilation, first allocation)
    per_step = []
    for _ in range(steps):
        f.seconds = 0.0
        t0 = time.perf_counter()
        X = opt.ask()
        opt.tell(X, f(X))
        per_step.append(time.perf_counter() - t0 - f.seconds)
    return _figures(per_step, n)


def cbx_us_per_particle(n: int, d: int, steps: int, seed: int) -> tuple[float, float]:
    from cbx.dynamics import CBO

    f = TimedObjective(rastrigin)

    def f3d(x):  # cbx hands (M, N, d)
        return f(x.reshape(-1, d)).reshape(x.shape[:-1])

    x0 = np.random.default_rng(seed).uniform(-3.0, 3.0, (1, n, d))
    dyn = CBO(
        f3d,
        f_dim="3D",
        x=x0,
        dt=0.01,
        sigma=10.1,
        alpha=30.0,
        lamda=1.0,
        noise="anisotropic",
        max_it=10**9,
        verbosity=0,
        track_args={"names": []},
        seed=seed,
    )
    dyn.step()  # warm-up
    per_step = []
    for _ in range(steps):
        f.seconds = 0.0
        t0 = time.perf_counter()
        dyn.step()
        per_step.append(time.perf_counter() - t0 - f.seconds)
    return _figures(per_step, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    variants = {
        "zoo (default: Numba kernel, table noise)": lambda s: zoo_us_per_particle(
            args.n, args.d, args.steps, s
        ),
        "zoo noise_source='rng' (fresh normals)": lambda s: zoo_us_per_particle(
            args.n, args.d, args.steps, s, noise_source="rng"
        ),
        "zoo use_numba=False (numpy twin, fresh normals)": lambda s: zoo_us_per_particle(
            args.n, args.d, args.steps, s, noise_source="rng", use_numba=False
        ),
        "cbx CBO": lambda s: cbx_us_per_particle(args.n, args.d, args.steps, s),
    }
    medians: dict[str, list[float]] = {k: [] for k in variants}
    means: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(args.repeats):  # interleaved, so machine load hits every variant alike
        for name, fn in variants.items():
            a, b = fn(r)
            medians[name].append(a)
            means[name].append(b)
    med = {k: float(np.median(v)) for k, v in medians.items()}
    mean = {k: float(np.median(v)) for k, v in means.items()}
    print(
        f"CBO step cost, N={args.n}, d={args.d}, {args.steps} steps x {args.repeats} repeats, "
        "objective excluded."
    )
    print("Figure: median over repeats of the median step time; [mean step time, which counts the moments")
    print("the process was descheduled on a loaded machine, in brackets]")
    cbx = med["cbx CBO"]
    for name, t in med.items():
        print(
            f"  {name:50s} {t:7.3f} us/particle [{mean[name]:7.3f}]  (cbx / this = {cbx / t:5.2f}x "
            f"[{mean['cbx CBO'] / mean[name]:5.2f}x])"
        )
    zoo_t = med["zoo (default: Numba kernel, table noise)"]
    met = zoo_t <= 0.3
    print(
        f"zoo default {zoo_t:.3f} us/particle vs cbx {cbx:.3f}: zoo is {cbx / zoo_t:.1f}x faster; "
        f"target <= 0.3 us: {'met' if met else 'NOT met'}"
    )
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
