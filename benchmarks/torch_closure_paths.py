"""Training with the one-line closure equals training with a batched ``ForwardLoss``, step for step: both runs of
``zoo.torch.suite.fit(task, "spsa", seed, closure="plain" | "forward")`` on the same model seed, the largest
difference of any parameter after ``--epochs`` (0 when bit for bit) and both test metrics. A cheap stand-in for
re-running the full suite on the lambda (RESULTS "Issue 11", session 9 (close11)).

    .venv/bin/python benchmarks/torch_closure_paths.py --tasks digits_cnn,tokens --seeds 3 --epochs 2
"""

from __future__ import annotations

import argparse
import warnings

import torch

from zoo.torch.suite import HELD_OUT, TASKS, fit

torch.set_num_threads(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    warnings.filterwarnings("ignore", message=".*batching rule.*")  # torch.func's CPU-attention note
    for name in args.tasks.split(","):
        task = (TASKS | HELD_OUT)[name]
        for seed in range(args.seeds):
            models, results = {}, {}
            for closure in ("plain", "forward"):
                models[closure] = task.model(seed)
                results[closure] = fit(
                    task, "spsa", seed, epochs=args.epochs, model=models[closure], closure=closure
                )
            diff = max(
                (a - b).abs().max().item()
                for a, b in zip(models["plain"].parameters(), models["forward"].parameters())
            )
            print(
                f"{name:<10} seed {seed}  {args.epochs} epochs  max |param lambda - ForwardLoss| {diff:.1e}   "
                f"metric {results['plain'].metric:.4f} / {results['forward'].metric:.4f}   forwards/epoch "
                f"{results['plain'].forwards_per_epoch:.1f} / {results['forward'].forwards_per_epoch:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
