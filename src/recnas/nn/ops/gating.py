"""Gating (`sigmoid-gating`) in value space (method.md §2.3, §3.3).

With w = max(d_L, d_R): z = sigmoid(W_g pad(a) + b_g) * pad(b); y = LN(W_p z + b_p). Both linears
always have a bias; W_p is omitted when w = d, the LayerNorm is kept then (as the reference). The
zero padding is never materialised: W_g[:w, :d_L] a equals W_g[:w, :w] pad(a), and only the first d_R
gate values meet nonzero entries of pad(b).
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj
from recnas.nn.ops._common import pad_to
from recnas.nn.quant import quant_operand


@OPS.register("gating")
class Gating(Op):
    """Sigmoid gate computed from the left source applied to the right source, then projected."""

    kind = "dense"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        w = dims.pair_width
        self.gate = Proj(w, w, bias=True, ln=False)
        self.out = Proj(w, dims.dense_width, bias=True, ln=layernorm,
                        linear=elastic or w != dims.dense_width)

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """a [B, d_L], b [B, d_R] -> [B, d]."""
        a, b, wb, ab = ins.a, ins.b, ins.w_bits, ins.a_bits
        dl, dr = a.shape[1], b.shape[1]
        w = max(dl, dr)
        g = torch.sigmoid(self.gate.linear(a, dr, ((0, dl),), wb, ab))  # [B, d_R]: gates meeting b
        site = "dense.gating.product"
        z = quant_operand(g, ab, site) * quant_operand(b, ab, site)  # [B, d_R]; d_R..w are zero
        if w == width:
            y = pad_to(z, w)
        else:
            y = self.out.linear(z, width, ((0, dr),), wb, ab)
        return self.out.norm(y, width)

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy W_g[:w, :w], b_g[:w], W_p[:d, :w], b_p[:d] and the LN slice."""
        w = max(ins.a.shape[1], ins.b.shape[1])
        self.gate.copy_from(src.gate, w, ((0, w),))
        self.out.copy_from(src.out, width, ((0, w),))
