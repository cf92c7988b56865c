"""Embeddings: all categorical fields in one concatenated table (method.md §2.1, init per the reference).

One F.embedding call per batch; field j's rows live at [offset_j, offset_j + table_sizes[j]).
`sparse_grad=True` yields sparse row gradients so Adagrad updates only the rows a batch touched.
The interface (schema in, [B, F, E] out) is what a sharded backend (e.g. torchrec) would implement.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from recnas.data.schema import FeatureSchema


class Embeddings(nn.Module):
    """Per-field embedding tables of dimension `schema.embed_dim`, stored as one weight matrix."""

    def __init__(self, schema: FeatureSchema, *, sparse_grad: bool = True) -> None:
        super().__init__()
        self.schema = schema
        self.sparse_grad = sparse_grad
        self.embed_dim = schema.embed_dim
        sizes = list(schema.table_sizes)
        offsets = [0]
        for n in sizes[:-1]:
            offsets.append(offsets[-1] + n)
        self.register_buffer("offsets", torch.tensor(offsets, dtype=torch.long), persistent=False)
        self.weight = nn.Parameter(torch.empty(sum(sizes), self.embed_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-normal per table: std = sqrt(2 / (rows + dim)), as torch's xavier_normal_ on [rows, dim]."""
        with torch.no_grad():
            for off, n in zip(self.offsets.tolist(), self.schema.table_sizes):
                std = math.sqrt(2.0 / (n + self.embed_dim))
                self.weight[off:off + n].normal_(0.0, std)

    def forward(self, sparse: torch.Tensor) -> torch.Tensor:
        """Look up row ids `sparse` [B, F] (field-local) -> embeddings [B, F, E]."""
        idx = sparse.long() + self.offsets  # [B, F] global rows
        return F.embedding(idx, self.weight, sparse=self.sparse_grad)

    def table(self, field: int) -> torch.Tensor:
        """View of field `field`'s rows [table_sizes[field], E]."""
        off = int(self.offsets[field])
        return self.weight[off:off + self.schema.table_sizes[field]]
