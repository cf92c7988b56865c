"""A choice block (method.md §2.2 block output) and the per-architecture execution plan, shared by the
slicing supernet and the standalone model so both run the same code on a fixed path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from recnas.errors import ConfigError
from recnas.hardware.flops import block_needs
from recnas.hardware.flops import live_parts
from recnas.nn.ops import OPS
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import OpDims
from recnas.nn.ops._common import Segments
from recnas.nn.ops._common import merge_segments
from recnas.nn.quant import BitsMap
from recnas.nn.quant import fake_quant
from recnas.space.arch import Architecture
from recnas.space.arch import Block


@dataclass(frozen=True)
class BlockPlan:
    """What one block computes on a path and where its inputs sit in the shared weights."""

    need_y: bool  # dense output reaches the head
    need_ys: bool  # sparse output reaches the head
    need_d: bool  # D computed (dense ops run)
    need_s: bool  # S computed (sparse ops run)
    need_x: bool  # concatenated dense inputs read (FC, DP)
    need_xs: bool  # concatenated sparse inputs read (EFC, attention, DP)
    need_ab: bool  # left/right operands read (Sum, Gating)
    dense_cols: Segments | None  # slot-space columns of the dense inputs (None: standalone)
    item_cols: Segments | None  # slot-space items of the sparse inputs (None: standalone)

    @property
    def live(self) -> bool:
        """Whether the block runs at all."""
        return self.need_d or self.need_s


def make_plan(arch: Architecture, *, slots: tuple[int, int, int, int] | None) -> tuple[BlockPlan, ...]:
    """Plan every block; `slots` = (D0, F, max d, max s) gives slot-space columns (elastic form)."""
    plans = []
    for k, (g, (ny, nys)) in enumerate(zip(arch.blocks, live_parts(arch)), 1):
        nd, ns = block_needs(g, ny, nys)
        dense_cols = item_cols = None
        if slots is not None:
            dense_cols, item_cols = _slot_columns(arch, g.dense_idx, g.sparse_idx, slots)
        ops = set(g.dense_ops) if nd else set()
        plans.append(BlockPlan(
            need_y=ny, need_ys=nys, need_d=nd, need_s=ns,
            need_x=bool(ops & {"fc", "dot_product"}),
            need_xs=ns or "dot_product" in ops,
            need_ab=bool(ops & {"sum", "gating"}),
            dense_cols=dense_cols, item_cols=item_cols))
    return tuple(plans)


def _slot_columns(arch: Architecture, dense_idx: Sequence[int], sparse_idx: Sequence[int],
                  slots: tuple[int, int, int, int]) -> tuple[Segments, Segments]:
    """Slot-space segments (method.md §3.3): source 0 at [0, D0) / items [0, F); block j's dense at
    D0 + dmax (j-1), its items at F + (smax+8)(j-1) + [0, s_j), plus + [smax, smax+8) when m_j = 1."""
    d0, f, dmax, smax = slots
    slot = smax + 8
    dense = []
    for j in dense_idx:
        dense.append((0, d0) if j == 0 else (d0 + dmax * (j - 1), arch.blocks[j - 1].dense_width))
    items = []
    for j in sparse_idx:
        if j == 0:
            items.append((0, f))
            continue
        g, base = arch.blocks[j - 1], f + slot * (j - 1)
        items.append((base, g.sparse_width))
        if g.d2s:
            items.append((base + smax, 8))
    return merge_segments(dense), merge_segments(items)


class ChoiceBlock(nn.Module):
    """The ops of one block (all of a space's ops when elastic; the path's ops when standalone)."""

    def __init__(self, dims: OpDims, *, dense_ops: Sequence[str], sparse_ops: Sequence[str], fm: bool,
                 d2s: bool, layernorm: bool, elastic: bool) -> None:
        super().__init__()
        self.dense = nn.ModuleDict({n: _make(n, "dense", dims, layernorm, elastic) for n in dense_ops})
        self.sparse = nn.ModuleDict({n: _make(n, "sparse", dims, layernorm, elastic) for n in sparse_ops})
        self.fm = _make("fm", "merger", dims, layernorm, elastic) if fm else None
        self.d2s = _make("d2s", "merger", dims, layernorm, elastic) if d2s else None

    def forward(self, ins: BlockInputs, g: Block, plan: BlockPlan, a_bits: int | None
                ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Run the block's ops; returns (y [B, d] or None, Y [B, n, E] or None) per liveness."""
        dd = ss = None
        if plan.need_d:
            for name in g.dense_ops:  # several ops (any/full path): outputs summed
                out = fake_quant(self.dense[name](ins, g.dense_width), a_bits)
                dd = out if dd is None else dd + out
        if plan.need_s:
            for name in g.sparse_ops:
                out = fake_quant(self.sparse[name](ins, g.sparse_width), a_bits)
                ss = out if ss is None else ss + out
        y = ys = None
        if plan.need_y:
            # out of place: D stays untouched for the d2s merger (reference defect 5)
            fm = self.fm(ss, g.dense_width, ins.w_bits, a_bits) if g.fm else None
            y = dd + fake_quant(fm, a_bits) if fm is not None else dd
        if plan.need_ys:
            ys = torch.cat([ss, fake_quant(self.d2s(dd, ins.w_bits, a_bits), a_bits)], dim=1) if g.d2s else ss
        return y, ys


# The PIM cost model's name of every crossbar layer (hardware/pim.py map_block), by op and attribute:
# a quantised Proj records it, so a test can compare the quantisation points with what is charged.
SITES: dict[str, dict[str, str]] = {
    "fc": {"proj": "dense.fc"},
    "dot_product": {"u": "dense.dp.dense_proj", "p": "dense.dp.item_proj", "out": "dense.dp.out"},
    "gating": {"gate": "dense.gating.gate", "out": "dense.gating.proj"},
    "sum": {"out": "dense.sum.proj"},
    "efc": {"proj": "sparse.proj"},
    "attention": {"proj": "sparse.proj", "qkv": "sparse.attn.qkv", "attn_out": "sparse.attn.out",
                  "fc1": "sparse.attn.ffn1", "fc2": "sparse.attn.ffn2"},
    "fm": {"proj": "merge.fm.proj"},
    "d2s": {"proj": "merge.d2s"},
}


def _make(name: str, kind: str, dims: OpDims, layernorm: bool, elastic: bool) -> nn.Module:
    cls = OPS.get(name)
    if cls.kind != kind:
        raise ConfigError(f"op {name!r} is a {cls.kind} op, listed among the {kind} ops")
    op = cls(dims, layernorm=layernorm, elastic=elastic)
    for attr, child in op.named_children():
        if attr in SITES.get(name, {}):
            child.site = SITES[name][attr]
    return op


def run_blocks(blocks: Sequence[ChoiceBlock | None], arch: Architecture, plans: Sequence[BlockPlan],
               dense: torch.Tensor, emb: torch.Tensor, bits: BitsMap | None
               ) -> torch.Tensor:
    """Run the blocks on the stem (dense [B, D0], emb [B, F, E]); return the head input [B, H]."""
    ys: list[torch.Tensor | None] = [dense]
    yss: list[torch.Tensor | None] = [emb]
    for k, (g, plan, blk) in enumerate(zip(arch.blocks, plans, blocks), 1):
        if not plan.live:
            ys.append(None)
            yss.append(None)
            continue
        w_bits, a_bits = bits.get(k, (None, None)) if bits else (None, None)
        ins = BlockInputs(dense_cols=plan.dense_cols, item_cols=plan.item_cols, w_bits=w_bits,
                          a_bits=a_bits)
        if plan.need_x:
            ins.x = _cat([ys[j] for j in g.dense_idx])  # [B, Din]
        if plan.need_xs:
            ins.X = _cat([yss[j] for j in g.sparse_idx])  # [B, N, E]
        if plan.need_ab:
            ins.a, ins.b = ys[g.dense_left], ys[g.dense_right]
        y, y_s = blk(ins, g, plan, a_bits)
        ys.append(y)
        yss.append(y_s)
    y_last, ys_last = ys[-1], yss[-1]
    return torch.cat([y_last, ys_last.flatten(1)], dim=1)  # [B, d_n + E * n_n], items item-major


def _cat(ts: list[torch.Tensor | None]) -> torch.Tensor:
    return ts[0] if len(ts) == 1 else torch.cat(ts, dim=1)
