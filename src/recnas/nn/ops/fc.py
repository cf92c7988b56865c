"""FC (`linear-2d`): ReLU(LN(W x)), W in R^{d x Din} (method.md §2.3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj


@OPS.register("fc")
class FC(Op):
    """Fully connected layer on the concatenated dense inputs."""

    kind = "dense"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        self.proj = Proj(dims.dense_in, dims.dense_width, bias=not layernorm, ln=layernorm)

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """[B, Din] -> [B, d]."""
        return F.relu(self.proj(ins.x, width, ins.dense_cols, ins.w_bits, ins.a_bits))

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy W[:d, active columns]."""
        self.proj.copy_from(src.proj, width, ins.dense_cols)
