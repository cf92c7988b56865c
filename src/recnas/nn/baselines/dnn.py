"""Plain deep network over the concatenated field embeddings (BARS "DNN", the deep part of DeepFM)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import FieldInputs
from recnas.nn.baselines._common import Tally
from recnas.nn.baselines._common import field_inputs_cost
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._common import num_fields
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class DNNPreset:
    """Hidden widths (ReLU) and dropout of the MLP."""

    hidden: tuple[int, ...] = (400, 400, 400)
    dropout: float = 0.0


def dnn_cost(schema: FeatureSchema, preset: DNNPreset) -> BaselineCost:
    """Closed form: field inputs + MLP(F' E -> hidden) + Linear(h_last -> 1)."""
    t = Tally()
    field_inputs_cost(t, schema)
    t.linear(t.mlp(num_fields(schema) * schema.embed_dim, preset.hidden), 1)
    return t.cost()


@register_baseline(
    "dnn",
    title="DNN",
    reference="BARS DNN (YoutubeDNN-style MLP over embeddings)",
    presets={"paper": DNNPreset(), "small": DNNPreset(hidden=(128, 64))},
    cost=dnn_cost,
)
class DNN(nn.Module):
    """logit = w . MLP(flatten(field embeddings)) + b."""

    def __init__(self, schema: FeatureSchema, preset: DNNPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema)
        d = num_fields(schema) * schema.embed_dim
        self.mlp = mlp(d, preset.hidden, dropout=preset.dropout)
        self.head = nn.Linear(preset.hidden[-1] if preset.hidden else d, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        x = self.fields(dense, sparse).flatten(1)  # [B, F' E]
        return self.head(self.mlp(x)).squeeze(-1)
