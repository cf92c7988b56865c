"""Pieces shared by the hand-crafted baselines: field inputs, first-order term, MLPs and cost tallies.

Dense features: models without a dense path of their own see the (already log-transformed, data.md
§2.3) dense vector through one Linear(D0 -> E) as an extra field embedding; DLRM uses a bottom MLP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import dataclasses
from typing import Any

import torch
from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.nn.embedding import Embeddings


@dataclass(frozen=True)
class BaselineCost:
    """Per-sample cost of a baseline: multiply-adds (flops = 2 * macs) and parameters.

    Convention of recnas.hardware.flops: Linear/conv weight multiply-adds and batched products
    (Gram matrices, attention) count; biases, activations, softmax, element-wise products (FM's
    square-of-sum, the cross layer's Hadamard product, CIN's outer product) and lookups do not.
    """

    macs: int
    params: int
    embedding_params: int

    @property
    def flops(self) -> int:
        """FLOPs at 2 per multiply-add."""
        return 2 * self.macs

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "macs": self.macs,
            "flops": self.flops,
            "params": self.params,
            "embedding_params": self.embedding_params,
        }


class Tally:
    """Accumulates multiply-adds and parameters while a cost formula walks a model's layers."""

    def __init__(self) -> None:
        self.macs = 0
        self.params = 0
        self.embedding_params = 0

    def linear(self, n_in: int, n_out: int, *, bias: bool = True, rows: int = 1) -> None:
        """A Linear n_in -> n_out applied to `rows` vectors per sample."""
        self.macs += n_in * n_out * rows
        self.params += n_in * n_out + (n_out if bias else 0)

    def mlp(self, n_in: int, hidden: Sequence[int]) -> int:
        """An `mlp(n_in, hidden)`; returns its output width."""
        for h in hidden:
            self.linear(n_in, h)
            n_in = h
        return n_in

    def embeddings(self, schema: FeatureSchema, dim: int) -> None:
        """Embedding tables of width `dim` over all fields (no multiply-adds)."""
        n = sum(schema.table_sizes) * dim
        self.params += n
        self.embedding_params += n

    def cost(self) -> BaselineCost:
        """The total."""
        return BaselineCost(self.macs, self.params, self.embedding_params)


def num_fields(schema: FeatureSchema) -> int:
    """Fields a field-based model sees: F categorical plus one dense field when D0 > 0."""
    return schema.num_sparse + (1 if schema.num_dense > 0 else 0)


def field_inputs_cost(t: Tally, schema: FeatureSchema) -> None:
    """Cost of `FieldInputs`: embeddings of width E and the dense projection D0 -> E."""
    t.embeddings(schema, schema.embed_dim)
    if schema.num_dense > 0:
        t.linear(schema.num_dense, schema.embed_dim)


def linear_term_cost(t: Tally, schema: FeatureSchema) -> None:
    """Cost of `LinearTerm`: one weight per categorical row, a dense Linear D0 -> 1 and a bias."""
    t.embeddings(schema, 1)
    t.params += schema.num_dense + 1
    t.macs += schema.num_dense


def wide_and_deep_cost(schema: FeatureSchema, hidden: Sequence[int]) -> BaselineCost:
    """Closed form shared by Wide&Deep and DeepFM: LR + field inputs + MLP(F' E -> hidden) + Linear(h -> 1)."""
    t = Tally()
    linear_term_cost(t, schema)
    field_inputs_cost(t, schema)
    t.linear(t.mlp(num_fields(schema) * schema.embed_dim, hidden), 1)
    return t.cost()


def mlp(n_in: int, hidden: Sequence[int], *, dropout: float = 0.0) -> nn.Sequential:
    """Linear + ReLU (+ Dropout) per hidden width; the output keeps its ReLU (heads are separate)."""
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(n_in, h), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = h
    return nn.Sequential(*layers)


class FieldInputs(nn.Module):
    """Categorical embeddings plus the dense vector as one projected field: -> [B, F', E].

    With `first_order`, each categorical row also holds its first-order weight as an extra last
    column (one sparse table instead of two: half the sparse-update work per step), and
    `with_first_order` also returns the LR term b + sum_j w[x_j] + w_d . dense.
    """

    def __init__(self, schema: FeatureSchema, *, first_order: bool = False) -> None:
        super().__init__()
        e, d0 = schema.embed_dim, schema.num_dense
        self.embed_dim, self.first_order = e, first_order
        width = e + 1 if first_order else e
        self.embedding = Embeddings(dataclasses.replace(schema, embed_dim=width), sparse_grad=True)
        self.dense_proj = nn.Linear(d0, e) if d0 else None
        self.num_fields = num_fields(schema)
        if first_order:
            self.dense_weight = nn.Linear(d0, 1, bias=False) if d0 else None
            self.bias = nn.Parameter(torch.zeros(1))

    def _fields(self, emb: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        if self.dense_proj is None:
            return emb
        return torch.cat([emb, self.dense_proj(dense).unsqueeze(1)], dim=1)  # [B, F+1, E]

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Field embeddings [B, F', E], the dense field last."""
        emb = self.embedding(sparse)  # [B, F, E] (or [B, F, E + 1])
        return self._fields(emb[..., : self.embed_dim], dense)

    def with_first_order(
        self, dense: torch.Tensor, sparse: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(field embeddings [B, F', E], first-order logits [B]); needs `first_order=True`."""
        emb = self.embedding(sparse)  # [B, F, E + 1]
        lin = emb[..., self.embed_dim].sum(dim=1) + self.bias  # [B]
        if self.dense_weight is not None:
            lin = lin + self.dense_weight(dense).squeeze(-1)
        return self._fields(emb[..., : self.embed_dim], dense), lin


class LinearTerm(nn.Module):
    """First-order (wide / logistic-regression) term: b + sum_j w[x_j] + w_d . dense -> [B]."""

    def __init__(self, schema: FeatureSchema) -> None:
        super().__init__()
        # scalar weights per categorical row, stored as width-1 embeddings (sparse Adagrad rows)
        self.weights = Embeddings(dataclasses.replace(schema, embed_dim=1), sparse_grad=True)
        self.dense = nn.Linear(schema.num_dense, 1, bias=False) if schema.num_dense else None
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        out = self.weights(sparse).sum(dim=(1, 2)) + self.bias  # [B]
        if self.dense is not None:
            out = out + self.dense(dense).squeeze(-1)
        return out


def fm_interaction(v: torch.Tensor) -> torch.Tensor:
    """Rendle's second-order term 0.5 * sum_e[(sum_f v)^2 - sum_f v^2] of v [B, F, E] -> [B]."""
    s = v.sum(dim=1)  # [B, E]
    return 0.5 * (s.pow(2) - v.pow(2).sum(dim=1)).sum(dim=1)
