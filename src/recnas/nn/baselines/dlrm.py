"""DLRM (Naumov et al., 2019): bottom MLP over dense, pairwise dot interaction, top MLP.

Interaction as the reference "dot" with interaction-itself off: T = [bottom(dense); e_1..e_F]
[B, F+1, E], Z = T T^T, keep the strict lower triangle ((F+1)F/2 values), concatenate with the
bottom output. Every bottom layer has a ReLU (its last width is E); the top ends in a logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import Tally
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._registry import register_baseline
from recnas.nn.embedding import Embeddings


@dataclass(frozen=True)
class DLRMPreset:
    """Bottom hidden widths (an E-wide layer is appended) and top hidden widths (a logit appended).

    Default: the reference's Criteo Kaggle run, --arch-mlp-bot 13-512-256-64-16 --arch-mlp-top 512-256-1.
    """

    bottom: tuple[int, ...] = (512, 256, 64)
    top: tuple[int, ...] = (512, 256)


def dot_interaction(t: torch.Tensor) -> torch.Tensor:
    """Strict lower triangle of T T^T for T [B, n, E], row-major (i > j) -> [B, n (n - 1) / 2]."""
    n = t.shape[1]
    z = torch.bmm(t, t.transpose(1, 2))  # [B, n, n]
    li, lj = torch.tril_indices(n, n, offset=-1, device=t.device)
    return z[:, li, lj]


def dlrm_cost(schema: FeatureSchema, preset: DLRMPreset) -> BaselineCost:
    """Closed form: embeddings + bottom MLP + the whole Gram matrix n^2 E + top MLP + head."""
    t = Tally()
    e = schema.embed_dim
    t.embeddings(schema, e)
    n = schema.num_sparse
    top_in = 0
    if schema.num_dense > 0:
        t.mlp(schema.num_dense, (*preset.bottom, e))
        n, top_in = n + 1, e
    t.macs += n * n * e
    top_in += n * (n - 1) // 2
    t.linear(t.mlp(top_in, preset.top), 1)
    return t.cost()


@register_baseline(
    "dlrm",
    title="DLRM",
    reference="Naumov et al., DLRM, arXiv 1906.00091",
    presets={"paper": DLRMPreset(), "small": DLRMPreset(bottom=(64,), top=(128, 64))},
    cost=dlrm_cost,
)
class DLRM(nn.Module):
    """logit = top([bottom(dense); tril(T T^T)])."""

    def __init__(self, schema: FeatureSchema, preset: DLRMPreset) -> None:
        super().__init__()
        self.preset = preset
        e = schema.embed_dim
        self.embedding = Embeddings(schema, sparse_grad=True)
        self.bottom = mlp(schema.num_dense, (*preset.bottom, e)) if schema.num_dense else None
        n = schema.num_sparse + (1 if self.bottom is not None else 0)
        top_in = n * (n - 1) // 2 + (e if self.bottom is not None else 0)
        self.top = mlp(top_in, preset.top)
        self.head = nn.Linear(preset.top[-1] if preset.top else top_in, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        emb = self.embedding(sparse)  # [B, F, E]
        if self.bottom is None:
            x = dot_interaction(emb)
        else:
            b = self.bottom(dense)  # [B, E]
            x = torch.cat([b, dot_interaction(torch.cat([b.unsqueeze(1), emb], dim=1))], dim=1)
        return self.head(self.top(x)).squeeze(-1)
