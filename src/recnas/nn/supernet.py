"""Slicing weight-sharing supernet (method.md §3.3): a path costs what its subnet costs, and its
fixed-path output equals the standalone model holding the sliced weights (recnas.nn.standalone).

It departs from the reference supernet on purpose (method.md §3.2 a-d): LayerNorm over the active
width only, attention over exactly s items, projections at the path's sizes (k(d), identity rule at
actual widths), Sum/Gating in value space. See docs/supernet.md.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.nn._block import BlockPlan
from recnas.nn._block import ChoiceBlock
from recnas.nn._block import make_plan
from recnas.nn._block import run_blocks
from recnas.nn.embedding import Embeddings
from recnas.nn.ops._common import OpDims
from recnas.nn.quant import BitsMap
from recnas.nn.quant import check_bits
from recnas.nn.quant import head_logits
from recnas.space.arch import D2S_ITEMS
from recnas.space.arch import Architecture

_PLAN_CACHE_SIZE = 256


class SpaceLike(Protocol):
    """The fields of recnas.space.SearchSpace the supernet reads."""

    num_blocks: int
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]
    dense_widths: tuple[int, ...]
    sparse_widths: tuple[int, ...]


class Supernet(nn.Module):
    """All ops of a search space at maximum size; `forward(dense, sparse, arch)` runs only `arch`'s path.

    Shapes are fixed at construction from the schema and the space (no lazy layers). Shared shapes per
    block i: dense inputs D0 + dmax (i-1) columns, sparse inputs F + (smax+8)(i-1) items. The
    supernet's own `layernorm` applies to every path (an architecture's `layernorm` flag is ignored).
    """

    def __init__(self, schema: FeatureSchema, space: SpaceLike, *, layernorm: bool = True,
                 sparse_grad: bool = True) -> None:
        super().__init__()
        self.schema, self.layernorm = schema, bool(layernorm)
        self.num_blocks = int(space.num_blocks)
        self.dense_ops, self.sparse_ops = tuple(space.dense_ops), tuple(space.sparse_ops)
        self.dense_widths, self.sparse_widths = tuple(space.dense_widths), tuple(space.sparse_widths)
        self.dmax, self.smax = max(self.dense_widths), max(self.sparse_widths)
        d0, f, e = schema.num_dense, schema.num_sparse, schema.embed_dim
        self.embedding = Embeddings(schema, sparse_grad=sparse_grad)
        slot = self.smax + D2S_ITEMS
        self.blocks = nn.ModuleList([
            ChoiceBlock(OpDims(dense_in=d0 + self.dmax * (i - 1), items_in=f + slot * (i - 1),
                               dense_width=self.dmax, sparse_width=self.smax,
                               pair_width=max(self.dmax, d0), embed_dim=e),
                        dense_ops=self.dense_ops, sparse_ops=self.sparse_ops, fm=True, d2s=True,
                        layernorm=self.layernorm, elastic=True)
            for i in range(1, self.num_blocks + 1)])
        # head over [y_n (dmax slots); items of block n (smax + 8 slots) x E], item-major
        # The shared head starts at zero, so every path starts at its bias alone (train_supernet
        # sets it to the base-rate logit: loss = the base-rate entropy) instead of a random
        # projection of up to 2,176 LN'd features (logit std ~1.4, loss ~1.9x the base-rate
        # entropy on the demo data; docs/supernet.md). The body gets gradients from step 2 on.
        self.head_weight = nn.Parameter(torch.zeros(self.dmax + e * slot))
        self.head_bias = nn.Parameter(torch.zeros(1))
        self._plans: OrderedDict[Architecture, tuple[BlockPlan, ...]] = OrderedDict()

    def plan(self, arch: Architecture) -> tuple[BlockPlan, ...]:
        """Validated execution plan of `arch` (cached for the most recent architectures)."""
        p = self._plans.get(arch)
        if p is not None:
            self._plans.move_to_end(arch)
            return p
        self._check(arch)
        p = make_plan(arch, slots=(self.schema.num_dense, self.schema.num_sparse, self.dmax, self.smax))
        self._plans[arch] = p
        if len(self._plans) > _PLAN_CACHE_SIZE:
            self._plans.popitem(last=False)
        return p

    def _check(self, arch: Architecture) -> None:
        if arch.num_blocks != self.num_blocks:
            raise ConfigError(f"architecture has {arch.num_blocks} blocks; the supernet has {self.num_blocks}")
        arch.validate(single_op=False, max_inputs=self.num_blocks)  # the full path reads every source
        for k, g in enumerate(arch.blocks, 1):
            bad = [o for o in g.dense_ops if o not in self.dense_ops]
            bad += [o for o in g.sparse_ops if o not in self.sparse_ops]
            if bad:
                raise ConfigError(f"block {k}: op(s) {bad} not in the supernet's space "
                                  f"{list(self.dense_ops + self.sparse_ops)}")
            if g.dense_width > self.dmax or g.sparse_width > self.smax:
                raise ConfigError(f"block {k}: widths d={g.dense_width}, s={g.sparse_width} exceed the "
                                  f"space's maxima {self.dmax}, {self.smax}")

    def features(self, dense: torch.Tensor, sparse: torch.Tensor, arch: Architecture,
                 bits: BitsMap | None = None) -> torch.Tensor:
        """Head input [B, H] = [y_n ; vec(Y_n)] on `arch`'s path (H = d_n + E (s_n + 8 m_n)).

        `bits`: optional {block index (1-based): (w_bits, a_bits)} with each entry 4, 8, 16, 32 or None
        (None/32 = full precision). w_bits fake-quantizes every Linear weight the block's ops and mergers
        use (after slicing); a_bits fake-quantizes each op output and each merger output. Blocks absent
        from the mapping, the embeddings and the head stay full precision.
        """
        plans = self.plan(arch)
        check_bits(bits, self.num_blocks)
        return run_blocks(self.blocks, arch, plans, dense, self.embedding(sparse), bits)

    def head(self, arch: Architecture) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight [H], bias [1]) slices of the shared head for `arch`; logits = features @ w + b."""
        g, e = arch.blocks[-1], self.schema.embed_dim
        parts = [self.head_weight[:g.dense_width],
                 self.head_weight[self.dmax:self.dmax + e * g.sparse_width]]
        if g.d2s:
            start = self.dmax + e * self.smax
            parts.append(self.head_weight[start:start + e * D2S_ITEMS])
        return torch.cat(parts), self.head_bias

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor, arch: Architecture,
                bits: BitsMap | None = None) -> torch.Tensor:
        """Logits [B] of `arch`'s path (several ops per block are summed; see `features` for bits)."""
        w, b = self.head(arch)
        return head_logits(self.features(dense, sparse, arch, bits), w, b, bits is not None)
