"""Logistic regression: a bias, one weight per categorical row and one per dense feature."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import LinearTerm
from recnas.nn.baselines._common import Tally
from recnas.nn.baselines._common import linear_term_cost
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class LRPreset:
    """LR has no hyperparameters beyond the trainer's."""


def lr_cost(schema: FeatureSchema, preset: LRPreset) -> BaselineCost:
    """Closed form: sum(N_j) + D0 + 1 parameters, D0 multiply-adds."""
    t = Tally()
    linear_term_cost(t, schema)
    return t.cost()


@register_baseline(
    "lr",
    title="LR",
    reference="logistic regression (BARS LR)",
    presets={"paper": LRPreset(), "small": LRPreset()},
    cost=lr_cost,
)
class LogisticRegression(nn.Module):
    """logit = b + sum_j w[x_j] + w_d . dense."""

    def __init__(self, schema: FeatureSchema, preset: LRPreset) -> None:
        super().__init__()
        self.preset = preset
        self.linear = LinearTerm(schema)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        return self.linear(dense, sparse)
