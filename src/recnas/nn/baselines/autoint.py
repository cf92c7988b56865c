"""AutoInt+ (Song et al., CIKM 2019): multi-head self-attention interacting layers with residual
connections (eq. 5-7: e_res = ReLU(concat_h softmax(Q K^T) V + W_res e), unscaled scores), plus an MLP.

logit = w . flatten(last interacting layer) + b + w' . MLP(flatten(embeddings)) + b'.
"""

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
class AutoIntPreset:
    """Interacting layers, heads, per-head size d', MLP widths (AutoInt+) and dropout."""

    layers: int = 3
    heads: int = 2
    head_dim: int = 32
    hidden: tuple[int, ...] = (400, 400)
    dropout: float = 0.0


class InteractingLayer(nn.Module):
    """One multi-head self-attention interacting layer with a projected residual: [B, m, d] -> [B, m, H d']."""

    def __init__(self, d_in: int, *, heads: int, head_dim: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        out = heads * head_dim
        self.query = nn.Linear(d_in, out, bias=False)
        self.key = nn.Linear(d_in, out, bias=False)
        self.value = nn.Linear(d_in, out, bias=False)
        self.residual = nn.Linear(d_in, out, bias=False)

    def attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention weights [B, H, m, m] and the heads' outputs concatenated [B, m, H d']."""
        b, m, _ = x.shape
        q, k, v = (
            f(x).view(b, m, self.heads, self.head_dim).transpose(1, 2)  # [B, H, m, d']
            for f in (self.query, self.key, self.value)
        )
        w = torch.softmax(q @ k.transpose(-1, -2), dim=-1)  # [B, H, m, m]
        out = (w @ v).transpose(1, 2).reshape(b, m, self.heads * self.head_dim)  # [B, m, H d']
        return w, out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, m, d_in] -> [B, m, H d']."""
        return torch.relu(self.attention(x)[1] + self.residual(x))


def autoint_cost(schema: FeatureSchema, preset: AutoIntPreset) -> BaselineCost:
    """Closed form: field inputs + per layer 4 d_in H d' (Q, K, V, W_res) + heads + MLP."""
    t = Tally()
    field_inputs_cost(t, schema)
    m, e = num_fields(schema), schema.embed_dim
    d, out = e, preset.heads * preset.head_dim
    for _ in range(preset.layers):
        for _proj in range(4):
            t.linear(d, out, bias=False, rows=m)
        t.macs += 2 * preset.heads * m * m * preset.head_dim  # Q K^T and weights x V
        d = out
    t.linear(m * d, 1)
    t.linear(t.mlp(m * e, preset.hidden), 1)
    return t.cost()


@register_baseline(
    "autoint_plus",
    title="AutoInt+",
    reference="Song et al., AutoInt, CIKM 2019",
    presets={
        "paper": AutoIntPreset(),
        "small": AutoIntPreset(layers=2, heads=2, head_dim=16, hidden=(128, 64)),
    },
    cost=autoint_cost,
)
class AutoIntPlus(nn.Module):
    """Self-attention interacting layers over field embeddings, plus an MLP; logits summed."""

    def __init__(self, schema: FeatureSchema, preset: AutoIntPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema)
        m, e = num_fields(schema), schema.embed_dim
        dims = [e] + [preset.heads * preset.head_dim] * preset.layers
        self.layers = nn.ModuleList(
            InteractingLayer(dims[i], heads=preset.heads, head_dim=preset.head_dim)
            for i in range(preset.layers)
        )
        self.att_head = nn.Linear(m * dims[-1], 1)
        self.deep = mlp(m * e, preset.hidden, dropout=preset.dropout)
        self.head = nn.Linear(preset.hidden[-1] if preset.hidden else m * e, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        v = self.fields(dense, sparse)  # [B, m, E]
        x = v
        for layer in self.layers:
            x = layer(x)  # [B, m, H d']
        att = self.att_head(x.flatten(1)).squeeze(-1)
        return att + self.head(self.deep(v.flatten(1))).squeeze(-1)
