"""Deploying a federated run with Flower (``flwr run``): the ``ServerApp`` runs the simulator's rounds, the
``ClientApp`` (:func:`zoo.federated.engines.flower_engine.make_client_app`) one client's local steps.

It sits above both the engine and :class:`~zoo.federated.simulator.Simulator` (the simulator picks the engine by
name), so neither of them imports the other's module back.
"""

from __future__ import annotations

from typing import Any

from zoo.federated.engines.flower_engine import make_client_app
from zoo.federated.simulator import Simulator

__all__ = ["make_client_app", "make_server_app"]


def make_server_app(
    problem: Any,
    algorithm: Any,
    rounds: int,
    seed: int = 0,
    timeout: float | None = None,
    on_done: Any = None,
):
    """A Flower ``ServerApp`` running ``rounds`` rounds of ``algorithm`` (for ``flwr run`` deployments). The
    server-side ``problem`` gives the dimension, the start point and the report's ``F`` (give it objectives that
    the server may evaluate, or accept NaN in the report); ``on_done(history)`` receives the history."""
    from flwr.serverapp import ServerApp

    app = ServerApp()

    @app.main()
    def main(grid, context) -> None:
        sim = Simulator(
            problem,
            algorithm,
            engine="flower",
            seed=seed,
            timeout=timeout,
            check_dimensions=False,
            evaluate=None,
        )
        sim.engine.attach(grid)
        for _ in range(int(rounds)):
            sim.step()
        if on_done is not None:
            on_done(sim.history)

    return app
