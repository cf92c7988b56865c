"""Standalone NASRec model at exact sizes, and weight inheritance from the supernet (method.md §3.3).

Only the parts that reach the head are built (dead blocks and dead sides are skipped, defect 9).
"""

from __future__ import annotations

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.hardware.flops import block_shapes
from recnas.nn._block import ChoiceBlock
from recnas.nn._block import make_plan
from recnas.nn._block import run_blocks
from recnas.nn.embedding import Embeddings
from recnas.nn.quant import BitsMap
from recnas.nn.quant import check_bits
from recnas.nn.quant import head_logits
from recnas.nn.ops._common import BlockInputs
from recnas.nn.ops._common import OpDims
from recnas.nn.supernet import Supernet
from recnas.space.arch import Architecture


class NASRecNet(nn.Module):
    """A fixed architecture with exact-size weights: forward(dense, sparse) -> logits [B]."""

    def __init__(self, arch: Architecture, schema: FeatureSchema, *, layernorm: bool,
                 sparse_grad: bool = True, bits: BitsMap | None = None,
                 embedding: Embeddings | None = None) -> None:
        super().__init__()
        arch.validate(single_op=False, max_inputs=arch.num_blocks)
        check_bits(bits, arch.num_blocks)
        self.bits = bits  # per-block (w_bits, a_bits) fake quantisation, as in Supernet.forward
        self.arch, self.schema, self.layernorm = arch, schema, bool(layernorm)
        self.plans = make_plan(arch, slots=None)
        # `embedding`: a table shared with another model (a supernet's), used as it is
        self.embedding = (embedding if embedding is not None
                          else Embeddings(schema, sparse_grad=sparse_grad))
        blocks: list[ChoiceBlock | None] = []
        for g, sh, plan in zip(arch.blocks, block_shapes(arch, schema), self.plans):
            if not plan.live:
                blocks.append(None)
                continue
            dims = OpDims(sh.dense_in, sh.items_in, sh.dense_width, sh.sparse_width, sh.pair_width,
                          schema.embed_dim)
            blocks.append(ChoiceBlock(dims, dense_ops=g.dense_ops if plan.need_d else (),
                                      sparse_ops=g.sparse_ops if plan.need_s else (),
                                      fm=g.fm and plan.need_y, d2s=g.d2s and plan.need_ys,
                                      layernorm=self.layernorm, elastic=False))
        self.blocks = nn.ModuleDict({str(k): b for k, b in enumerate(blocks, 1) if b is not None})
        self._block_list = blocks
        last = arch.blocks[-1]
        self.head = nn.Linear(last.dense_width + schema.embed_dim * last.sparse_items, 1)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Head input [B, H]."""
        return run_blocks(self._block_list, self.arch, self.plans, dense, self.embedding(sparse), self.bits)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        x = self.features(dense, sparse)
        return head_logits(x, self.head.weight[0], self.head.bias, self.bits is not None)


def build_model(arch: Architecture, schema: FeatureSchema, *, layernorm: bool | None = None,
                sparse_grad: bool = True, bits: BitsMap | None = None,
                embedding: Embeddings | None = None) -> NASRecNet:
    """Standalone model of `arch` (LayerNorm from `arch.layernorm` unless given), optionally
    fake-quantised per block at `bits` (the PIM co-design's retraining at the charged bits)."""
    ln = arch.layernorm if layernorm is None else layernorm
    return NASRecNet(arch, schema, layernorm=ln, sparse_grad=sparse_grad, bits=bits,
                     embedding=embedding)


@torch.no_grad()
def inherit_weights(model: NASRecNet, supernet: Supernet, arch: Architecture) -> NASRecNet:
    """Copy the supernet's weights on `arch`'s path into `model` (built by build_model(arch, ...))."""
    if model.arch.blocks != arch.blocks:
        raise ConfigError("inherit_weights: the model was built for a different architecture")
    if model.layernorm != supernet.layernorm:
        raise ConfigError(f"inherit_weights: model LayerNorm={model.layernorm} but supernet "
                          f"LayerNorm={supernet.layernorm}; build the model with layernorm="
                          f"{supernet.layernorm}")
    if model.schema.table_sizes != supernet.schema.table_sizes or \
            model.schema.num_dense != supernet.schema.num_dense:
        raise ConfigError("inherit_weights: model and supernet were built for different schemas")
    sup_plans = supernet.plan(arch)
    if model.embedding is not supernet.embedding:  # a shared table needs no copy
        model.embedding.weight.copy_(supernet.embedding.weight)
    shapes = block_shapes(arch, model.schema)
    for k, (g, sh, plan) in enumerate(zip(arch.blocks, shapes, sup_plans), 1):
        mine = model._block_list[k - 1]
        if mine is None:
            continue
        src = supernet.blocks[k - 1]
        ins = BlockInputs(a=torch.empty(0, sh.d_left), b=torch.empty(0, sh.d_right),
                          dense_cols=plan.dense_cols, item_cols=plan.item_cols)
        for name, op in mine.dense.items():
            op.inherit(src.dense[name], ins, g.dense_width)
        for name, op in mine.sparse.items():
            op.inherit(src.sparse[name], ins, g.sparse_width)
        if mine.fm is not None:
            mine.fm.inherit(src.fm, g.dense_width)
        if mine.d2s is not None:
            mine.d2s.inherit(src.d2s, g.dense_width)
    w, b = supernet.head(arch)
    model.head.weight.copy_(w.unsqueeze(0))
    model.head.bias.copy_(b)
    return model
