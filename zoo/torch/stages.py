"""A model as a sequence of stages, for feature reuse.

A perturbation of a parameter in stage ``l`` leaves the activations before stage ``l`` unchanged, so the
forward pass can restart from the cached input of stage ``l`` (DeepZero, Chen et al., ICLR 2024, "feature
reuse"). ``nn.Sequential`` splits automatically: each child with parameters starts a new stage and children
without parameters (activations, pooling, reshapes) join the stage before them. Any other model must be given
as an explicit list of stages whose composition is the model; this is checked on construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Stages:
    def __init__(self, modules: list[nn.Module]) -> None:
        self.modules = modules
        self._where: dict[int, tuple[int, str]] = {}
        for l, stage in enumerate(modules):
            for name, p in stage.named_parameters():
                self._where.setdefault(id(p), (l, name))

    @classmethod
    def build(cls, model: nn.Module, stages: str | Sequence[nn.Module]) -> Stages:
        if isinstance(stages, str):
            if stages != "auto":
                raise ValueError(f"stages must be 'auto' or a list of modules, got {stages!r}")
            if not isinstance(model, nn.Sequential):
                raise TypeError(
                    f"feature reuse needs the model as a sequence of stages: {type(model).__name__} is not an "
                    "nn.Sequential; pass stages=[module, module, ...] whose composition is the model, or "
                    "feature_reuse=False"
                )
            return cls(_split_sequential(model))
        modules = list(stages)
        if not modules or not all(isinstance(m, nn.Module) for m in modules):
            raise TypeError("stages must be a non-empty list of nn.Module")
        out = cls(modules)
        missing = [n for n, p in model.named_parameters() if id(p) not in out._where]
        if missing:
            raise ValueError(f"the stages do not hold these parameters of the model: {missing[:5]}")
        return out

    def locate(self, param: torch.Tensor) -> tuple[int, str]:
        """(stage index, name of the parameter inside that stage)."""
        try:
            return self._where[id(param)]
        except KeyError:
            raise ValueError("a parameter handed to the optimizer is in none of the stages") from None

    def check(self, model: nn.Module, inputs: torch.Tensor) -> None:
        """Raise if running the stages one after the other does not give ``model(inputs)``."""
        with torch.no_grad():
            ref = model(inputs)
            h = inputs
            try:
                for stage in self.modules:
                    h = stage(h)
            except (RuntimeError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"the stages composed do not reproduce model(inputs) ({exc}): they cannot serve feature reuse"
                ) from exc
        if not (isinstance(h, torch.Tensor) and h.shape == ref.shape and torch.allclose(h, ref)):
            raise ValueError(
                "the stages composed do not reproduce model(inputs): they cannot serve feature reuse"
            )


def _split_sequential(model: nn.Sequential) -> list[nn.Module]:
    groups: list[list[nn.Module]] = []
    for child in model:
        has_params = any(True for _ in child.parameters(recurse=True))
        if has_params or not groups:
            groups.append([child])
        else:
            groups[-1].append(child)
    return [g[0] if len(g) == 1 else nn.Sequential(*g) for g in groups]
