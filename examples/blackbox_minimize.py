"""Minimize a black box you can only evaluate, one point at a time, with a budget and a plot.

python examples/blackbox_minimize.py  # about 6 s on one CPU core
"""

from __future__ import annotations

import numpy as np

import zoo


def simulator(x: np.ndarray) -> float:
    """A stand-in for an expensive black box: a shifted, rotated ill-conditioned valley with a little noise
    in the last digits, and a region where it fails (returns NaN)."""
    if x[0] > 3.0:
        return float("nan")  # the "simulator" crashes there; zoo records it and ranks it worst
    z = x - np.linspace(-1, 1, x.size)
    return float(np.sum(np.arange(1, x.size + 1) * z**2) + 1e-9 * np.sin(1e3 * z).sum())


def main() -> None:
    x0 = np.zeros(30)
    # rge at its defaults: no learning rate to tune (a fixed lr=0.05 turned its learned metric off and ended
    # at 0.16 here; the defaults reach ~1e-7)
    res = zoo.minimize(simulator, x0, method="rge", budget=3000, seed=0, progress=True)
    print(res)
    if zoo.plotting.have_matplotlib():
        path = zoo.plotting.convergence_plot({"rge": res}, "zoo-out/blackbox.png", f0=simulator(x0))
        print("plot:", path)


if __name__ == "__main__":
    main()
