"""xDeepFM (Lian et al., KDD 2018): linear term + Compressed Interaction Network (CIN) + MLP.

CIN layer k: Z = X^{k-1} (outer) X^0 -> [B, H_{k-1} m, D], then a width-1 convolution to H_k maps
(identity activation, as the paper's eq. 6). With `split_half` (the authors' code), every layer but
the last sends half its maps to the output and half to the next layer. Output: sum-pool over D.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._common import FieldInputs
from recnas.nn.baselines._common import Tally
from recnas.nn.baselines._common import field_inputs_cost
from recnas.nn.baselines._common import linear_term_cost
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._common import num_fields
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class XDeepFMPreset:
    """CIN feature maps per layer, split-half connections, MLP widths and dropout."""

    cin: tuple[int, ...] = (200, 200, 200)
    split_half: bool = True
    hidden: tuple[int, ...] = (400, 400)
    dropout: float = 0.0


def cin_widths(m: int, preset: XDeepFMPreset) -> list[tuple[int, int, int]]:
    """Per CIN layer: (maps read from the previous layer, maps computed, maps sent to the output)."""
    out, prev = [], m
    for k, h in enumerate(preset.cin):
        last = k == len(preset.cin) - 1
        if preset.split_half and not last and h % 2:
            raise ConfigError(
                f"xDeepFM: CIN layer {k + 1} has {h} maps; split_half needs an even number"
            )
        to_out = h // 2 if preset.split_half and not last else h
        out.append((prev, h, to_out))
        prev = h - to_out if preset.split_half and not last else h
    return out


def xdeepfm_cost(schema: FeatureSchema, preset: XDeepFMPreset) -> BaselineCost:
    """Closed form: LR + field inputs + CIN convs (H_k (H_{k-1} m + 1)) + CIN head + MLP + head."""
    t = Tally()
    linear_term_cost(t, schema)
    field_inputs_cost(t, schema)
    m, e = num_fields(schema), schema.embed_dim
    widths = cin_widths(m, preset)
    for prev, h, _ in widths:
        t.linear(prev * m, h, rows=e)
    t.linear(sum(o for _, _, o in widths), 1)
    t.linear(t.mlp(m * e, preset.hidden), 1)
    return t.cost()


class CIN(nn.Module):
    """Compressed Interaction Network: [B, m, D] -> sum-pooled maps [B, sum of output maps]."""

    def __init__(self, m: int, preset: XDeepFMPreset) -> None:
        super().__init__()
        self.widths = cin_widths(m, preset)
        self.convs = nn.ModuleList(
            nn.Conv1d(prev * m, h, kernel_size=1) for prev, h, _ in self.widths
        )
        self.out_dim = sum(o for _, _, o in self.widths)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        """x0 [B, m, D] -> [B, out_dim]."""
        b, m, d = x0.shape
        x, pooled = x0, []
        for (prev, h, to_out), conv in zip(self.widths, self.convs):
            z = (x.unsqueeze(2) * x0.unsqueeze(1)).reshape(b, prev * m, d)  # [B, H_{k-1} m, D]
            z = conv(z)  # [B, H_k, D]
            pooled.append(z[:, :to_out].sum(dim=2))  # [B, to_out]
            x = z[:, to_out:] if to_out < h else z
        return torch.cat(pooled, dim=1)


@register_baseline(
    "xdeepfm",
    title="xDeepFM",
    reference="Lian et al., xDeepFM, KDD 2018",
    presets={"paper": XDeepFMPreset(), "small": XDeepFMPreset(cin=(32, 32), hidden=(128, 64))},
    cost=xdeepfm_cost,
)
class XDeepFM(nn.Module):
    """logit = LR + w_c . CIN(v) + b_c + w . MLP(flatten(v)) + b."""

    def __init__(self, schema: FeatureSchema, preset: XDeepFMPreset) -> None:
        super().__init__()
        self.preset = preset
        self.fields = FieldInputs(schema, first_order=True)
        m = num_fields(schema)
        self.cin = CIN(m, preset)
        self.cin_head = nn.Linear(self.cin.out_dim, 1)
        d = m * schema.embed_dim
        self.deep = mlp(d, preset.hidden, dropout=preset.dropout)
        self.head = nn.Linear(preset.hidden[-1] if preset.hidden else d, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        v, linear = self.fields.with_first_order(dense, sparse)  # [B, m, E], [B]
        cin = self.cin_head(self.cin(v)).squeeze(-1)
        deep = self.head(self.deep(v.flatten(1))).squeeze(-1)
        return linear + cin + deep
