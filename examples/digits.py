"""Train a network on scikit-learn's digits with backprop and three forward-only estimators.

    .venv/bin/python examples/digits.py                      # the 64-32-10 MLP, all four methods
    .venv/bin/python examples/digits.py --model cnn          # the small CNN (conv-pool-conv-pool-linear, d=1,898)
    .venv/bin/python examples/digits.py --method cge         # one of backprop, spsa, rge, cge

Each model with all four methods takes about a minute on a laptop CPU.

The zoo training loop is torch's, with one line changed (the optimizer) and the step given a closure:

    opt = zoo.torch.ZOAdam(model.parameters(), lr=2e-2, estimator="cge", sparsity=0.9)
    for x, y in batches:
        opt.step(zoo.torch.ForwardLoss(model, F.cross_entropy, x, y, feature_reuse=True))
"""

from __future__ import annotations

import argparse

import torch

from zoo.torch.digits import DEFAULTS, load_digits, make_optimizer, mlp, plot_history, small_cnn, train

torch.set_num_threads(1)

# epochs per (model, method): enough for each to reach its plateau within the minute
EPOCHS = {
    "mlp": {"backprop": 30, "cge": 30, "rge": 30, "spsa": 60},
    "cnn": {"backprop": 30, "cge": 15, "rge": 20, "spsa": 30},
}
MODELS = {"mlp": (mlp, "digits MLP 64-32-10"), "cnn": (small_cnn, "digits small CNN")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mlp", choices=list(MODELS))
    ap.add_argument("--method", default="all", choices=["all", *EPOCHS["mlp"]])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", default=None, help="PNG of the training curves (default digits_<model>.png)")
    args = ap.parse_args()
    epochs = EPOCHS[args.model]
    build, title = MODELS[args.model]
    methods = list(epochs) if args.method == "all" else [args.method]
    data = load_digits(seed=args.seed)
    histories = {}
    for method in methods:
        options = dict(DEFAULTS[method])
        if method != "backprop":
            options["seed"] = args.seed
        model = build(seed=args.seed)
        opt = make_optimizer(model, method, **options)
        hist = train(model, data, opt, epochs=epochs[method], seed=args.seed, lr_decay=True)
        histories[method] = hist
        print(
            f"{method:<9} {epochs[method]:3d} epochs  test acc {100 * hist.final_acc:5.1f} %  "
            f"{hist.sec_per_epoch:.3f} s/epoch  forward passes {hist.queries[-1]}"
        )
    print("plot:", plot_history(histories, args.plot or f"digits_{args.model}.png", title=title))


if __name__ == "__main__":
    main()
