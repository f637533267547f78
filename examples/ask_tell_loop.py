"""The ask/tell loop with a batched objective, a checkpoint, and an exact resume.

python examples/ask_tell_loop.py      # about 5 s on one CPU core
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import zoo
from zoo.core import checkpoint

f = zoo.functions.rosenbrock  # vectorized: f(X) for X of shape (n, d)


def run(opt, until):
    while not opt.stop() and opt.nfev < until:
        X = opt.ask()  # (n, d), read-only
        opt.tell(X, f(X))  # (n,)


def main() -> None:
    x0 = np.random.default_rng(0).standard_normal(50)
    opt = zoo.make("rge", x0=x0, seed=0, q=4, budget=4000)
    run(opt, until=2000)
    path = Path(tempfile.mkdtemp()) / "rge.npz"
    checkpoint.save(path, opt.state_dict())  # plain arrays and numbers, no pickle
    print(f"after {opt.nfev} queries: best f = {opt.best[1]:.4g}; saved to {path}")

    resumed = zoo.make("rge", x0=x0, seed=123, q=4, budget=4000)  # the seed is restored from the file
    resumed.load_state_dict(checkpoint.load(path))
    run(opt, until=4000)
    run(resumed, until=4000)
    assert np.array_equal(opt.best[0], resumed.best[0])
    print(f"after {opt.nfev} queries: best f = {opt.best[1]:.4g} (the resumed run matches bit for bit)")


if __name__ == "__main__":
    main()
