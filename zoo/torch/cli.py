"""``zoo train digits``: train a network on scikit-learn's digits with backprop or forward-only (zoo.torch).

    zoo train digits --model mlp --estimator cge --sparsity 0.9 --epochs 20 --plot digits.png

torch is imported inside the command function only, so ``zoo --help`` stays fast.
"""

from __future__ import annotations

import argparse

from zoo.cli_types import fraction, nonnegative_int, positive_float, positive_int


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from zoo.torch.digits import DEFAULTS, MODELS, load_digits, make_optimizer, plot_history, train

    torch.set_num_threads(args.threads)
    options = dict(DEFAULTS[args.estimator])
    if args.lr is not None:
        options["lr"] = args.lr
    if args.estimator == "cge":
        options["sparsity"] = args.sparsity
    if args.estimator in ("spsa", "rge") and args.directions is not None:
        options["n_directions"] = args.directions
    if args.estimator != "backprop":
        options["seed"] = args.seed
    data = load_digits(seed=args.seed)
    model = MODELS[args.model](seed=args.seed)
    opt = make_optimizer(model, args.estimator, **options)
    d = sum(p.numel() for p in model.parameters())
    print(
        f"digits, {args.model} (d = {d}), {args.estimator} {options}, {args.epochs} epochs, "
        f"batch {args.batch_size}, seed {args.seed}"
    )
    hist = train(
        model,
        data,
        opt,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        progress=not args.quiet,
        lr_decay=True,
    )
    print(
        f"test accuracy {100 * hist.final_acc:.2f} %   train loss {hist.train_loss[-1]:.4f}   "
        f"{hist.sec_per_epoch:.3f} s/epoch   queries {hist.queries[-1]}"
    )
    if args.plot:
        path = plot_history({args.estimator: hist}, args.plot, title=f"digits {args.model}, {args.estimator}")
        print(f"plot     {path}")
    return 0


def add_cli(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a network on digits, with backprop or forward-only (torch)"
    )
    p.add_argument("dataset", choices=["digits"], help="scikit-learn's bundled digits (no download)")
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp", help="64-32-10 MLP or a small CNN")
    p.add_argument(
        "--estimator",
        choices=["spsa", "rge", "cge", "backprop"],
        default="cge",
        help="gradient estimator (backprop: the torch reference), default cge",
    )
    p.add_argument("--sparsity", type=fraction, default=0.9, help="cge: share of coordinates left out (0.9)")
    p.add_argument("--directions", type=positive_int, default=None, help="spsa/rge: directions per step")
    p.add_argument("--epochs", type=positive_int, default=20, help="epochs (default 20)")
    p.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: per estimator)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="minibatch size (default 64)")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument(
        "--threads", type=positive_int, default=1, help="torch threads (1 is fastest for these sizes)"
    )
    p.add_argument("--plot", metavar="PNG", default="zoo-train-digits.png", help="training-curve PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)
