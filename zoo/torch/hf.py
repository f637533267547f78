"""A Hugging Face ``transformers`` model built from a small config with random weights (no download), the way
MeZO fine-tunes OPT: forward passes only, ``ZOSGD(estimator="spsa")``. Needs ``transformers`` (extra ``torch``).

:func:`tiny_gpt2` returns ``GPT2ForSequenceClassification`` wrapped so that ``model(input_ids)`` is the logits
tensor (what a loss function and :class:`~zoo.torch.ForwardLoss` expect).
"""

from __future__ import annotations

import torch
from torch import nn


class Logits(nn.Module):
    """``model(input_ids) -> logits`` for a ``transformers`` model that returns an output object."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids).logits


def tiny_gpt2(
    seed: int = 0, vocab: int = 8, length: int = 12, classes: int = 2, width: int = 64, layers: int = 2
) -> Logits:
    """A ``layers``-block GPT-2 (``width`` wide, 2 heads, no dropout) classifier over ``vocab`` tokens; the pad
    token is an extra id that the data never uses, so the last position is the one classified."""
    from transformers import GPT2Config, GPT2ForSequenceClassification

    pad = vocab
    cfg = GPT2Config(
        vocab_size=vocab + 1,
        n_positions=length,
        n_embd=width,
        n_layer=layers,
        n_head=2,
        n_inner=2 * width,
        num_labels=classes,
        pad_token_id=pad,
        bos_token_id=pad,
        eos_token_id=pad,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    torch.manual_seed(seed)
    return Logits(GPT2ForSequenceClassification(cfg))
