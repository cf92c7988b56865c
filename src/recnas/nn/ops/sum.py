"""Sum (`sum`): y = LN(W_p (pad(a) + pad(b))) in value space, w = max(d_L, d_R) (method.md §2.3, §3.3).

W_p is omitted when w = d; the LayerNorm is kept then, as in the reference. No activation.
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj
from recnas.nn.ops._common import pad_to


@OPS.register("sum")
class Sum(Op):
    """Sum of two dense sources, zero-padded to the wider one, then projected to d."""

    kind = "dense"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        w = dims.pair_width
        self.out = Proj(w, dims.dense_width, bias=not layernorm, ln=layernorm,
                        linear=elastic or w != dims.dense_width)

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """a [B, d_L], b [B, d_R] -> [B, d]."""
        a, b = ins.a, ins.b
        w = max(a.shape[1], b.shape[1])
        z = pad_to(a, w) + pad_to(b, w)  # [B, w]
        y = z if w == width else self.out.linear(z, width, ((0, w),), ins.w_bits, ins.a_bits)
        return self.out.norm(y, width)

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy W_p[:d, :w] and the LN slice."""
        w = max(ins.a.shape[1], ins.b.shape[1])
        self.out.copy_from(src.out, width, ((0, w),))
