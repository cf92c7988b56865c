"""Wide & Deep (Cheng et al., DLRS 2016): a wide linear model and a deep MLP, trained jointly.

The wide part here is the first-order term over the raw features; the paper's hand-made
cross-product transformations are dataset-specific and are not built (as in BARS).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import FieldInputs
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._common import wide_and_deep_cost
from recnas.nn.baselines._common import num_fields
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class WideDeepPreset:
    """Deep tower widths (the paper's 1024-512-256 ReLU) and dropout."""

    hidden: tuple[int, ...] = (1024, 512, 256)
    dropout: float = 0.0


def wide_deep_cost(schema: FeatureSchema, preset: WideDeepPreset) -> BaselineCost:
    """Closed form: LR + field inputs + MLP(F' E -> hidden) + Linear(h_last -> 1)."""
    return wide_and_deep_cost(schema, preset.hidden)


@register_baseline(
    "wide_deep",
    title="Wide&Deep",
    reference="Cheng et al., Wide & Deep Learning, DLRS 2016",
    presets={"paper": WideDeepPreset(), "small": WideDeepPreset(hidden=(128, 64))},
    cost=wide_deep_cost,
)
class WideDeep(nn.Module):
    """logit = wide(x) + w . MLP(flatten(field embeddings)) + b."""

    def __init__(self, schema: FeatureSchema, preset: WideDeepPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema, first_order=True)
        d = num_fields(schema) * schema.embed_dim
        self.deep = mlp(d, preset.hidden, dropout=preset.dropout)
        self.head = nn.Linear(preset.hidden[-1] if preset.hidden else d, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        v, wide = self.fields.with_first_order(dense, sparse)  # [B, F', E], [B]
        return wide + self.head(self.deep(v.flatten(1))).squeeze(-1)
