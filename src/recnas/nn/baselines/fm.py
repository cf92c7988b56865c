"""Factorization machine (Rendle, ICDM 2010): first-order term plus all pairwise <v_i, v_j> x_i x_j."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import FieldInputs
from recnas.nn.baselines._common import Tally
from recnas.nn.baselines._common import field_inputs_cost
from recnas.nn.baselines._common import fm_interaction
from recnas.nn.baselines._common import linear_term_cost
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class FMPreset:
    """FM's only hyperparameter, the factor size, is the schema's embed_dim."""


def fm_cost(schema: FeatureSchema, preset: FMPreset) -> BaselineCost:
    """Closed form: LR's parameters + E per categorical row + the dense field (D0 E + E)."""
    t = Tally()
    linear_term_cost(t, schema)
    field_inputs_cost(t, schema)
    return t.cost()


@register_baseline(
    "fm",
    title="FM",
    reference="Rendle, Factorization Machines, ICDM 2010",
    presets={"paper": FMPreset(), "small": FMPreset()},
    cost=fm_cost,
)
class FactorizationMachine(nn.Module):
    """logit = LR + 0.5 sum_e[(sum_f v_f)^2 - sum_f v_f^2] over the F' field embeddings."""

    def __init__(self, schema: FeatureSchema, preset: FMPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema, first_order=True)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        v, linear = self.fields.with_first_order(dense, sparse)  # [B, F', E], [B]
        return linear + fm_interaction(v)
