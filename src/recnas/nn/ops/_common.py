"""Shared pieces of the operators: dimensions, block inputs, the sliceable projection (method.md §2.3, §3.3).

Every op exists in two forms built by the same class:
- elastic (`elastic=True`): weights at maximum size, sliced at run time (rows = first d outputs,
  columns = the active input segments in slot space);
- standalone (`elastic=False`): weights at exact size; a projection the identity rule omits is not built.
Both forms run the same forward code, so a standalone op holding the sliced weights computes the same
function as the elastic op on that path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from recnas.nn.quant import fake_quant
from recnas.nn.quant import fake_quant_weight
from recnas.nn.quant import note_site

Segments = tuple[tuple[int, int], ...]  # (start, width) column ranges of a shared weight


@dataclass(frozen=True)
class OpDims:
    """Sizes an op is built for: maxima in elastic form, exact sizes in standalone form."""

    dense_in: int  # dense input columns (FC, DP's W_u); slot space D0 + dmax*(i-1) when elastic
    items_in: int  # sparse input items (EFC, attention, DP's P); slot space F + 72*(i-1) when elastic
    dense_width: int  # d (max d when elastic)
    sparse_width: int  # s (max s when elastic)
    pair_width: int  # w = max(d_left, d_right) of Sum/Gating (max over sources when elastic)
    embed_dim: int = 16


class BlockInputs:
    """What a block's ops read; `dense_cols`/`item_cols` are None in standalone form (all columns)."""

    __slots__ = ("x", "X", "a", "b", "dense_cols", "item_cols", "w_bits", "a_bits")

    def __init__(self, x: torch.Tensor | None = None, X: torch.Tensor | None = None,
                 a: torch.Tensor | None = None, b: torch.Tensor | None = None, *,
                 dense_cols: Segments | None = None, item_cols: Segments | None = None,
                 w_bits: int | None = None, a_bits: int | None = None) -> None:
        self.x = x  # [B, Din] dense sources concatenated (ascending index)
        self.X = X  # [B, N, E] sparse sources concatenated on the item axis
        self.a = a  # [B, d_left]
        self.b = b  # [B, d_right]
        self.dense_cols = dense_cols
        self.item_cols = item_cols
        self.w_bits = w_bits  # every crossbar weight, per output channel
        self.a_bits = a_bits  # every crossbar input and interaction operand


def dp_items(width: int) -> int:
    """Dot-product item projection size k = round(sqrt(2 d)) (method.md §2.3)."""
    return int(round(math.sqrt(2 * width)))


def take_cols(w: torch.Tensor, cols: Segments | None) -> torch.Tensor:
    """Columns `cols` of `w` concatenated in order (a view when there is one segment).

    Several segments use one index_select: its backward scatters into a single full-size gradient,
    where a cat of slices would allocate one full-size zero gradient per segment (2x slower measured).
    """
    if cols is None:
        return w
    if len(cols) == 1:
        a, n = cols[0]
        return w[:, a:a + n]
    idx = torch.cat([torch.arange(a, a + n) for a, n in cols])
    return w.index_select(1, idx.to(w.device, non_blocking=True))


def merge_segments(segs: Sequence[tuple[int, int]]) -> Segments:
    """Join touching (start, width) segments so contiguous inputs slice as one view."""
    out: list[tuple[int, int]] = []
    for a, n in segs:
        if out and out[-1][0] + out[-1][1] == a:
            out[-1] = (out[-1][0], out[-1][1] + n)
        else:
            out.append((a, n))
    return tuple(out)


class Proj(nn.Module):
    """Linear (`out_max` x `in_max`, optional bias) followed by optional LayerNorm, sliceable.

    `linear=False` builds only the LayerNorm (a standalone op whose projection the identity rule omits
    while the reference keeps the norm).
    """

    def __init__(self, in_max: int, out_max: int, *, bias: bool, ln: bool, linear: bool = True,
                 ln_gamma: float = 1.0) -> None:
        super().__init__()
        self.in_max, self.out_max = in_max, out_max
        self.site = ""  # the cost model's name of this crossbar layer (set by the block builder)
        self.weight = nn.Parameter(torch.empty(out_max, in_max)) if linear else None
        self.bias = nn.Parameter(torch.zeros(out_max)) if (linear and bias) else None
        self.ln_weight = nn.Parameter(torch.full((out_max,), ln_gamma)) if ln else None
        self.ln_bias = nn.Parameter(torch.zeros(out_max)) if ln else None
        if self.weight is not None:
            nn.init.xavier_uniform_(self.weight)

    def linear(self, x: torch.Tensor, n: int, cols: Segments | None, w_bits: int | None,
               a_bits: int | None = None) -> torch.Tensor:
        """x @ W[:n, cols].T + b[:n] (no norm): a crossbar layer, weights per channel at `w_bits`,
        its input at `a_bits` (the bits the cost model charges)."""
        w = take_cols(self.weight[:n], cols)
        b = None if self.bias is None else self.bias[:n]
        if w_bits is not None or a_bits is not None:
            note_site(self.site)
        return F.linear(fake_quant(x, a_bits), fake_quant_weight(w, w_bits), b)

    def norm(self, y: torch.Tensor, n: int) -> torch.Tensor:
        """LayerNorm over the last axis with gamma[:n], beta[:n]; identity when LN is off."""
        if self.ln_weight is None:
            return y
        return F.layer_norm(y, (n,), self.ln_weight[:n], self.ln_bias[:n])

    def forward(self, x: torch.Tensor, n: int, cols: Segments | None = None,
                w_bits: int | None = None, a_bits: int | None = None) -> torch.Tensor:
        """Projection to the first `n` outputs then LayerNorm over them."""
        return self.norm(self.linear(x, n, cols, w_bits, a_bits), n)

    @torch.no_grad()
    def copy_from(self, src: "Proj", n: int, cols: Segments | None) -> None:
        """Copy the slice [:n, cols] of a (larger) shared projection into this exact-size one."""
        if self.weight is not None:
            self.weight.copy_(take_cols(src.weight[:n], cols))
        if self.bias is not None:
            self.bias.copy_(src.bias[:n])
        if self.ln_weight is not None:
            self.ln_weight.copy_(src.ln_weight[:n])
            self.ln_bias.copy_(src.ln_bias[:n])


class Op(nn.Module):
    """Base of the block operators: `forward(ins, width)` and `inherit(src, ins, width)`."""

    kind = ""  # "dense" or "sparse"

    def forward(self, ins: BlockInputs, width: int) -> torch.Tensor:  # pragma: no cover - abstract
        """Output [B, d] (dense ops) or [B, s, E] (sparse ops)."""
        raise NotImplementedError

    def inherit(self, src: "Op", ins: BlockInputs, width: int) -> None:  # pragma: no cover
        """Copy the weights `src` (elastic form) uses on this path into this standalone op."""
        raise NotImplementedError


def pad_to(x: torch.Tensor, w: int) -> torch.Tensor:
    """Zero-pad the last axis of `x` [B, n] to `w` (value-space alignment of Sum/Gating)."""
    n = x.shape[-1]
    return x if n == w else F.pad(x, (0, w - n))
