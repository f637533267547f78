"""The Flower engine: zoo's federated algorithms as a Flower ``ServerApp`` (the strategy: broadcast, aggregate)
and a Flower ``ClientApp`` (the local ZO steps), run in Flower's simulation runtime or deployed with Flower.

Server side: :func:`zoo.federated.deploy.make_server_app` runs the simulator's rounds inside the ``ServerApp``'s main function; each
round sends every sampled client a ``train`` message (the broadcast arrays in an ``ArrayRecord``, the round and
client id in a ``ConfigRecord``) and aggregates the replies. Client side: :func:`make_client_app` runs
:func:`zoo.federated.engines.local.run_clients` for one client and keeps the client's state (e.g. the FZooS
history, the SCAFFOLD control variate) in the node's ``context.state``. Each client draws from its own
generator (seed, round, client), so the numbers equal the local engine's.

Deployment: build the apps with :func:`zoo.federated.deploy.make_server_app` / :func:`make_client_app` (both in
:mod:`zoo.federated.deploy`) in a Flower app module and
start it with ``flwr run``; each SuperNode must then hold (only) its own objective in ``problem.objectives``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from zoo.core._deprecated import moved

_STATE_KEY = "zoo-client-state"


def _drop_run_simulation_deprecation(record: logging.LogRecord) -> bool:
    """A ``logging`` filter: False for Flower's "DEPRECATED FEATURE: The `run_simulation` function ..." record."""
    text = record.getMessage()
    return not (text.startswith("DEPRECATED FEATURE") and "run_simulation" in text)


def _records(arrays: dict[str, np.ndarray]):
    from flwr.app import Array, ArrayRecord

    rec = ArrayRecord()
    for k, v in arrays.items():
        rec[k] = Array(np.ascontiguousarray(np.asarray(v, dtype=np.float64)))
    return rec


def _arrays(record) -> dict[str, np.ndarray]:
    return {k: np.array(v.numpy(), dtype=np.float64) for k, v in record.items()}


def make_client_app(problem: Any, algorithm: Any, seed: int, timeout: float | None = None):
    """A Flower ``ClientApp`` running ``algorithm``'s local steps on the client named in each message. The
    client enforces ``timeout`` on its own work (see :class:`zoo.federated.clients.ClientBatch`), so a late or
    hung client replies in time with its fault and the queries it made."""
    from flwr.app import ConfigRecord, Message, RecordDict
    from flwr.clientapp import ClientApp

    from zoo.federated.engines.local import AlgorithmDiverged, run_clients

    app = ClientApp()

    @app.query()
    def ready(msg: Message, context) -> Message:  # the warm-up before round 0: start-up is no client's time
        return Message(content=RecordDict({"ready": ConfigRecord({"ok": True})}), reply_to=msg)

    @app.train()
    def train(msg: Message, context) -> Message:
        cfg = msg.content["config"]
        client, rnd = int(cfg["client"]), int(cfg["round"])
        message = _arrays(msg.content["message"])
        if _STATE_KEY in context.state:
            state = _arrays(context.state[_STATE_KEY])
            state = {k: (v.reshape(-1, problem.dim) if k == "X" else v) for k, v in state.items()}
        else:
            state = algorithm.init_client(problem.dim)
        allowance = None if int(cfg["allowance"]) < 0 else np.array([int(cfg["allowance"])])
        steps = None if int(cfg["steps"]) < 0 else np.array([int(cfg["steps"])])
        try:
            ((upload, new_state, report),) = run_clients(
                problem, algorithm, message, np.array([client]), [state], seed, rnd, timeout, allowance, steps
            )
        except AlgorithmDiverged as exc:  # travels back as a reply, re-raised by the server
            content = RecordDict({"diverged": ConfigRecord({"message": str(exc)})})
            return Message(content=content, reply_to=msg)
        if new_state is not None:
            context.state[_STATE_KEY] = _records(new_state)
        content = RecordDict(
            {
                "report": ConfigRecord(
                    {
                        "queries": int(report["queries"]),
                        "nonfinite": int(report["nonfinite"]),
                        "seconds": float(report["seconds"]),
                        "fault": report["fault"] or "",
                    }
                ),
            }
        )
        if upload is not None:
            content["upload"] = _records(upload)
        return Message(content=content, reply_to=msg)

    return app


class FlowerEngine:
    name = "flower"

    def __init__(
        self,
        problem: Any,
        algorithm: Any,
        seed: int,
        timeout: float | None = None,
        num_cpus: int = 2,
        backend_config: dict[str, Any] | None = None,
        grace: float = 30.0,
    ) -> None:
        try:
            import flwr  # noqa: F401
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise ModuleNotFoundError(
                "the flower engine needs flwr: pip install 'zoo-dfo[federated]'"
            ) from exc
        self.problem, self.algorithm, self.seed, self.timeout = problem, algorithm, seed, timeout
        self.backend_config = backend_config or {
            "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
            "init_args": {"num_cpus": num_cpus, "include_dashboard": False, "log_to_driver": False},
        }
        self.grid = None
        self.nodes: list[int] = []
        self.grace = float(grace)

    def drive(self, loop) -> None:
        """Run the simulator's rounds (``loop``) inside a Flower ServerApp, in Flower's simulation runtime."""
        from flwr.serverapp import ServerApp
        from flwr.simulation import run_simulation

        server_app = ServerApp()
        errors: list[BaseException] = []

        @server_app.main()
        def main(grid, context) -> None:
            try:
                self.attach(grid)
                loop()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
                errors.append(exc)

        client_app = make_client_app(self.problem, self.algorithm, self.seed, self.timeout)
        # flwr 1.42 marks run_simulation deprecated in favour of `flwr run`, but has no other in-process entry
        # (docs/federated.md, "flower"): zoo calls it on the user's behalf, so its deprecation notice, logged on
        # every run, is noise to zoo's user; only that record is dropped, every other Flower log line stays
        flwr_logger = logging.getLogger("flwr")
        flwr_logger.addFilter(_drop_run_simulation_deprecation)
        try:
            run_simulation(
                server_app,
                client_app,
                num_supernodes=self.problem.n_clients,
                backend_config=self.backend_config,
            )
        finally:
            flwr_logger.removeFilter(_drop_run_simulation_deprecation)
        self.grid = None
        if errors:
            raise errors[0]

    def attach(self, grid, wait: float = 120.0) -> None:
        """Use ``grid`` (a Flower Grid) for the rounds, once every client node has registered."""
        deadline = time.monotonic() + wait
        while len(list(grid.get_node_ids())) < self.problem.n_clients:  # nodes register asynchronously
            if time.monotonic() > deadline:
                raise RuntimeError(f"Flower: fewer than {self.problem.n_clients} client nodes after {wait} s")
            time.sleep(0.1)
        self.grid = grid
        self.nodes = sorted(grid.get_node_ids())
        # one query to every node, waited for without a timeout: the runtime's actors start (tens of seconds
        # here) before round 0, so the clients' timeout measures their work, not Flower's start-up
        from flwr.app import ConfigRecord, Message, RecordDict

        pings = [
            Message(
                content=RecordDict({"ping": ConfigRecord({"ok": True})}),
                dst_node_id=node,
                message_type="query",
            )
            for node in self.nodes
        ]
        self.grid.send_and_receive(pings, timeout=None)

    def round(
        self,
        message: dict[str, np.ndarray],
        ids: np.ndarray,
        rnd: int,
        allowance: np.ndarray | None = None,
        steps: np.ndarray | None = None,
    ) -> list[tuple[Any, dict]]:
        from flwr.app import ConfigRecord, Message, RecordDict

        if self.grid is None:
            raise RuntimeError("the flower engine runs inside Simulator.run(); call run(), not step()")
        out_msgs, node_to_client = [], {}
        for k, i in enumerate(ids):
            node = self.nodes[int(i)]
            node_to_client[node] = int(i)
            cfg = {
                "client": int(i),
                "round": int(rnd),
                "allowance": -1 if allowance is None else int(allowance[k]),
                "steps": -1 if steps is None else int(steps[k]),
            }
            content = RecordDict({"message": _records(message), "config": ConfigRecord(cfg)})
            out_msgs.append(Message(content=content, dst_node_id=node, message_type="train"))
        # each client enforces the timeout on its own work; this wait is the last resort for a lost reply
        wait = None if self.timeout is None else self.timeout + self.grace
        replies = self.grid.send_and_receive(out_msgs, timeout=wait)
        by_id: dict[int, tuple[Any, dict]] = {}
        for reply in replies:
            i = node_to_client[reply.metadata.src_node_id]
            if reply.has_error():
                by_id[i] = (
                    None,
                    {
                        "id": i,
                        "queries": 0,
                        "nonfinite": 0,
                        "fault": f"client app failed: {reply.error.reason}",
                    },
                )
                continue
            if "diverged" in reply.content:
                from zoo.federated.engines.local import AlgorithmDiverged

                raise AlgorithmDiverged(reply.content["diverged"]["message"])
            rep = reply.content["report"]
            report = {
                "id": i,
                "queries": int(rep["queries"]),
                "nonfinite": int(rep["nonfinite"]),
                "seconds": float(rep["seconds"]),
                "fault": rep["fault"] or None,
            }
            upload = _arrays(reply.content["upload"]) if "upload" in reply.content else None
            by_id[i] = (upload, report)
        late = {"queries": 0, "nonfinite": 0, "fault": f"lost: no reply within {wait} s (queries unknown)"}
        return [by_id.get(int(i), (None, {"id": int(i), **late})) for i in ids]

    def close(self) -> None:
        pass


# make_server_app builds on the Simulator, which builds on this engine: it lives in zoo.federated.deploy (one
# release under the old name here, resolved by name so that this module does not import the simulator)
__getattr__ = moved(__name__, {"make_server_app": "zoo.federated.deploy:make_server_app"})
