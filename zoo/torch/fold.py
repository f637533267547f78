"""Folding coordinate perturbations into the batch dimension for layers linear in their weights.

For ``nn.Linear`` and ``nn.Conv2d`` (groups 1, dilation 1, zero padding) the output at ``W + delta e_i`` is the
unperturbed output plus a rank-one term that needs no new forward:

- Linear, weight ``W[o, j]``:  ``y[:, o] += delta * x[:, j]``;   bias ``b[o]``: ``y[:, o] += delta``
- Conv2d, weight ``W[o, c, a, b]``: ``y[:, o, u, v] += delta * xpad[:, c, u*s + a, v*s + b]``;
  bias ``b[o]``: ``y[:, o] += delta``

So K perturbed outputs of the layer cost one unperturbed forward and K cheap additions, and everything after
the layer runs on a ``(K, B, ...)`` batch (DeepZero's forward parallelization, done inside one call).
``fold_outputs`` returns None for any other layer; the caller then falls back to ``vmap``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def supports(module: nn.Module, name: str, h: torch.Tensor) -> bool:
    if name not in ("weight", "bias") or getattr(module, name, None) is None:
        return False
    if isinstance(module, nn.Linear):
        return h.dim() == 2
    if isinstance(module, nn.Conv2d):
        return (
            module.groups == 1
            and tuple(module.dilation) == (1, 1)
            and module.padding_mode == "zeros"
            and not isinstance(module.padding, str)
            and h.dim() == 4
        )
    return False


def fold_outputs(
    module: nn.Module, name: str, h: torch.Tensor, y: torch.Tensor, index: torch.Tensor, delta: float
) -> torch.Tensor:
    """The layer's outputs for each perturbed coordinate ``index[k]`` of ``module.<name>``: shape (K, *y.shape).

    ``h`` is the layer's input, ``y = module(h)`` its unperturbed output.
    """
    K = index.numel()
    out = y.unsqueeze(0).repeat(K, *([1] * y.dim()))
    ar = torch.arange(K, device=y.device)
    o = changed_channel(module, name, index)
    out[ar, :, o] = fold_channel(module, name, h, y, index, delta)
    return out


def fold_channel(
    module: nn.Module, name: str, h: torch.Tensor, y: torch.Tensor, index: torch.Tensor, delta: float
) -> torch.Tensor:
    """Only the channel each coordinate changes: ``(K, B, *spatial)``, ``[k] = y'[:, o_k]`` at ``W + delta e_k``."""
    shape = getattr(module, name).shape
    o = changed_channel(module, name, index)
    base = y[:, o].transpose(0, 1)  # (K, B, *spatial), a copy (advanced indexing)
    if name == "bias":
        return base.add_(delta)
    if isinstance(module, nn.Linear):
        return base.add_(h[:, index % shape[1]].T, alpha=delta)
    kh, kw = shape[2], shape[3]
    rem = index % (shape[1] * kh * kw)
    c, a, b = rem // (kh * kw), (rem // kw) % kh, rem % kw
    ph, pw = module.padding
    sh, sw = module.stride
    hp = F.pad(h, (pw, pw, ph, ph)) if (ph or pw) else h
    U, V = y.shape[2], y.shape[3]
    rows = a[:, None] + sh * torch.arange(U, device=y.device)[None, :]  # (K, U)
    cols = b[:, None] + sw * torch.arange(V, device=y.device)[None, :]  # (K, V)
    patch = hp[:, c[:, None, None], rows[:, :, None], cols[:, None, :]]  # (B, K, U, V)
    return base.add_(patch.transpose(0, 1), alpha=delta)


# ---- one changed channel, carried through channelwise modules into the next linear layer ------------------
CHANNELWISE = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Sigmoid,
    nn.Softplus,
    nn.Identity,
    nn.MaxPool2d,
    nn.AvgPool2d,
)


def changed_channel(module: nn.Module, name: str, index: torch.Tensor) -> torch.Tensor:
    """The output channel (unit) that coordinate ``index`` of ``module.<name>`` changes."""
    shape = getattr(module, name).shape
    return index if name == "bias" else index // (shape.numel() // shape[0])


def channel_path_supported(rest: list[nn.Module], next_layer: nn.Module | None, y: torch.Tensor) -> bool:
    """True when a change confined to one channel of ``y`` stays in that channel through ``rest`` and then
    enters ``next_layer`` linearly (Linear on flattened features, or Conv2d with groups 1)."""
    if next_layer is None:
        return False
    body = rest[:-1] if rest and isinstance(rest[-1], nn.Flatten) else rest
    if not all(isinstance(m, CHANNELWISE) for m in body):
        return False
    flat = len(body) < len(rest)
    if flat and (rest[-1].start_dim != 1 or rest[-1].end_dim != -1):
        return False
    if isinstance(next_layer, nn.Linear):
        return y.dim() == 2 or flat
    return (
        isinstance(next_layer, nn.Conv2d)
        and next_layer.groups == 1
        and tuple(next_layer.dilation) == (1, 1)
        and next_layer.padding_mode == "zeros"
        and y.dim() == 4
        and not flat
    )


def channel_path_outputs(
    layer: nn.Module,
    name: str,
    h: torch.Tensor,
    y: torch.Tensor,
    rest: list[nn.Module],
    z: torch.Tensor,
    next_layer: nn.Module,
    next_out: torch.Tensor,
    index: torch.Tensor,
    delta: float,
) -> torch.Tensor:
    """The NEXT layer's outputs (K, *next_out.shape) for each perturbed coordinate ``index[k]`` of ``layer``.

    ``z = rest(y)`` (before any final Flatten) and ``next_out = next_layer(...)`` are the unperturbed values.
    Only channel ``o_k`` of ``y`` changes, so only channel ``o_k`` of ``z`` changes, and the next layer's output
    moves by its weight slice for that channel applied to the change: no full forward per coordinate.
    """
    K = index.numel()
    o = changed_channel(layer, name, index)
    # the changed channel of the layer output, per coordinate: (K, B, *spatial)
    y_new = fold_channel(layer, name, h, y, index, delta)
    body = rest[:-1] if rest and isinstance(rest[-1], nn.Flatten) else rest
    if y.dim() == 4:  # one plane per (coordinate, sample): as channels of one image, channels-last, so that
        # pooling vectorizes across them instead of paying a per-plane overhead on 4x4 planes
        c_new = y_new.reshape(1, K * y.shape[0], *y.shape[2:]).contiguous(memory_format=torch.channels_last)
    else:
        c_new = y_new.reshape(K * y.shape[0], 1)
    for m in body:
        c_new = m(c_new)
    dz = c_new.reshape(K, y.shape[0], *z.shape[2:]) - z[:, o].transpose(0, 1)  # (K, B, *spatial')
    w = next_layer.weight
    if isinstance(next_layer, nn.Linear):
        S = dz[0, 0].numel()  # features of one channel after flattening
        cols = o[:, None] * S + torch.arange(S, device=y.device)[None, :]  # (K, S)
        w_k = w[:, cols].permute(1, 0, 2)  # (K, O2, S)
        return next_out.unsqueeze(0) + torch.einsum("kbs,kos->kbo", dz.reshape(K, y.shape[0], S), w_k)
    # Conv2d: a grouped convolution, one group per coordinate, each with the weight slice of its channel
    B = y.shape[0]
    w_k = w[:, o].transpose(0, 1).reshape(K * w.shape[0], 1, *w.shape[2:])  # (K*O2, 1, kh, kw)
    d_out = F.conv2d(dz.transpose(0, 1), w_k, None, next_layer.stride, next_layer.padding, 1, groups=K)
    return next_out.unsqueeze(0) + d_out.reshape(B, K, *next_out.shape[1:]).transpose(0, 1)
