"""Issue 15: saddle escape of the two-point methods with and without the perturbation option.

Problems, each started exactly at a strict saddle:
- ``quartic-d10`` / ``quartic-d100``: f(x) = x^T A x / 2 + ||x||^4 / 4, A = diag(-1 (k times), linspace(0.5, 2)),
  k = 1 (d=10) and k = 3 (d=100); minima f* = -1/4 at unit vectors of the negative eigenspace.
- ``tanh-net``: a 10-4-1 tanh network's mean squared error on scikit-learn's diabetes data (standardized), all
  weights 0: a critical point (every partial derivative is 0) with negative curvature (the input-output
  correlation couples the two layers), f = 1.

"Reached the basin": the best value queried is at most halfway from the saddle's value to the minimum (quartic:
f <= -1/8; net: f <= (1 + f_ls) / 2, f_ls the least-squares linear fit's loss, which the net can match).
Budget 200 d queries, 20 seeds. Variants (nothing tuned per problem; m = max(1, d // 10) directions):
rge defaults (forward, q=1), rge + perturbation, two-point central q=m with the default step control, the same +
perturbation (Ren, Tang & Li's method), and both with a fixed step lr=0.1 SGD (the papers' setting).

    PYTHONPATH=$PWD nice -n 10 python benchmarks/gfm_saddle.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import zoo


def quartic(d: int, k: int):
    eig = np.r_[-np.ones(k), np.linspace(0.5, 2.0, d - k)]

    def f(X):
        X = np.atleast_2d(X)
        return 0.5 * (X**2) @ eig + 0.25 * np.sum(X**2, axis=1) ** 2

    return f, 0.0, -0.125


def tanh_net(hidden: int = 4):
    from sklearn.datasets import load_diabetes

    Xd, y = load_diabetes(return_X_y=True)
    Xd = (Xd - Xd.mean(0)) / Xd.std(0)
    y = (y - y.mean()) / y.std()
    n, p = Xd.shape
    d = p * hidden + hidden + hidden + 1

    def f(W):
        W = np.atleast_2d(W)
        W1 = W[:, : p * hidden].reshape(-1, hidden, p)
        b1 = W[:, p * hidden : p * hidden + hidden]
        w2 = W[:, p * hidden + hidden : p * hidden + 2 * hidden]
        b2 = W[:, -1]
        H = np.tanh(np.einsum("bhp,np->bnh", W1, Xd) + b1[:, None, :])
        out = np.einsum("bnh,bh->bn", H, w2) + b2[:, None]
        return np.mean((out - y) ** 2, axis=1)

    coef, *_ = np.linalg.lstsq(np.c_[Xd, np.ones(n)], y, rcond=None)
    f_ls = float(np.mean((np.c_[Xd, np.ones(n)] @ coef - y) ** 2))
    return f, d, 1.0, 0.5 * (1.0 + f_ls), f_ls


def variants(d: int) -> dict[str, dict]:
    m = max(1, d // 10)
    central = {"difference": "central", "q": m}
    fixed = {**central, "update": "sgd", "lr": 0.1}
    return {
        "rge (defaults)": {},
        "rge + perturbation": {"perturbation": "auto"},
        f"central q={m}": central,
        f"central q={m} + perturbation": {**central, "perturbation": "auto"},
        f"central q={m}, lr=0.1": fixed,
        f"central q={m}, lr=0.1 + perturbation": {**fixed, "perturbation": "auto"},
    }


def first_below(res, level: float) -> int | None:
    hit = np.flatnonzero(res.history["fun"] <= level)
    return int(res.history["nfev"][hit[0]]) if hit.size else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    problems = []
    for d, k in ((10, 1), (100, 3)):
        f, f_saddle, level = quartic(d, k)
        problems.append((f"quartic-d{d} (k={k} negative)", f, d, f_saddle, level))
    f, d, f_saddle, level, f_ls = tanh_net()
    problems.append((f"tanh-net d={d} (f_ls={f_ls:.3f})", f, d, f_saddle, level))
    print(
        "| problem | variant | reached | median queries (reached) | final best f, median | queries per seed (- = not reached) |"
    )
    print("|---|---|---|---|---|---|")
    for pname, f, d, _f_saddle, level in problems:
        budget = 200 * d
        for vname, opts in variants(d).items():
            t0 = time.perf_counter()
            hits, finals = [], []
            for seed in range(args.seeds):
                res = zoo.minimize(
                    f, np.zeros(d), "rge", budget=budget, seed=seed, vectorized=True, options=opts
                )
                hits.append(first_below(res, level))
                finals.append(res.fun)
            got = [h for h in hits if h is not None]
            med = f"{np.median(got):.0f}" if got else "-"
            per = " ".join("-" if h is None else str(h) for h in hits)
            print(
                f"| {pname}, budget {budget} | {vname} | {len(got)}/{args.seeds} | {med} | "
                f"{np.median(finals):.4g} | {per} |",
                flush=True,
            )
            print(f"  {pname} / {vname}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
