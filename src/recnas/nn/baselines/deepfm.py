"""DeepFM (Guo et al., IJCAI 2017): FM and an MLP sharing one set of field embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import FieldInputs
from recnas.nn.baselines._common import fm_interaction
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._common import wide_and_deep_cost
from recnas.nn.baselines._common import num_fields
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class DeepFMPreset:
    """The paper's deep part: 400-400-400 ReLU, dropout 0.5."""

    hidden: tuple[int, ...] = (400, 400, 400)
    dropout: float = 0.5


def deepfm_cost(schema: FeatureSchema, preset: DeepFMPreset) -> BaselineCost:
    """Closed form: LR + field inputs + MLP(F' E -> hidden) + Linear(h_last -> 1)."""
    return wide_and_deep_cost(schema, preset.hidden)


@register_baseline(
    "deepfm",
    title="DeepFM",
    reference="Guo et al., DeepFM, IJCAI 2017",
    presets={"paper": DeepFMPreset(), "small": DeepFMPreset(hidden=(128, 64), dropout=0.0)},
    cost=deepfm_cost,
)
class DeepFM(nn.Module):
    """logit = LR + FM(v) + w . MLP(flatten(v)) + b, with v the shared field embeddings."""

    def __init__(self, schema: FeatureSchema, preset: DeepFMPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema, first_order=True)
        d = num_fields(schema) * schema.embed_dim
        self.deep = mlp(d, preset.hidden, dropout=preset.dropout)
        self.head = nn.Linear(preset.hidden[-1] if preset.hidden else d, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        v, linear = self.fields.with_first_order(dense, sparse)  # [B, F', E], [B]
        deep = self.head(self.deep(v.flatten(1))).squeeze(-1)
        return linear + fm_interaction(v) + deep
