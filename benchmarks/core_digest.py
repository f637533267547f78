"""A digest of 420 trajectories of the numpy gradient methods, to hold a speed change to bit for bit (issue 9).

    PYTHONPATH=<tree> python benchmarks/core_digest.py      # run it in two trees: the two lines must be equal

20 gradient configurations (zo-adam q=1/8/64, rge with its metric, zo-sgd, zo-signsgd, spsa, cge forward /
central / sparse, table and rng noise, a fixed lr, central differences, sphere directions, bounds, the saddle
perturbation, a fixed mu) x 7 objectives (sphere, shifted sphere, Rosenbrock, a NaN half-space, additive noise
from a seeded generator, overflow near 1e300, a subnormal sphere) x 3 seeds (seed 2 starts from an x0 with -0.0
entries), 120 steps each, d=10: every batch, every value, a resume through ``state_dict`` at step 60 (its next
batch), the final ``outcome()`` and iterate go into one SHA-256. Prints the number of runs and the digest.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

import zoo

CONFIGS = [
    ("zo-adam", {"q": 1}),
    ("zo-adam", {"q": 8}),
    ("zo-adam", {"q": 64}),
    ("rge", {}),
    ("rge", {"q": 4}),
    ("zo-sgd", {}),
    ("zo-signsgd", {}),
    ("spsa", {}),
    ("cge", {}),
    ("cge", {"difference": "central"}),
    ("cge", {"coordinates": 3}),
    ("zo-adam", {"q": 8, "noise": "rng"}),
    ("zo-adam", {"q": 8, "lr": 0.01}),
    ("cge", {"lr": 0.01}),
    ("zo-adam", {"q": 8, "difference": "central"}),
    ("zo-adam", {"q": 4, "directions": "sphere"}),
    ("zo-adam", {"q": 8, "bounds": "box"}),
    ("cge", {"bounds": "box"}),
    ("zo-adam", {"q": 8, "perturbation": "auto"}),
    ("zo-sgd", {"q": 4, "mu": 1e-3}),
]


def objectives(seed):
    r = np.random.default_rng(seed + 100)
    return {
        "sphere": zoo.functions.sphere,
        "shifted": lambda X: 1.0 + np.sum((X - 0.5) ** 2, axis=1),
        "rosen": lambda X: np.sum(100 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2, axis=1),
        "nan": lambda X: np.where(X[:, 0] > 1.2, np.nan, np.sum(X**2, axis=1)),
        "noise": lambda X: np.sum(X**2, axis=1) + 0.01 * r.standard_normal(len(X)),
        "overflow": lambda X: np.sum((1e150 * X) ** 2, axis=1),
        "subnormal": lambda X: 1e-300 * np.sum(X**2, axis=1),
    }


def main() -> None:
    warnings.simplefilter("ignore")
    h = hashlib.sha256()
    n = 0
    for name, opts in CONFIGS:
        for seed in range(3):
            for f in objectives(seed).values():
                o = dict(opts)
                if o.pop("bounds", None):
                    o["bounds"] = (-2 * np.ones(10), 2 * np.ones(10))
                x0 = np.ones(10) if seed != 2 else np.array([-0.0, 1.0] * 5)
                opt = zoo.make(name, x0=x0, seed=seed, **o)
                for k in range(120):
                    X = opt.ask()
                    v = f(X)
                    opt.tell(X, v)
                    h.update(X.tobytes())
                    h.update(np.asarray(v, dtype=float).tobytes())
                    if k == 60:
                        sd = opt.state_dict()
                        opt2 = zoo.make(name, x0=x0, seed=seed, **o)
                        opt2.load_state_dict(sd)
                        X2 = opt2.ask()
                        h.update(X2.tobytes())
                h.update(repr(opt.outcome()).encode())
                h.update(opt.x.tobytes())
                n += 1
    print(n, h.hexdigest())


if __name__ == "__main__":
    main()
