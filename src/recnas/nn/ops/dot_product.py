"""Dot-Product (`dot-product`) with the operator-balancing item projection (method.md §2.3, §2.4, §3.3).

u = LN(W_u x) [B,16] (omitted with its LN if Din = 16); V = LN_k(P X) [B,k,16] (omitted if N = k),
k = round(sqrt(2d)); T = [u; V]; z = strict lower triangle of T T^T, row-major; y = LN(W_p z), W_p omitted
if pairs = d, the LN kept (as the reference). Row-major order is prefix-nested, so slicing P to k(d)
rows yields a prefix of the interaction vector and W_p[:d, :pairs(k)] is the matching slice.
"""

from __future__ import annotations

import torch

from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import Op
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Proj
from recnas.nn.ops._common import dp_items
from recnas.nn.quant import quant_operand


def num_pairs(k: int) -> int:
    """Strict-lower-triangle pairs of the (k+1) x (k+1) Gram matrix."""
    return (k + 1) * k // 2


@OPS.register("dot_product")
class DotProduct(Op):
    """Pairwise inner products of the projected dense vector and k projected items."""

    kind = "dense"

    def __init__(self, dims: OpDims, *, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        e = dims.embed_dim
        self.embed_dim = e
        self.k_max = dp_items(dims.dense_width)
        pairs = num_pairs(self.k_max)
        bias = not layernorm
        self.u = (Proj(dims.dense_in, e, bias=bias, ln=layernorm)
                  if elastic or dims.dense_in != e else None)
        self.p = (Proj(dims.items_in, self.k_max, bias=bias, ln=layernorm)
                  if elastic or dims.items_in != self.k_max else None)
        self.out = Proj(pairs, dims.dense_width, bias=bias, ln=layernorm,
                        linear=elastic or pairs != dims.dense_width)
        self._tril: dict[tuple[int, str], torch.Tensor] = {}  # flat strict-lower indices per (k, device)

    def _tril_index(self, k: int, device: torch.device) -> torch.Tensor:
        key = (k, str(device))
        idx = self._tril.get(key)
        if idx is None:
            r, c = torch.tril_indices(k + 1, k + 1, offset=-1)  # row-major: by r, then c
            idx = (r * (k + 1) + c).to(device)
            self._tril[key] = idx
        return idx

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:
        """x [B, Din], X [B, N, E] -> [B, d]."""
        x, xs, wb, ab = ins.x, ins.X, ins.w_bits, ins.a_bits
        u = x if x.shape[1] == self.embed_dim else self.u(x, self.embed_dim, ins.dense_cols, wb, ab)
        k = dp_items(width)
        if xs.shape[1] == k:
            v = xs  # [B, k, E]
        else:
            v = self.p(xs.transpose(1, 2), k, ins.item_cols, wb, ab).transpose(1, 2)  # [B, k, E]
        t = quant_operand(torch.cat([u.unsqueeze(1), v], dim=1), ab, "dense.dp.gram")  # [B, k+1, E]
        g = torch.bmm(t, t.transpose(1, 2))  # [B, k+1, k+1]
        z = g.flatten(1).index_select(1, self._tril_index(k, g.device))  # [B, pairs]
        pairs = num_pairs(k)
        y = z if pairs == width else self.out.linear(z, width, ((0, pairs),), wb, ab)
        return self.out.norm(y, width)

    def inherit(self, src: Op, ins: BlockInputs, width: int) -> None:
        """Copy W_u[:, active cols], P[:k, active items], W_p[:d, :pairs] and the LN slices."""
        k = dp_items(width)
        if self.u is not None:
            self.u.copy_from(src.u, self.embed_dim, ins.dense_cols)
        if self.p is not None:
            self.p.copy_from(src.p, k, ins.item_cols)
        self.out.copy_from(src.out, width, ((0, num_pairs(k)),))
