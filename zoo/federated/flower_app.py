"""The Flower ``ServerApp`` of a zoo federated run, for ``flwr run`` deployments (the ``ClientApp`` is
:func:`zoo.federated.engines.flower_engine.make_client_app`). It sits above the simulator, which builds the Flower
engine, so the engine never imports the simulator.
"""

from __future__ import annotations

from typing import Any

from zoo.federated.simulator import Simulator


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
            problem, algorithm, engine="flower", seed=seed, timeout=timeout, check_dimensions=False
        )
        sim.engine.attach(grid)
        for _ in range(int(rounds)):
            sim.step()
        if on_done is not None:
            on_done(sim.history)

    return app
