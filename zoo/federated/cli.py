"""``zoo federate``: run federated ZO algorithms side by side on a built-in problem and plot them.

    zoo federate quadratic --algo fzoos --algo fedzo --clients 5 --rounds 50
    zoo federate attack --algo fzoos,fedzo --rounds 30 --plot attack.png
    zoo federate ackley --algo scaffold --engine ray --clients 16
"""

from __future__ import annotations

import argparse

from zoo.cli_types import nonnegative_int, positive_float, positive_int


def _cmd_federate(args: argparse.Namespace) -> int:
    from zoo.federated.simulator import single_threaded_blas

    with single_threaded_blas():
        return _federate(args)


def _federate(args: argparse.Namespace) -> int:
    from zoo.federated import Simulator, make_algorithm, problems

    names = [n for item in args.algo for n in item.split(",") if n] or ["fzoos", "fedzo"]
    kwargs = {"seed": args.seed}
    if args.problem == "attack":
        kwargs.update(n_clients=args.clients or 10, epsilon=args.epsilon)
    else:
        kwargs.update(n_clients=args.clients or (5 if args.problem == "quadratic" else 10))
        kwargs["dim"] = args.dim or (300 if args.problem == "quadratic" else 30)
    problem = problems.get(args.problem, **kwargs)
    print(f"problem  {problem.name}: {problem.n_clients} clients, d={problem.dim}, F(x0)="
          f"{problem.global_value(problem.x0):.6g}" + (f", F*={problem.f_min:.6g}" if problem.f_min is not None
                                                       else ""))
    runs = {}
    for name in names:
        algo = make_algorithm(name, local_steps=args.local_steps)
        with Simulator(problem, algo, engine=args.engine, seed=args.seed,
                       clients_per_round=args.clients_per_round) as sim:
            hist = sim.run(args.rounds, progress=not args.quiet)
        runs[name] = hist
        faults = sum(len(f) for f in hist.faults)
        line = (f"{name:<10} F={hist.F[-1]:.6g}  queries={int(hist.queries[-1])}  "
                f"up/round={int(hist.bytes_up[1:].mean())} B  down/round={int(hist.bytes_down[1:].mean())} B  "
                f"faults={faults}")
        if problem.success is not None:
            ok = [r["round"] for r in hist.rounds if r.get("success")]
            line += f"  success at round {ok[0]}" if ok else "  no success"
        print(line)
    if args.plot != "none":
        from zoo.federated.plots import federated_plot

        path = federated_plot(runs, args.plot or f"federate-{args.problem}.png",
                              title=f"{problem.name}, {problem.n_clients} clients, engine {args.engine}")
        print(f"plot     {path}")
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser("federate", help="federated ZO: FZooS, FedZO, FedProx, SCAFFOLD side by side")
    p.add_argument("problem", choices=["quadratic", "ackley", "levy", "attack"], help="built-in problem")
    p.add_argument("--algo", action="append", default=[],
                   help="fzoos, fedzo, fedprox, scaffold (= scaffold2), scaffold1; repeat or comma-separate "
                        "(default: fzoos and fedzo)")
    p.add_argument("--clients", type=positive_int, default=None, help="number of clients (default 5; 10 for others)")
    p.add_argument("--clients-per-round", type=positive_int, default=None, help="clients sampled each round (all)")
    p.add_argument("--rounds", type=positive_int, default=50, help="communication rounds (default 50)")
    p.add_argument("--local-steps", type=positive_int, default=10, help="local steps per round (default 10)")
    p.add_argument("--dim", type=positive_int, default=None, help="dimension (quadratic 300, ackley/levy 30)")
    p.add_argument("--epsilon", type=positive_float, default=0.3, help="attack: box half-width of the perturbation")
    p.add_argument("--engine", choices=["local", "ray", "flower"], default="local", help="where clients run")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the problem and of the run (default 0)")
    p.add_argument("--plot", default=None, help="PNG path (default federate-PROBLEM.png; 'none': no plot)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_federate)
