"""Analytic multiply-adds and parameters of a standalone NASRec model (method.md §2.3, §6 liveness, §7).

Pure Python (no torch). Also holds the shape logic the standalone model is built from (liveness,
source widths, exact op sizes), so the counted network is the built one.

What `macs` counts, per sample: every Linear's weight multiply-adds (out x in, times 16 for the
item-mixing projections applied to each embedding coordinate) and the batched products of the
interactions: the Dot-Product Gram matrix T T^T ((k+1)^2 x 16, the whole square, as computed) and the
attention scores Q K^T and weighted values (s^2 x 16 each, summed over the 8 heads of dim 2). Not
counted: biases, LayerNorm, activations, softmax, sigmoid, padding, the FM merger's element-wise
square-of-sum, the embedding lookup. Gating multiplies only the unpadded block of W_g (d_R x d_L) and
W_p (d x d_R), as computed. Dead parts (not reaching the head, method.md §6) are skipped unless
`include_dead=True`, which counts every block whole as the reference does (defect 9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from recnas.space import liveness
from recnas.space.arch import D2S_ITEMS
from recnas.space.arch import Architecture
from recnas.space.arch import Block

if TYPE_CHECKING:  # recnas.data's package may import torch; hardware must not
    from recnas.data.schema import FeatureSchema


def dp_items(width: int) -> int:
    """Dot-product item projection size k = round(sqrt(2 d))."""
    return int(round(math.sqrt(2 * width)))


def live_parts(arch: Architecture) -> list[tuple[bool, bool]]:
    """Per block (index 0 = block 1): whether its dense output y and its sparse output Y reach the head."""
    return [(lv.dense_out, lv.sparse_out) for lv in liveness(arch)]


def block_needs(g: Block, need_y: bool, need_ys: bool) -> tuple[bool, bool]:
    """(D live, S live) of a block given which of its outputs are live (method.md §6)."""
    need_d = need_y or (need_ys and g.d2s)
    need_s = need_ys or (need_y and g.fm)
    return need_d, need_s


def source_widths(arch: Architecture, schema: FeatureSchema) -> tuple[list[int], list[int]]:
    """Dense widths d_j and item counts n_j of sources 0..n (source 0 = stem)."""
    dw = [schema.num_dense] + [b.dense_width for b in arch.blocks]
    items = [schema.num_sparse] + [b.sparse_items for b in arch.blocks]
    return dw, items


@dataclass(frozen=True)
class BlockShape:
    """Exact sizes of one standalone block."""

    dense_in: int  # Din = sum of d_j over dense_idx
    items_in: int  # N = sum of n_j over sparse_idx
    d_left: int
    d_right: int
    dense_width: int
    sparse_width: int

    @property
    def pair_width(self) -> int:
        """w = max(d_L, d_R) of Sum and Gating."""
        return max(self.d_left, self.d_right)


def block_shapes(arch: Architecture, schema: FeatureSchema) -> list[BlockShape]:
    """Exact input/output sizes of every block of the standalone model."""
    dw, items = source_widths(arch, schema)
    return [BlockShape(sum(dw[j] for j in g.dense_idx), sum(items[j] for j in g.sparse_idx),
                       dw[g.dense_left], dw[g.dense_right], g.dense_width, g.sparse_width)
            for g in arch.blocks]


@dataclass(frozen=True)
class BlockCount:
    """Per-block figures."""

    block: int
    live: bool
    macs: int
    linear_macs: int
    params: int


@dataclass(frozen=True)
class FlopCount:
    """Per-sample cost of a standalone model; flops = 2 * macs, flops_1 = macs (1 per multiply-add)."""

    macs: int
    linear_macs: int  # Linear layers only (no Gram / attention products): fvcore-like reading
    params: int
    embedding_params: int
    include_dead: bool
    per_block: tuple[BlockCount, ...] = field(default_factory=tuple)

    @property
    def flops(self) -> int:
        """FLOPs at 2 per multiply-add."""
        return 2 * self.macs

    @property
    def flops_1(self) -> int:
        """FLOPs at 1 per multiply-add (the reference's fvcore convention)."""
        return self.macs

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"macs": self.macs, "flops": self.flops, "flops_1": self.flops_1,
                "linear_macs": self.linear_macs, "params": self.params,
                "embedding_params": self.embedding_params, "include_dead": self.include_dead,
                "per_block": [vars(b) for b in self.per_block]}


class _Tally:
    """Accumulates (linear macs, other macs, params)."""

    def __init__(self) -> None:
        self.lin = 0
        self.other = 0
        self.params = 0

    def proj(self, n_in: int, n_out: int, *, bias: bool, ln: bool, rows: int = 1,
             linear: bool = True) -> None:
        """A Linear n_in -> n_out applied to `rows` vectors per sample, with optional bias/LN."""
        if linear:
            self.lin += n_in * n_out * rows
            self.params += n_in * n_out + (n_out if bias else 0)
        self.params += 2 * n_out if ln else 0


def _dense_op(t: _Tally, op: str, sh: BlockShape, ln: bool, e: int) -> None:
    d = sh.dense_width
    if op == "fc":
        t.proj(sh.dense_in, d, bias=not ln, ln=ln)
    elif op == "dot_product":
        k = dp_items(d)
        pairs = (k + 1) * k // 2
        if sh.dense_in != e:
            t.proj(sh.dense_in, e, bias=not ln, ln=ln)
        if sh.items_in != k:
            t.proj(sh.items_in, k, bias=not ln, ln=ln, rows=e)
        t.other += (k + 1) * (k + 1) * e
        t.proj(pairs, d, bias=not ln, ln=ln, linear=pairs != d)
    elif op == "sum":
        w = sh.pair_width
        t.proj(w, d, bias=not ln, ln=ln, linear=w != d)
    elif op == "gating":
        w = sh.pair_width
        t.params += w * w + w
        t.lin += sh.d_right * sh.d_left
        t.params += (d * w + d) if w != d else 0
        t.lin += d * sh.d_right if w != d else 0
        t.params += 2 * d if ln else 0
    else:
        raise ValueError(f"unknown dense op {op!r}")


def _sparse_op(t: _Tally, op: str, sh: BlockShape, ln: bool, e: int) -> None:
    s = sh.sparse_width
    t.proj(sh.items_in, s, bias=not ln, ln=ln, rows=e)
    if op == "attention":
        t.proj(e, 3 * e, bias=True, ln=False, rows=s)
        t.other += 2 * s * s * e  # scores and weighted values over all heads: 2 x (h * s * s * e/h)
        t.proj(e, e, bias=True, ln=True, rows=s)  # out-projection + LN_a
        t.proj(e, e, bias=True, ln=False, rows=s)  # W_1
        t.proj(e, e, bias=True, ln=True, rows=s)  # W_2 + LN_f
    elif op != "efc":
        raise ValueError(f"unknown sparse op {op!r}")


def count(arch: Architecture, schema: FeatureSchema, *, include_dead: bool = False,
          layernorm: bool | None = None) -> FlopCount:
    """Per-sample multiply-adds and parameters of `arch`'s standalone model on `schema`."""
    ln = arch.layernorm if layernorm is None else layernorm
    e = schema.embed_dim
    live = live_parts(arch)
    total = _Tally()
    blocks = []
    for k, (g, sh, (ny, nys)) in enumerate(zip(arch.blocks, block_shapes(arch, schema), live), 1):
        if include_dead:
            ny = nys = True
        need_d, need_s = block_needs(g, ny, nys)
        t = _Tally()
        for op in g.dense_ops if need_d else ():
            _dense_op(t, op, sh, ln, e)
        for op in g.sparse_ops if need_s else ():
            _sparse_op(t, op, sh, ln, e)
        if ny and g.fm:  # W_f and its LN exist at every width, d = 16 included (nn/ops/fm.py)
            t.proj(e, sh.dense_width, bias=not ln, ln=ln)
        if nys and g.d2s and sh.dense_width != D2S_ITEMS * e:
            t.proj(sh.dense_width, D2S_ITEMS * e, bias=not ln, ln=ln)
        blocks.append(BlockCount(k, ny or nys, t.lin + t.other, t.lin, t.params))
        total.lin, total.other, total.params = (total.lin + t.lin, total.other + t.other,
                                                total.params + t.params)
    last = arch.blocks[-1]
    head = last.dense_width + e * last.sparse_items
    total.proj(head, 1, bias=True, ln=False)
    emb = sum(schema.table_sizes) * e
    return FlopCount(macs=total.lin + total.other, linear_macs=total.lin, params=total.params + emb,
                     embedding_params=emb, include_dead=include_dead, per_block=tuple(blocks))
