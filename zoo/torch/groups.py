"""torch.optim conventions for the zoo optimizers: parameter-group options, default step sizes, the closure.

Group options carry torch's names, so that torch's schedulers find what they cycle: ``lr`` (0 allowed: warm-up
from 0, ``CosineAnnealingLR(eta_min=0)``, frozen groups), ``weight_decay`` (decoupled), and per update rule
``momentum`` / ``nesterov`` (sgd, momentum) or ``betas`` / ``eps`` (adam); ``OneCycleLR`` and ``CyclicLR``
then cycle ``momentum`` or ``betas[0]`` as they do for ``torch.optim.SGD`` / ``Adam``. They map onto the rule
dataclasses of :mod:`zoo.updates` (``momentum`` -> ``beta``, ``betas`` -> ``(b1, b2)``).

Any other option that a ``torch.optim`` optimizer takes (``amsgrad``, ``dampening``, ``maximize``, ``foreach``,
...: read from torch's own signatures) is an error, never silently ignored; keys torch's lr schedulers write
(``initial_lr``, ``max_lr``, ...) and the user's own annotations are left alone.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
from collections.abc import Iterator
from typing import Any

import torch

# default lr per (estimator, update rule): chosen on the public suite (zoo/torch/suite.py, benchmarks/RESULTS.md
# "Issue 11"); sgd / momentum / sign keep MeZO's scale
DEFAULT_LR = {"adam": {"spsa": 1e-2, "rge": 1e-2, "cge": 2e-2}}
FALLBACK_LR = 1e-3

RULE_KEYS = {
    "sgd": ("momentum", "nesterov"),
    "momentum": ("momentum", "nesterov"),
    "adam": ("betas", "eps"),
}
COMMON_KEYS = ("params", "lr", "weight_decay")


# default n_directions: with Adam the estimate's variance, not its cost, limits a small model (suite: q = 4 left
# digits 3.3 points and the moons 3.0 points behind backprop, q = 8 closed both on the sweep's seed; RESULTS
# "Issue 11", section 7); with SGD spsa stays MeZO (one direction, the memory and the two forwards of inference)
DEFAULT_DIRECTIONS = {"adam": {"spsa": 8, "rge": 8}}


# default n_directions with a batched closure (a ForwardLoss): the perturbed sets ride in vmap calls, not in one
# Python-level forward each, so more directions cost little time on a small model (suite, digits MLP: 256 sets
# in 4.3 ms against 6.8 ms for the 16 looped forwards of q = 8). The cap is what the suite's digits CNN needs in
# backprop's epochs (seed 0: q = 8 85.8 %, 64 94.4 %, 128 96.1 %, backprop 97.5; RESULTS "Issue 11", section 10)
BATCHED_DIRECTIONS = 128


def default_directions(estimator: str, update: Any) -> int:
    return DEFAULT_DIRECTIONS.get(update if isinstance(update, str) else "", {}).get(estimator, 1)


def batched_directions(default: int, param_bytes: int, memory_limit: int, sets_per_direction: int) -> int:
    """The default q with a batched closure: as many directions as the closure's ``memory_limit`` holds as
    stacked parameter copies (``sets_per_direction`` each: spsa 3, its direction and the two perturbed sets;
    rge 1), at most :data:`BATCHED_DIRECTIONS`, never fewer than ``default`` (a model too large for that
    many keeps the plain default, and spsa its in-place loop)."""
    fit = memory_limit // max(1, param_bytes)
    return max(default, min(BATCHED_DIRECTIONS, fit // sets_per_direction))


def default_lr(estimator: str, update: Any) -> float:
    return DEFAULT_LR.get(update if isinstance(update, str) else "", {}).get(estimator, FALLBACK_LR)


@functools.cache
def torch_option_names() -> frozenset[str]:
    """Every keyword a ``torch.optim`` optimizer's constructor takes (from torch itself, not a copied list)."""
    names: set[str] = set()
    for obj in vars(torch.optim).values():
        if (
            inspect.isclass(obj)
            and issubclass(obj, torch.optim.Optimizer)
            and obj is not torch.optim.Optimizer
        ):
            names |= set(inspect.signature(obj.__init__).parameters)
    return frozenset(names - {"self", "params", "args", "kwargs"})


def check_group(group: dict[str, Any], update: Any, where: str = "group option") -> None:
    """ValueError for a torch option this rule does not implement and for out-of-range values."""
    allowed = set(COMMON_KEYS) | set(RULE_KEYS.get(update if isinstance(update, str) else "", ()))
    bad = sorted(k for k in group if k in torch_option_names() and k not in allowed)
    if bad:
        raise ValueError(
            f"unsupported {where}(s) {bad} for update={update!r}: zoo implements {sorted(allowed - {'params'})} "
            "here (a torch option is never silently ignored)"
        )
    lr = group.get("lr")
    if lr is not None and not callable(lr) and not (math.isfinite(float(lr)) and float(lr) >= 0):
        raise ValueError(f"lr must be a finite number >= 0, got {lr!r}")
    wd = group.get("weight_decay", 0.0)
    if not (math.isfinite(float(wd)) and float(wd) >= 0):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {wd!r}")
    if "betas" in group:
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if "momentum" in group:
        m = float(group["momentum"])
        if not 0.0 <= m < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {group['momentum']!r}")


def rule_options(update: Any, group: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(rule name for :func:`zoo.updates.make_rule`, its options) from a group's torch-named options."""
    if update in ("sgd", "momentum"):
        m = float(group.get("momentum", 0.9 if update == "momentum" else 0.0))
        if m == 0.0 and update == "sgd":
            return "sgd", {}
        return "momentum", {"beta": m, "nesterov": bool(group.get("nesterov", False))}
    if update == "adam":
        b1, b2 = group.get("betas", (0.9, 0.999))
        return "adam", {"b1": float(b1), "b2": float(b2), "eps": float(group.get("eps", 1e-8))}
    return update, {}


def closure_help() -> str:
    return (
        "zoo's optimizers evaluate the loss themselves, several times per step: call opt.step(closure), "
        "closure() returning the minibatch loss, in one line: opt.step(lambda: loss_fn(model(x), y)) "
        "(no loss.backward(); a closure that calls backward() works too)"
    )


@contextlib.contextmanager
def mute_backward() -> Iterator[None]:
    """Inside a step the closure runs under ``no_grad``: a torch-style closure's ``loss.backward()`` has nothing
    to differentiate, so it returns without work instead of raising (tensors that do require grad, built
    under ``enable_grad`` inside the closure, still backpropagate). Patches ``torch.Tensor.backward`` for the
    duration of the step (not thread-safe across concurrent steps)."""
    original = torch.Tensor.backward

    def backward(self: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        if self.requires_grad:
            return original(self, *args, **kwargs)
        return None

    torch.Tensor.backward = backward  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.backward = original  # type: ignore[method-assign]
