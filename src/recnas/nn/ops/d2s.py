"""Dense -> sparse merger (`dense_sparse_interact`): q = LN(W_q D) in R^128 -> [B, 8, 16] items (§2.3).

W_q in R^{128 x d} and its LN are omitted together when d = 128; q is then D itself, reshaped. The
block adds the FM term out of place, so these items never receive it (reference defect 5).
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj

D2S_ITEMS = 8


@OPS.register("d2s")
class D2SMerger(torch.nn.Module):
    """Dense -> sparse merger: [B, d] -> [B, 8, E] appended after the sparse op's items."""

    kind = "merger"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        self.embed_dim = dims.embed_dim
        self.out_width = D2S_ITEMS * dims.embed_dim
        self.proj = (Proj(dims.dense_width, self.out_width, bias=not layernorm, ln=layernorm)
                     if elastic or dims.dense_width != self.out_width else None)

    def forward(self, d: torch.Tensor, w_bits: int | None = None,
                a_bits: int | None = None) -> torch.Tensor:
        """D [B, d] -> [B, 8, E]."""
        width = d.shape[1]
        q = d if width == self.out_width else self.proj(d, self.out_width, ((0, width),), w_bits, a_bits)
        return q.reshape(q.shape[0], D2S_ITEMS, self.embed_dim)  # [B, 8, E]

    def inherit(self, src: "D2SMerger", width: int) -> None:
        """Copy W_q[:, :d] and the (full 128-wide) LN."""
        if self.proj is not None:
            self.proj.copy_from(src.proj, self.out_width, ((0, width),))
