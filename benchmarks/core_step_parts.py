"""Where a step's overhead goes (issue 9): CPU time of each part of one ask / tell of a gradient method at d=10.

    PYTHONPATH=$PWD python benchmarks/core_step_parts.py [--method rge --q 8] [--method cge]

The method runs 300 steps on ``1 + |x - 0.5|^2`` from x0 = 1 (seed 0), then each part is called on the state it
has reached, ``--number`` times in a row, best of 5 (``time.process_time``: being descheduled does not count):
the whole step (ask, objective, tell), the objective, the probe batch, the estimate, the step control's update
(with its inner rule's share beside it), the probe radius, the state copy (``evolve``) and ``_tell``. Parts are
timed alone, so they do not add up exactly to the step; the figures tell which part to work on, the ratios
against the old tree come from ``core_overhead_ab.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import zoo
from zoo.core.method import evolve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="rge")
    ap.add_argument("--q", type=int, default=8, help="directions (rge)")
    ap.add_argument("--number", type=int, default=3000)
    args = ap.parse_args()
    options = {"q": args.q} if args.method == "rge" else {}

    def f(X):
        return 1.0 + np.sum((X - 0.5) ** 2, axis=1)

    opt = zoo.make(args.method, x0=np.ones(10), seed=0, **options)
    for _ in range(300):
        X = opt.ask()
        opt.tell(X, f(X))

    def timed(fn) -> float:
        best = np.inf
        for _ in range(5):
            t0 = time.process_time()
            for _ in range(args.number):
                fn()
            best = min(best, (time.process_time() - t0) / args.number * 1e6)
        return best

    def step():
        X = opt.ask()
        opt.tell(X, f(X))

    parts = {"whole step": timed(step)}
    X = opt.ask()
    v = f(X)
    state, rng = opt.state, opt.rng
    g = opt._estimate(state, X, v)
    value, exact = opt._centre_value(state, v)
    parts["objective"] = timed(lambda: f(X))
    parts["_probe"] = timed(lambda: opt._probe(state.x, rng))
    parts["_estimate"] = timed(lambda: opt._estimate(state, X, v))
    parts["step control update"] = timed(
        lambda: opt.rule.update(g, state.rule, state.x, value=value, exact=exact, probe_values=v)
    )
    parts["  of which the inner rule"] = timed(lambda: opt.rule.inner.update(g, state.rule["inner"], state.x))
    parts["probe radius"] = timed(lambda: opt.rule.probe_radius(state.rule, state.x))
    parts["evolve (state copy)"] = timed(lambda: evolve(state, x=state.x, t=1, probe={}, g=g))
    parts["_tell"] = timed(lambda: opt._tell(state, X, v, rng))
    label = f"{args.method}" + (f" q={args.q}" if args.method == "rge" else "")
    print(f"{label}, d=10: us per call, CPU time, best of 5 x {args.number}")
    for name, us in parts.items():
        print(f"  {name:28s} {us:7.2f}")


if __name__ == "__main__":
    main()
