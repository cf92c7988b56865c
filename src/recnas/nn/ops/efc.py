"""EFC (`linear-3d`): ReLU(LN_s(W X^T)), mixing items, not embedding coordinates (method.md §2.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj


@OPS.register("efc")
class EFC(Op):
    """Item-mixing linear layer: [B, N, E] -> [B, s, E]."""

    kind = "sparse"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        self.proj = Proj(dims.items_in, dims.sparse_width, bias=not layernorm, ln=layernorm)

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """[B, N, E] -> [B, s, E]."""
        xt = ins.X.transpose(1, 2)  # [B, E, N]
        y = F.relu(self.proj(xt, width, ins.item_cols, ins.w_bits, ins.a_bits))  # [B, E, s], LN over the s items
        return y.transpose(1, 2)  # [B, s, E]

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy W[:s, active items]."""
        self.proj.copy_from(src.proj, width, ins.item_cols)
