"""Train the 64-32-10 MLP on scikit-learn's digits with backprop and three forward-only estimators.

    .venv/bin/python examples/digits_mlp.py                 # all four, about a minute on a laptop CPU
    .venv/bin/python examples/digits_mlp.py --method cge    # one of backprop, spsa, rge, cge

The zoo training loop is torch's, with one line changed (the optimizer) and the step given a closure:

    opt = zoo.torch.ZOAdam(model.parameters(), lr=2e-2, estimator="cge", sparsity=0.9)
    for x, y in batches:
        opt.step(zoo.torch.ForwardLoss(model, F.cross_entropy, x, y, feature_reuse=True))
"""

from __future__ import annotations

import argparse

import torch

from zoo.torch.digits import DEFAULTS, load_digits, make_optimizer, mlp, plot_history, train

torch.set_num_threads(1)

EPOCHS = {"backprop": 30, "cge": 30, "rge": 30, "spsa": 60}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="all", choices=["all", *EPOCHS])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default="digits_mlp.png")
    args = ap.parse_args()
    methods = list(EPOCHS) if args.method == "all" else [args.method]
    data = load_digits(seed=args.seed)
    histories = {}
    for method in methods:
        options = dict(DEFAULTS[method])
        if method != "backprop":
            options["seed"] = args.seed
        model = mlp(seed=args.seed)
        opt = make_optimizer(model, method, **options)
        hist = train(model, data, opt, epochs=EPOCHS[method], seed=args.seed, lr_decay=True)
        histories[method] = hist
        print(
            f"{method:<9} {EPOCHS[method]:3d} epochs  test acc {100 * hist.final_acc:5.1f} %  "
            f"{hist.sec_per_epoch:.3f} s/epoch  forward passes {hist.queries[-1]}"
        )
    print("plot:", plot_history(histories, args.plot, title="digits MLP 64-32-10"))


if __name__ == "__main__":
    main()
