"""FM merger (`deep_fm`): f = (sum_n S_n)^2 - sum_n S_n^2 per coordinate (no 1/2), y += LN(W_f f) (§2.3).

W_f in R^{d x 16} and its LN are omitted together when d = 16 (as the reference).
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj


@OPS.register("fm")
class FMMerger(torch.nn.Module):
    """Sparse -> dense merger: [B, s, E] -> [B, d], added to the block's dense output."""

    kind = "merger"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        e = dims.embed_dim
        self.embed_dim = e
        self.proj = (Proj(e, dims.dense_width, bias=not layernorm, ln=layernorm)
                     if elastic or dims.dense_width != e else None)

    def forward(self, s: torch.Tensor, width: int, w_bits: int | None = None) -> torch.Tensor:
        """S [B, s, E] -> [B, d]."""
        tot = s.sum(dim=1)  # [B, E]
        f = tot * tot - (s * s).sum(dim=1)  # [B, E]
        return f if width == self.embed_dim else self.proj(f, width, None, w_bits)

    def inherit(self, src: "FMMerger", width: int) -> None:
        """Copy W_f[:d] and the LN slice."""
        if self.proj is not None:
            self.proj.copy_from(src.proj, width, None)
