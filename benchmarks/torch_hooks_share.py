"""The share of the train-mode hooks (zoo/torch/trainmode.py) in a zoo spsa step, beside a plain MeZO step.

``EstimateScope`` installs two global module hooks per step (Dropout masks and BatchNorm statistics kept
common to every forward of one estimate). On a model without Dropout / BatchNorm they do nothing, but every
module call then takes torch's hooked path. This A/B runs, interleaved in one process (the same machine load
for all), MeZO's step, zoo's ZOSGD(estimator="spsa") step, and the same zoo step with the hooks left out
(``EstimateScope.__enter__`` replaced by one that skips ``register_module_forward_*_hook``; valid only because
the model has no train-mode layers). Measured as benchmarks/torch_step_cost.py measures (its ``interleaved``
and ``paired``: the order rotated each repeat, ratios to MeZO paired within a repeat, wall and CPU time), so
that the two agree: with a fixed order, "zoo, no hooks" ran right after "zoo" on the same optimizer (warm
caches, ~5 % of a step here) and "zoo" right after MeZO, which the earlier version read as the hooks' share.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/torch_hooks_share.py --model transformer
"""

from __future__ import annotations

import argparse
import statistics

from torch_step_cost import build, interleaved, paired, stepper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="transformer", choices=("mlp", "transformer", "gpt2"))
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()

    import torch

    from zoo.torch import trainmode

    torch.set_num_threads(1)
    net, x, y = build(args.model)
    if any(trainmode.has_train_mode_layers(net)):
        raise SystemExit(f"{args.model} has train-mode Dropout / BatchNorm: the hooks cannot be left out")
    zoo_step, mezo_step = stepper("zoo_sgd", net, x, y), stepper("mezo", net, x, y)
    with_hooks = trainmode.EstimateScope.__enter__

    def without_hooks(self):
        self._prev, trainmode._current = trainmode._current, self
        self._start = [trainmode._get_state(d) for d in self.devices]
        self._handles = []
        return self

    def run_with(step, enter):
        def run():
            trainmode.EstimateScope.__enter__ = enter
            try:
                return step()
            finally:
                trainmode.EstimateScope.__enter__ = with_hooks

        return run

    modes = {
        "mezo": mezo_step,
        "zoo": run_with(zoo_step, with_hooks),
        "zoo, no hooks": run_with(zoo_step, without_hooks),
    }
    times, cpu = interleaved(modes, args.repeats, warmup=5)
    print(f"{args.model}: median of {args.repeats} interleaved steps (order rotated), 1 thread")
    for m, ts in times.items():
        print(
            f"  {m:<14} {1e3 * statistics.median(ts):8.2f} ms/step  x{paired(ts, times['mezo']):.3f} MeZO"
            f"  (CPU x{paired(cpu[m], cpu['mezo']):.3f})"
        )


if __name__ == "__main__":
    main()
