"""Embeddings: one concatenated table, per-field offsets, sparse gradients, Xavier-normal per table."""

from __future__ import annotations

import torch

from recnas.data.schema import FeatureSchema
from recnas.nn import Embeddings


def test_lookup_shapes_offsets_and_sparse_grad() -> None:
    schema = FeatureSchema(("d",), ("a", "b", "c"), (5, 3, 7))
    emb = Embeddings(schema)
    ids = torch.tensor([[4, 0, 6], [1, 2, 0]])
    out = emb(ids)
    assert out.shape == (2, 3, 16)
    assert torch.equal(out[0, 2], emb.table(2)[6]) and torch.equal(out[1, 1], emb.table(1)[2])
    out.sum().backward()
    g = emb.weight.grad
    assert g.is_sparse
    touched = set(g.coalesce().indices()[0].tolist())
    assert touched == {4, 5 + 0, 8 + 6, 1, 5 + 2, 8 + 0}


def test_dense_grad_option_and_xavier_normal_init() -> None:
    schema = FeatureSchema((), ("a", "b"), (20000, 4))
    emb = Embeddings(schema, sparse_grad=False)
    std = emb.table(0).std().item()
    assert abs(std - (2 / (20000 + 16)) ** 0.5) < 0.05 * std
    emb(torch.zeros(2, 2, dtype=torch.long)).sum().backward()
    assert not emb.weight.grad.is_sparse
