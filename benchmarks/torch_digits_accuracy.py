"""Digits test accuracy: backprop vs forward-only training (sparse CGE / DeepZero, spsa / MeZO, rge).

Median over seeds of the final test accuracy and the time per epoch, side by side in one run. Targets
(issue 5): MLP 64-32-10, sparse CGE (90 %) within 1 point of backprop, spsa within 2 points; small CNN, sparse
CGE within 2 points of backprop.

    .venv/bin/python benchmarks/torch_digits_accuracy.py --model mlp --methods backprop,cge,spsa --seeds 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from zoo.torch.digits import MODELS, load_digits, make_optimizer, train

torch.set_num_threads(1)

# settings per (model, method): optimizer options and epochs
SETTINGS = {
    "backprop": dict(lr=1e-2, update="adam", epochs=60),
    "cge": dict(lr=2e-2, update="adam", sparsity=0.9, epochs=200),
    "deepzero": dict(lr=2e-2, update="adam", sparsity=0.9, epochs=200),
    "full-cge": dict(lr=2e-2, update="adam", sparsity=0.0, epochs=60),
    "rge": dict(lr=3e-3, update="adam", n_directions=10, epochs=300),
    "spsa": dict(lr=3e-3, update="adam", n_directions=4, epochs=300),
}
TARGETS = {
    ("mlp", "cge"): 1.0,
    ("mlp", "deepzero"): 1.0,
    ("mlp", "spsa"): 2.0,
    ("cnn", "cge"): 2.0,
    ("cnn", "deepzero"): 2.0,
}


def run(model_name: str, method: str, seed: int, epochs: int | None, batch_size: int) -> tuple[float, float]:
    opts = dict(SETTINGS[method])
    ep = epochs or opts.pop("epochs")
    opts.pop("epochs", None)
    estimator = "cge" if method == "full-cge" else method
    data = load_digits(seed=seed)
    model = MODELS[model_name](seed=seed)
    if estimator != "backprop":
        opts["seed"] = seed
        if estimator in ("cge", "deepzero"):
            opts["mask_every"] = 5 * -(-data.x_train.shape[0] // batch_size)  # re-drawn every 5 epochs
    opt = make_optimizer(model, estimator, **opts)
    hist = train(model, data, opt, epochs=ep, batch_size=batch_size, seed=seed, lr_decay=True)
    return hist.final_acc, hist.sec_per_epoch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mlp", choices=sorted(MODELS))
    ap.add_argument("--methods", default="backprop,cge,spsa")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=None, help="override every method's epochs")
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    print(f"digits, {args.model}, batch {args.batch_size}, seeds 0..{args.seeds - 1}, torch threads 1")
    results = {}
    for method in args.methods.split(","):
        accs, secs = [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            acc, sec = run(args.model, method, seed, args.epochs, args.batch_size)
            accs.append(acc)
            secs.append(sec)
            print(
                f"  {method:<9} seed {seed}: test acc {100 * acc:.2f} %  {sec:.3f} s/epoch "
                f"({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
        results[method] = (statistics.median(accs), statistics.median(secs))
        ep = args.epochs or SETTINGS[method]["epochs"]
        print(
            f"{method:<9} median test acc {100 * results[method][0]:.2f} %   {results[method][1]:.3f} s/epoch   "
            f"epochs {ep}   options { {k: v for k, v in SETTINGS[method].items() if k != 'epochs'} }",
            flush=True,
        )
    missed = False
    if "backprop" in results:
        ref = results["backprop"][0]
        for method, (acc, _) in results.items():
            target = TARGETS.get((args.model, method))
            if target is None:
                continue
            gap = 100 * (ref - acc)
            verdict = "MET" if gap <= target else "NOT MET"
            missed = missed or gap > target
            print(f"{method} vs backprop: {gap:+.2f} points (target: within {target:g}) -> {verdict}")
    if missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
