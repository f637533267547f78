"""Paired CPU time per step of ``ZOAdam(estimator="spsa")`` with its defaults on three closures: the loop of single
forwards (the one-line closure with ``batch_closures=False``: q = 8, in place), the one-line closure batched
(``ForwardLoss.from_closure``: q = 128, stacked sets) and a batched ``ForwardLoss`` (the same step), alternating
in one process, one torch thread, on the first minibatch of each suite task (RESULTS "Issue 11", sections 10.3
and session 9). Reports only: the accuracy the directions buy is the suite's (benchmarks/torch_suite.py).

    .venv/bin/python benchmarks/torch_spsa_batched_step.py [--tasks digits,iris]
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from zoo.torch.batched import ForwardLoss
from zoo.torch.optim import ZOAdam
from zoo.torch.suite import TASKS

torch.set_num_threads(1)
REPEATS = 7  # steps per closure kind (--repeats), the first left out (warm-up, and the lambda's discovery)
KINDS = ("loop", "lambda", "forward")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()
    repeats = args.repeats
    warnings.filterwarnings("ignore", message=".*batching rule.*")  # torch.func's CPU-attention note
    for name in args.tasks.split(","):
        task = TASKS[name]
        data = task.data(0)
        x, y = data.x_train[: task.batch_size], data.y_train[: task.batch_size]
        runs = {}
        for kind in KINDS:
            model = task.model(0)
            runs[kind] = (
                model,
                ZOAdam(model.parameters(), estimator="spsa", seed=0, batch_closures=kind != "loop"),
            )
        total = dict.fromkeys(KINDS, 0.0)
        first = {}
        for rep in range(repeats):
            for kind in KINDS if rep % 2 == 0 else KINDS[::-1]:  # order alternates
                model, opt = runs[kind]
                if kind == "forward":
                    closure = ForwardLoss(model, task.loss, x, y)
                else:
                    closure = lambda m=model, t=task, x=x, y=y: t.loss(m(x), y)  # noqa: E731
                t = time.process_time()
                opt.step(closure)
                if rep > 0:
                    total[kind] += time.process_time() - t
                else:
                    first[kind] = opt.queries
        n = repeats - 1
        fw = {k: (runs[k][1].queries - first[k]) / n for k in KINDS}
        q = {
            k: runs[k][1].directions_for(
                ForwardLoss(runs[k][0], task.loss, x, y)
                if k == "forward"
                else (lambda m=runs[k][0], t=task, x=x, y=y: t.loss(m(x), y))
            )
            for k in KINDS
        }
        ms = {k: total[k] / n * 1e3 for k in KINDS}
        print(
            f"{name:<10} loop q={q['loop']} {ms['loop']:7.1f} ms ({fw['loop']:.0f} fw)   "
            f"lambda q={q['lambda']} {ms['lambda']:7.1f} ms ({fw['lambda']:.0f} fw)   "
            f"ForwardLoss q={q['forward']} {ms['forward']:7.1f} ms ({fw['forward']:.0f} fw)   "
            f"lambda / ForwardLoss {total['lambda'] / total['forward']:.3f}   "
            f"ForwardLoss / loop {total['forward'] / total['loop']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
