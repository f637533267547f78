"""Train-mode Dropout and BatchNorm inside one zeroth-order estimate: common random numbers, one stats update.

A ZO estimate compares losses at perturbed parameters, ``(L(theta + mu z) - L(theta - mu z)) / (2 mu)``. With
Dropout in train mode each forward draws new masks, so the difference measures the dropout noise, not the
perturbation (the estimate is mostly noise); with BatchNorm in train mode every perturbed forward moves the
running statistics (a cge step on a small MLP ran 131 forwards, so 131 updates of the running mean).

:class:`EstimateScope` (entered by the optimizers for each ``step``) makes every forward of one estimate see
the same randomness and lets the running statistics move once per step:

- **Common random numbers.** Before each forward the global torch generators (CPU, and the parameters' CUDA
  device) are reset to their state at the start of the step, and each ``nn.Dropout*`` module call (keyed by
  module and call index within the forward) replays the generator state it saw in the step's first forward, so
  a forward that restarts halfway (feature reuse) draws the same masks as the full one. After the step the
  generators continue from the first forward's end state: the next step draws fresh masks. Any other draw
  inside the closure (data augmentation) repeats too, which is what the difference of two losses needs.
- **BatchNorm.** Forwards run in train mode on the minibatch's statistics. The running statistics are updated
  once per step: by the unperturbed forward (rge, cge), or, where no forward is unperturbed (spsa), with the
  mean of the two statistics of the first ``theta +- mu z`` pair (the running update is linear in the batch
  statistics, and their mean equals the unperturbed statistics up to O(mu^2)). Every other forward runs with
  ``track_running_stats`` off for that call, which is also what lets ``torch.func.vmap`` batch it.

**A step that does not happen.** A step that raises (the closure's error on any forward, a non-scalar loss, a
KeyboardInterrupt) or is skipped (a non-finite loss: :meth:`EstimateScope.discard`) leaves the running
statistics and the generators as they were before it: each train-mode BatchNorm's buffers are saved (cloned,
a few vectors per layer) when a forward that may write them (the unperturbed forward; spsa's first pair)
first calls it, written back on the way out, and the generators are set back to the step's start.

Hooks only where needed: the hooks are global module hooks, and any global hook sends every module call through
torch's slow hook path. When the step's first forward was a whole call of the closure and met no train-mode
Dropout or BatchNorm, the hooks are removed for the step's other forwards (the generator reset stays).

Functional dropout (``F.dropout`` called inside ``forward``) is covered by the generator reset in full forwards
but not across a feature-reuse restart: use ``nn.Dropout`` modules there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

_current: EstimateScope | None = None

UPDATE, RECORD, FREEZE = "update", "record", "freeze"


def current() -> EstimateScope | None:
    """The scope of the step in progress (None outside an optimizer step)."""
    return _current


def before_forward(phase: str = FREEZE, full: bool = False) -> None:
    """Call before each forward of an estimate (no-op outside a step); ``full``: the forward is a whole call
    of the user's closure (not a batched or restarted part of one), so what it runs is the whole model."""
    if _current is not None:
        _current.forward(phase, full)


def _get_state(device: torch.device) -> torch.Tensor:
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state()


def _set_state(device: torch.device, state: torch.Tensor) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    else:
        torch.set_rng_state(state)


@contextlib.contextmanager
def rng_kept(devices: list[torch.device]) -> Iterator[None]:
    """The random generators of ``devices`` as they were on entry when the block ends, whatever it drew."""
    states = [_get_state(d) for d in devices]
    try:
        yield
    finally:
        for d, state in zip(devices, states):
            _set_state(d, state)


class EstimateScope:
    """Context manager for one optimizer step; see the module docstring."""

    def __init__(self, device: torch.device | None = None) -> None:
        self.devices = [torch.device("cpu")] + (
            [device] if device is not None and device.type == "cuda" else []
        )
        self.phase = UPDATE
        self.forwards = 0
        self._start: list[torch.Tensor] = []
        self._after_first: list[torch.Tensor] | None = None
        self._dropout: dict[tuple[int, int], torch.Tensor] = {}
        self._calls: dict[int, int] = {}
        self._frozen: list[_BatchNorm] = []
        self._saved: dict[int, list[tuple[str, torch.Tensor]]] = {}
        self._records: dict[int, tuple[_BatchNorm, list[list[tuple[str, torch.Tensor]]]]] = {}
        # each BatchNorm a forward of this step may write: its buffers at the step's start (rolled back to
        # them when the step raises or is discarded)
        self._undo: dict[int, tuple[_BatchNorm, list[tuple[str, torch.Tensor]]]] = {}
        self._discarded = False
        self.saw_dropout = self.saw_batchnorm = False
        self._first_full = False
        self._handles: list[Any] = []

    def _hooks_needed(self) -> bool:
        return not self._first_full or self.saw_dropout or self.saw_batchnorm

    def _remove_hooks(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> EstimateScope:
        global _current
        self._prev = _current
        _current = self
        self._start = [_get_state(d) for d in self.devices]
        self._handles = [
            nn.modules.module.register_module_forward_pre_hook(self._pre),
            nn.modules.module.register_module_forward_hook(self._post),
        ]
        return self

    def __exit__(self, exc_type, *exc: Any) -> None:
        global _current
        self._remove_hooks()
        for m in self._frozen:  # an exception inside a frozen forward: switch tracking back on
            m.track_running_stats = True
        self._frozen.clear()
        _current = self._prev
        if exc_type is not None or self._discarded:  # the step did not happen: as it was before it
            self._rollback()
            return
        if self._after_first is not None:  # more than one forward: continue from the first one's end
            for d, s in zip(self.devices, self._after_first):
                _set_state(d, s)
        self._commit()

    def discard(self) -> None:
        """The step will not be applied (a non-finite loss): on exit, the running statistics and the
        generators go back to the step's start, as when it raises."""
        self._discarded = True

    def _rollback(self) -> None:
        self._records.clear()
        for module, saved in self._undo.values():
            buffers = dict(module.named_buffers(recurse=False))
            for n, b in saved:
                buffers[n].copy_(b)
        self._undo.clear()
        for d, s in zip(self.devices, self._start):
            _set_state(d, s)

    def forward(self, phase: str, full: bool = False) -> None:
        """A new forward begins: reset the generators and the per-forward call counts."""
        if self.forwards == 1 and self._after_first is None:
            self._after_first = [_get_state(d) for d in self.devices]
            if not self._hooks_needed():
                # the whole closure ran once without a train-mode Dropout or BatchNorm: the hooks have nothing
                # to do in this step's other forwards, and any global module hook sends every module call of
                # them through torch's slow hook path (2-7 % of a spsa step on the small transformer)
                self._remove_hooks()
        if self.forwards == 0:
            self._first_full = full
        if self.forwards:
            for d, s in zip(self.devices, self._start):
                _set_state(d, s)
        self.forwards += 1
        self.phase = phase
        self._calls.clear()

    # ---- hooks --------------------------------------------------------------------------------------------
    def _pre(self, module: nn.Module, args: tuple) -> None:
        if isinstance(module, _DropoutNd):
            if module.training and module.p > 0:
                self.saw_dropout = True
                k = self._calls.get(id(module), 0)
                self._calls[id(module)] = k + 1
                device = args[0].device if args and isinstance(args[0], torch.Tensor) else torch.device("cpu")
                key = (id(module), k)
                state = self._dropout.get(key)
                if state is None:
                    self._dropout[key] = _get_state(device)
                else:
                    _set_state(device, state)
        elif isinstance(module, _BatchNorm) and module.training and module.track_running_stats:
            self.saw_batchnorm = True
            if self.phase == FREEZE:
                module.track_running_stats = False
                self._frozen.append(module)
                return
            if id(module) not in self._undo:  # the first call that may write them: the step's start values
                self._undo[id(module)] = (module, _copies(module))
            if self.phase == RECORD:
                self._saved[id(module)] = _copies(module)

    def _post(self, module: nn.Module, args: tuple, out: Any) -> None:
        if not isinstance(module, _BatchNorm):
            return
        if self._frozen and self._frozen[-1] is module:
            module.track_running_stats = True
            self._frozen.pop()
        elif id(module) in self._saved:
            saved = self._saved.pop(id(module))
            buffers = dict(module.named_buffers(recurse=False))
            entry = self._records.setdefault(id(module), (module, []))
            entry[1].append([(n, buffers[n].clone()) for n, _ in saved])
            for n, b in saved:  # back to the step's start; _commit writes the one update
                buffers[n].copy_(b)

    def _commit(self) -> None:
        for module, records in self._records.values():
            buffers = dict(module.named_buffers(recurse=False))
            for j, (name, _) in enumerate(records[0]):
                values = [r[j][1] for r in records]
                if values[0].is_floating_point():
                    buffers[name].copy_(torch.stack(values).mean(0))
                else:
                    buffers[name].copy_(values[0])
        self._records.clear()


def _copies(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """A copy of each of ``module``'s own buffers (a BatchNorm's running statistics), by name."""
    return [(n, b.clone()) for n, b in module.named_buffers(recurse=False)]


def has_train_mode_layers(model: nn.Module) -> tuple[bool, bool]:
    """(train-mode dropout with p > 0, train-mode BatchNorm tracking running stats) in ``model``."""
    drop = any(isinstance(m, _DropoutNd) and m.training and m.p > 0 for m in model.modules())
    bn = any(isinstance(m, _BatchNorm) and m.training and m.track_running_stats for m in model.modules())
    return drop, bn
