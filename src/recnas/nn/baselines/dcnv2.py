"""DCN-V2 (Wang et al., WWW 2021): full-rank cross network x_{l+1} = x0 * (W_l x_l + b_l) + x_l and an MLP.

"stacked": cross layers, then the MLP, then the head; "parallel": cross and MLP side by side on x0,
their outputs concatenated into the head. Registered as `dcnv2` (stacked) and `dcnv2_parallel`.
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
from recnas.nn.baselines._common import mlp
from recnas.nn.baselines._common import num_fields
from recnas.nn.baselines._registry import register_baseline


@dataclass(frozen=True)
class DCNv2Preset:
    """Structure ("stacked" | "parallel"), number of full-rank cross layers, MLP widths and dropout."""

    structure: str = "stacked"
    cross_layers: int = 3
    hidden: tuple[int, ...] = (400, 400, 400)
    dropout: float = 0.0


class CrossLayer(nn.Module):
    """One DCN-V2 cross layer: x0 * (W x + b) + x, W full rank [d, d]."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d, d)

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """[B, d], [B, d] -> [B, d]."""
        return x0 * self.proj(x) + x


def dcnv2_cost(schema: FeatureSchema, preset: DCNv2Preset) -> BaselineCost:
    """Closed form: field inputs + L (d^2 + d) cross + MLP + head (d_in = d or d + h_last)."""
    t = Tally()
    field_inputs_cost(t, schema)
    d = num_fields(schema) * schema.embed_dim
    for _ in range(preset.cross_layers):
        t.linear(d, d)
    out = t.mlp(d, preset.hidden)
    t.linear(out + d if preset.structure == "parallel" else out, 1)
    return t.cost()


_PAPER = DCNv2Preset()
_SMALL = DCNv2Preset(cross_layers=1, hidden=(128, 64))


class DCNv2(nn.Module):
    """logit = head(MLP(Cross(x0))) (stacked) or head([Cross(x0); MLP(x0)]) (parallel)."""

    def __init__(self, schema: FeatureSchema, preset: DCNv2Preset) -> None:
        super().__init__()
        if preset.structure not in ("stacked", "parallel"):
            raise ConfigError(
                f"DCN-V2 structure {preset.structure!r}; choose 'stacked' or 'parallel'"
            )
        self.preset = preset
        self.fields = FieldInputs(schema)
        d = num_fields(schema) * schema.embed_dim
        self.cross = nn.ModuleList(CrossLayer(d) for _ in range(preset.cross_layers))
        self.deep = mlp(d, preset.hidden, dropout=preset.dropout)
        h = preset.hidden[-1] if preset.hidden else d
        self.head = nn.Linear(h + d if preset.structure == "parallel" else h, 1)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        x0 = self.fields(dense, sparse).flatten(1)  # [B, d]
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        if self.preset.structure == "stacked":
            return self.head(self.deep(x)).squeeze(-1)
        return self.head(torch.cat([x, self.deep(x0)], dim=1)).squeeze(-1)


register_baseline(
    "dcnv2",
    title="DCN-V2 (stacked)",
    reference="Wang et al., DCN V2, WWW 2021",
    presets={"paper": _PAPER, "small": _SMALL},
    cost=dcnv2_cost,
)(DCNv2)
register_baseline(
    "dcnv2_parallel",
    title="DCN-V2 (parallel)",
    reference="Wang et al., DCN V2, WWW 2021",
    presets={
        "paper": DCNv2Preset(structure="parallel"),
        "small": DCNv2Preset(structure="parallel", cross_layers=1, hidden=(128, 64)),
    },
    cost=dcnv2_cost,
)(DCNv2)
