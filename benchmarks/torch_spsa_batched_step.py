"""Paired CPU time per step of ``ZOAdam(estimator="spsa")`` with its defaults: the one-line closure (q = 8, the
in-place loop) vs a batched ``ForwardLoss`` (the batched default, q = 128, stacked sets), alternating in one
process, one torch thread, on the first minibatch of each suite task (RESULTS "Issue 11", section 10.3).
Reports only: the accuracy the directions buy is the suite's (benchmarks/torch_suite.py).

    .venv/bin/python benchmarks/torch_spsa_batched_step.py
"""

from __future__ import annotations

import time

import torch

from zoo.torch.batched import ForwardLoss
from zoo.torch.optim import ZOAdam
from zoo.torch.suite import TASKS

torch.set_num_threads(1)
REPEATS = 7  # steps per closure kind, the first left out (warm-up)


def main() -> None:
    for name, task in TASKS.items():
        data = task.data(0)
        x, y = data.x_train[: task.batch_size], data.y_train[: task.batch_size]
        runs = {}
        for kind in ("plain", "forward"):
            model = task.model(0)
            runs[kind] = (model, ZOAdam(model.parameters(), estimator="spsa", seed=0))
        total = {"plain": 0.0, "forward": 0.0}
        for rep in range(REPEATS):
            for kind in ("plain", "forward") if rep % 2 == 0 else ("forward", "plain"):  # order alternates
                model, opt = runs[kind]
                if kind == "plain":
                    closure = lambda m=model, t=task, x=x, y=y: t.loss(m(x), y)  # noqa: E731
                else:
                    closure = ForwardLoss(model, task.loss, x, y)
                t = time.process_time()
                opt.step(closure)
                if rep > 0:
                    total[kind] += time.process_time() - t
        n = REPEATS - 1
        fw = {k: runs[k][1].queries / REPEATS for k in runs}
        print(
            f"{name:<10} plain q=8 {total['plain'] / n * 1e3:7.1f} ms/step ({fw['plain']:.0f} forwards)   "
            f"batched q={runs['forward'][1].directions_for(ForwardLoss(runs['forward'][0], task.loss, x, y))} "
            f"{total['forward'] / n * 1e3:7.1f} ms/step ({fw['forward']:.0f} forwards)   "
            f"ratio {total['forward'] / total['plain']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
