"""Demo section "ranking": ZO-RankSGD on Rosenbrock from rankings alone vs values, and a simulated person
finding a colour in ``zoo rank``'s session."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

import zoo
from zoo.core.rank_oracle import RankOracle
from zoo.plotting import convergence_plot, have_matplotlib


def rank_run(f, x0: np.ndarray, budget: int, seed: int, kind: str, **kw) -> tuple[list[int], list[float]]:
    """rank-sgd fed by a RankOracle; the trace evaluates f at the iterate for the plot only."""
    opt = zoo.make("rank-sgd", x0=x0, seed=seed, budget=budget)
    oracle = RankOracle(f, dim=len(x0), kind=kind, seed=seed, **kw)
    nfev, fx = [], []
    while not opt.stop():
        X = opt.ask()
        opt.tell(X, **oracle(X).as_kwargs())
        nfev.append(opt.nfev)
        fx.append(float(f(opt.state.x[None])[0]))
    return nfev, fx


def demo(out: Path, quick: bool) -> None:
    from zoo.session import RankingSession, colour_auto_answer
    from zoo.session.render import colour_of, hex_colour

    d, budget = (30, 600) if quick else (100, 2000)
    f = zoo.functions.rosenbrock
    x0 = np.random.default_rng(0).standard_normal(d)
    f0 = float(f(x0[None])[0])
    print(f"   Rosenbrock d={d}, {budget} queries; rank-sgd sees only comparisons of its points")
    runs = {
        "rank-sgd, full ranking": rank_run(f, x0, budget, 0, "full"),
        "rank-sgd, top-1": rank_run(f, x0, budget, 0, "topk", k=1),
        "rank-sgd, m/2 pairs": rank_run(f, x0, budget, 0, "pairs"),
    }
    rge = zoo.minimize(f, x0, "rge", budget=budget, seed=0, vectorized=True, options={"q": 2})
    runs["rge q=2 (values)"] = (list(rge.history["nfev"]), list(rge.history["fun"]))
    for label, (_, fx) in runs.items():
        print(f"   {label:<24} f/f0 = {fx[-1] / f0:.4f}")
    if have_matplotlib():
        path = convergence_plot(
            runs, out / "ranking_rosenbrock.png", title=f"Rosenbrock d={d}: rankings vs values", f0=f0
        )
        print(f"   plot: {path}")
    with tempfile.TemporaryDirectory() as tmp:
        s = RankingSession.create(Path(tmp) / "colour.npz", target="#ff8800", ansi=False)
        s.run(rounds=20 if quick else 40, auto=colour_auto_answer("#ff8800"), write=lambda _line: None)
        print(
            "   zoo rank (simulated person, target #ff8800): grey #808080 -> "
            f"{hex_colour(colour_of(s.pick))} after {s.round} ranked rounds"
        )
