"""Attention (`transformer`): item projection, one 8-head self-attention layer, FFN (method.md §2.3).

P = LN_s(W X) over items; H = LN_a(MHA(P, P, P) + P) with 8 heads of dim 2 and projection biases;
O = LN_f(H + W_2 ReLU(W_1 H + b_1) + b_2). LN_a and LN_f always exist, gamma initialised to 0.17.
Sliced to s items, attention runs over exactly s items (no masked keys, method.md §3.2b).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj
from recnas.nn.quant import quant_operand

NUM_HEADS = 8
LN_GAMMA = 0.17  # the reference's LN_INIT ("tune for new applications")


@OPS.register("attention")
class Attention(Op):
    """Transformer layer over s projected items: [B, N, E] -> [B, s, E]."""

    kind = "sparse"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        e = dims.embed_dim
        self.embed_dim = e
        self.proj = Proj(dims.items_in, dims.sparse_width, bias=not layernorm, ln=layernorm)
        self.qkv = Proj(e, 3 * e, bias=True, ln=False)  # MHA in-projection (q; k; v rows)
        self.attn_out = Proj(e, e, bias=True, ln=True, ln_gamma=LN_GAMMA)  # out-projection, then LN_a
        self.fc1 = Proj(e, e, bias=True, ln=False)
        self.fc2 = Proj(e, e, bias=True, ln=True, ln_gamma=LN_GAMMA)  # then LN_f (after the residual)

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """[B, N, E] -> [B, s, E]."""
        e, wb, ab, s = self.embed_dim, ins.w_bits, ins.a_bits, width
        p = self.proj(ins.X.transpose(1, 2), s, ins.item_cols, wb, ab).transpose(1, 2)  # [B, s, E]
        bsz = p.shape[0]
        qkv = self.qkv.linear(p, 3 * e, None, wb, ab)  # [B, s, 3E]
        q, k, v = qkv.view(bsz, s, 3, NUM_HEADS, e // NUM_HEADS).permute(2, 0, 3, 1, 4)  # [B, h, s, 2]
        if ab is None:
            att = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(2)) v: [B, h, s, 2]
        else:  # the same, with the operands of both activation x activation products quantised
            q, k = quant_operand(q, ab, "sparse.attn.scores"), quant_operand(k, ab, "sparse.attn.scores")
            w = torch.softmax(q @ k.transpose(-1, -2) / (e // NUM_HEADS) ** 0.5, dim=-1)
            att = quant_operand(w, ab, "sparse.attn.values") @ quant_operand(v, ab, "sparse.attn.values")
        att = att.transpose(1, 2).reshape(bsz, s, e)  # [B, s, E]
        h = self.attn_out.norm(self.attn_out.linear(att, e, None, wb, ab) + p, e)  # LN_a
        ff = self.fc2.linear(F.relu(self.fc1.linear(h, e, None, wb, ab)), e, None, wb, ab)
        return self.fc2.norm(h + ff, e)  # LN_f

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy the item projection slice [:s, active items]; the 16-d layer is shared whole."""
        self.proj.copy_from(src.proj, width, ins.item_cols)
        for name in ("qkv", "attn_out", "fc1", "fc2"):
            mine: Proj = getattr(self, name)
            mine.copy_from(getattr(src, name), mine.out_max, None)
