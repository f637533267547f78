"""Demo section: FZooS vs FedZO on the heterogeneous quadratic (5 clients), F against rounds and queries."""

from __future__ import annotations

from pathlib import Path

from zoo.federated import Simulator, make_algorithm, problems
from zoo.plotting import have_matplotlib


def demo(out: Path, quick: bool) -> None:
    from zoo.federated.simulator import single_threaded_blas

    with single_threaded_blas():
        _demo(out, quick)


def _demo(out: Path, quick: bool) -> None:
    d, rounds = (20, 5) if quick else (100, 15)
    problem = problems.quadratic(dim=d, n_clients=5, heterogeneity=0.5, seed=0)
    print(
        f"   heterogeneous quadratic d={d}, 5 clients, 10 local steps, {rounds} rounds; "
        f"F(x0) - F* = {problem.global_value(problem.x0) - problem.f_min:.4g}"
    )
    runs = {}
    for name in ("fedzo", "fzoos"):
        hist = Simulator(problem, make_algorithm(name), seed=0).run(rounds)
        runs[name] = hist
        print(
            f"   {name:<7} F - F* = {hist.gap()[-1]:.4g}   client queries {int(hist.queries[-1])}   "
            f"upload {int(hist.bytes_up[-1]) // 5} B per client per round"
        )
    if have_matplotlib():
        from zoo.federated.plots import federated_plot

        path = federated_plot(runs, out / "federated_quadratic.png", title=f"quadratic d={d}, 5 clients")
        print(f"   plot: {path}")
