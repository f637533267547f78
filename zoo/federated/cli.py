"""``zoo federate``: run federated ZO algorithms side by side on a built-in problem and plot them.

zoo federate quadratic --algo fzoos --algo fedzo --clients 5 --rounds 50
zoo federate attack --algo fzoos,fedzo --rounds 30 --plot attack.png
zoo federate ackley --algo scaffold --engine ray --clients 16
zoo federate levy --heterogeneity 1.0 --problem-seed 3 --seed 0 --budget 50000 --history runs/ --resume
"""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli_types import nonnegative_float, nonnegative_int, positive_float, positive_int

DEFAULT_CLIENTS = {"quadratic": 5, "ackley": 10, "levy": 10, "rosenbrock": 8}
DEFAULT_DIM = {"quadratic": 300, "ackley": 30, "levy": 30, "rosenbrock": 20}


def _cmd_federate(args: argparse.Namespace) -> int:
    from zoo.federated.simulator import single_threaded_blas

    with single_threaded_blas():
        return _federate(args)


def _federate(args: argparse.Namespace) -> int:
    from zoo.federated import Simulator, make_algorithm, problems

    names = [n for item in args.algo for n in item.split(",") if n] or ["fzoos", "fedzo"]
    if args.resume and args.history is None:
        raise ValueError("--resume needs --history DIR (where the runs were saved)")
    problem_seed = args.seed if args.problem_seed is None else args.problem_seed
    kwargs = {"seed": problem_seed}
    if args.problem == "attack":
        kwargs.update(n_clients=args.clients or 10, epsilon=args.epsilon)
    else:
        kwargs.update(n_clients=args.clients or DEFAULT_CLIENTS[args.problem])
        kwargs["dim"] = args.dim or DEFAULT_DIM[args.problem]
        if args.heterogeneity is not None:
            kwargs["heterogeneity"] = args.heterogeneity
    if args.problem == "attack" and args.heterogeneity is not None:
        raise ValueError(
            "--heterogeneity does not apply to the attack problem (its clients' data split is fixed)"
        )
    problem = problems.get(args.problem, **kwargs)
    print(
        f"problem  {problem.name}: {problem.n_clients} clients, d={problem.dim}, F(x0)="
        f"{problem.global_value(problem.x0):.6g}"
        + (f", F*={problem.f_min:.6g}" if problem.f_min is not None else "")
    )
    options = {"local_steps": args.local_steps}
    if args.lr is not None:
        options["lr"] = args.lr
    runs = {}
    for name in names:
        algo_options = dict(options)
        if args.q is not None:
            algo_options["n_active" if name.lower() == "fzoos" else "q"] = args.q
        algo = make_algorithm(name, **algo_options)
        path = None
        if args.history is not None:
            path = str(
                Path(args.history) / f"{problem.name}-{name}-seed{args.seed}-pseed{problem_seed}.jsonl"
            )
        try:
            sim = Simulator(
                problem,
                algo,
                engine=args.engine,
                seed=args.seed,
                budget=args.budget,
                clients_per_round=args.clients_per_round,
                history_path=path,
                resume=args.resume,
            )
        except FileNotFoundError as exc:
            raise ValueError(f"{exc} (run once without --resume first)") from None
        with sim:
            left = args.rounds - sim.round_index
            hist = sim.run(left, progress=not args.quiet) if left > 0 else sim.history
        runs[name] = hist
        faults = sum(len(f) for f in hist.faults)
        stop = "  (budget spent)" if hist.stopped == "budget" else ""
        line = (
            f"{name:<10} F={hist.F[-1]:.6g}  rounds={hist.rounds[-1]['round']}{stop}  "
            f"queries={int(hist.queries[-1])}  "
            f"up/round={int(hist.bytes_up[1:].mean())} B  down/round={int(hist.bytes_down[1:].mean())} B  "
            f"faults={faults}"
        )
        if problem.success is not None:
            ok = [r["round"] for r in hist.rounds if r.get("success")]
            line += f"  success at round {ok[0]}" if ok else "  no success"
        print(line)
    if args.plot != "none":
        from zoo.federated.plots import federated_plot

        path = federated_plot(
            runs,
            args.plot or f"federate-{args.problem}.png",
            title=f"{problem.name}, {problem.n_clients} clients, engine {args.engine}",
        )
        print(f"plot     {path}")
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("federate", help="federated ZO: FZooS, FedZO, FedProx, SCAFFOLD side by side")
    p.add_argument(
        "problem", choices=["quadratic", "ackley", "levy", "rosenbrock", "attack"], help="built-in problem"
    )
    p.add_argument(
        "--algo",
        action="append",
        default=[],
        help="fzoos, fedzo, fedprox, scaffold (= scaffold2), scaffold1; repeat or comma-separate "
        "(default: fzoos and fedzo)",
    )
    p.add_argument(
        "--clients", type=positive_int, default=None, help="number of clients (default 5; 10 for others)"
    )
    p.add_argument(
        "--clients-per-round", type=positive_int, default=None, help="clients sampled each round (all)"
    )
    p.add_argument("--rounds", type=positive_int, default=50, help="communication rounds (default 50)")
    p.add_argument("--local-steps", type=positive_int, default=10, help="local steps per round (default 10)")
    p.add_argument(
        "--dim",
        type=positive_int,
        default=None,
        help="dimension (quadratic 300, ackley/levy 30, rosenbrock 20)",
    )
    p.add_argument(
        "--heterogeneity",
        type=nonnegative_float,
        default=None,
        help="how different the clients are (quadratic: in [0, 1), default 0.5; ackley/levy 0.5; "
        "rosenbrock 0.3)",
    )
    p.add_argument(
        "--lr",
        type=positive_float,
        default=None,
        help="local step size, a length in x (default: each algorithm's, for x of order 1; docs/federated.md, Units)",
    )
    p.add_argument(
        "--q",
        type=positive_int,
        default=None,
        help="queries per local step: RGE directions (FedZO/FedProx/SCAFFOLD, default 20), FZooS's "
        "active queries (default 5)",
    )
    p.add_argument(
        "--budget",
        type=positive_int,
        default=None,
        help="client query budget of each run: the run stops when it is spent",
    )
    p.add_argument(
        "--history",
        default=None,
        metavar="DIR",
        help="write each run's history as JSON lines (one line a round) under DIR",
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the runs saved under --history up to --rounds"
    )
    p.add_argument(
        "--epsilon", type=positive_float, default=0.3, help="attack: box half-width of the perturbation"
    )
    p.add_argument("--engine", choices=["local", "ray", "flower"], default="local", help="where clients run")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the run (default 0)")
    p.add_argument(
        "--problem-seed",
        type=nonnegative_int,
        default=None,
        help="seed that builds the problem (default: the run seed)",
    )
    p.add_argument("--plot", default=None, help="PNG path (default federate-PROBLEM.png; 'none': no plot)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_federate)
