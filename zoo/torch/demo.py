"""``zoo demo`` section "torch": the digits MLP trained with backprop and forward-only (cge, spsa)."""

from __future__ import annotations

from pathlib import Path


def demo(out: Path, quick: bool) -> None:
    import torch

    from zoo.torch.digits import DEFAULTS, load_digits, make_optimizer, mlp, plot_history, train

    torch.set_num_threads(1)
    epochs = {"backprop": 10, "cge": 3, "spsa": 6} if quick else {"backprop": 30, "cge": 50, "spsa": 120}
    data = load_digits(seed=0)
    histories = {}
    for method, ep in epochs.items():
        options = dict(DEFAULTS[method])
        if method != "backprop":
            options["seed"] = 0
        model = mlp(seed=0)
        opt = make_optimizer(model, method, **options)
        hist = train(model, data, opt, epochs=ep, seed=0, lr_decay=True)
        label = {
            "backprop": "backprop (Adam)",
            "cge": "sparse CGE 90 %",
            "spsa": "spsa q=4 (MeZO)",
        }[method]
        histories[label] = hist
        print(
            f"   digits MLP 64-32-10, {label:<28} {ep:3d} epochs: test acc {100 * hist.final_acc:5.1f} %, "
            f"{hist.sec_per_epoch:.2f} s/epoch, forward passes {hist.queries[-1] or '-'}"
        )
    path = plot_history(
        histories, str(Path(out) / "torch_digits.png"), title="digits MLP: backprop vs forward-only"
    )
    print(f"   plot: {path}")
