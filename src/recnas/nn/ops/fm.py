"""FM merger (`deep_fm`): f = (sum_n S_n)^2 - sum_n S_n^2 per coordinate (no 1/2), y += LN(W_f f) (§2.3).

W_f in R^{d x 16} and its LN exist at every width, d = 16 included. The reference's standalone model
omits them at d = 16 (identity rule) while its supernet always projects; the raw f is a sum of
s (s - 1) products of embeddings, unnormalised, and added as is it started such paths at a loss of
~8 with gradient norms ~300 (docs/supernet.md). Projecting and normalising at every width keeps the
supernet's and the standalone model's function equal and bounded.
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj
from recnas.nn.quant import quant_operand


@OPS.register("fm")
class FMMerger(torch.nn.Module):
    """Sparse -> dense merger: [B, s, E] -> [B, d], added to the block's dense output."""

    kind = "merger"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        e = dims.embed_dim
        self.embed_dim = e
        self.proj = Proj(e, dims.dense_width, bias=not layernorm, ln=layernorm)

    def forward(self, s: torch.Tensor, width: int, w_bits: int | None = None,
                a_bits: int | None = None) -> torch.Tensor:
        """S [B, s, E] -> [B, d]."""
        s = quant_operand(s, a_bits, "merge.fm")  # the squares' operands on the digital unit
        tot = s.sum(dim=1)  # [B, E]
        f = tot * tot - (s * s).sum(dim=1)  # [B, E]
        return self.proj(f, width, None, w_bits, a_bits)

    def inherit(self, src: "FMMerger", width: int) -> None:
        """Copy W_f[:d] and the LN slice."""
        self.proj.copy_from(src.proj, width, None)
