"""Mixed precision through a tiny real supernet: scoring at the candidate's bits; bits hook."""

from __future__ import annotations

import random

import pytest
import torch

from recnas.data.batch import Batch
from recnas.data.schema import reference_schema
from recnas.hardware.config import preset
from recnas.nn import Supernet
from recnas.search.cosearch import CoScorer
from recnas.search.cosearch import enable_bits_sampling
from recnas.search.cosearch import uniform_candidate
from recnas.space import get_space
from recnas.space import sample_arch
from recnas.train import CandidateScorer


def _batches(schema, n: int, seed: int) -> list[Batch]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        dense = torch.randn(64, schema.num_dense, generator=g)
        sparse = torch.randint(0, 20, (64, schema.num_sparse), generator=g)
        out.append(Batch(dense, sparse, (dense[:, 0] > 0).float()))
    return out


@pytest.fixture(scope="module")
def net_and_schema():
    torch.manual_seed(0)
    schema = reference_schema("criteo", cap=20)
    return Supernet(schema, get_space("small")).eval(), schema


def test_scores_depend_on_bits_and_costs_are_added(net_and_schema) -> None:
    net, schema = net_and_schema
    scorer = CandidateScorer(
        net,
        None,
        finetune_steps=1,
        batch_size=64,
        batches=(_batches(schema, 1, 0), _batches(schema, 1, 1)),
    )
    co = CoScorer(scorer, schema, preset("fair"))
    arch = sample_arch(get_space("small"), random.Random(3))
    s16, s4 = co(uniform_candidate(arch, 16)), co(uniform_candidate(arch, 4))
    assert s16["logloss"] != s4["logloss"]  # fake quantisation reaches the scored forward pass
    assert s4["energy"] < s16["energy"] and s4["flops"] == s16["flops"]
    assert scorer.supernet is net  # the view is removed after scoring
    assert co(uniform_candidate(arch, 16))["logloss"] == s16["logloss"]  # deterministic


def test_bits_sampling_hook(net_and_schema) -> None:
    net, schema = net_and_schema
    arch = sample_arch(get_space("small"), random.Random(4))
    b = _batches(schema, 1, 2)[0]
    seen = []
    orig = net.features

    def spy(dense, sparse, a, bits=None):  # noqa: ANN001, ANN202
        seen.append(bits)
        return orig(dense, sparse, a, bits)

    net.features = spy
    handle = enable_bits_sampling(net, p_full=0.0)
    try:
        net.train()
        torch.manual_seed(1)
        net(b.dense, b.sparse, arch)
        torch.manual_seed(1)
        net(b.dense, b.sparse, arch)
        net.eval()
        net(b.dense, b.sparse, arch)
    finally:
        handle.remove()
        del net.features
    assert seen[0] is not None and seen[0] == seen[1]  # drawn from torch's seeded RNG
    assert set(seen[0]) == set(range(1, arch.num_blocks + 1))
    assert seen[2] is None  # eval: full precision unless bits are given


def test_fake_quant_forward_only_path_equals_the_ste_path() -> None:
    """Scoring runs fake_quant without autograd (a faster in-place path): same values as the
    straight-through path that training uses, and training still gets identity gradients."""
    from recnas.nn.quant import fake_quant

    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 33, generator=g) * 3.0
    for bits in (4, 8, 16):
        xr = x.clone().requires_grad_(True)
        ste = fake_quant(xr, bits)
        fast = fake_quant(x, bits)
        assert not fast.requires_grad and torch.equal(fast, ste.detach())
        assert fast.unique().numel() <= 2 ** bits - 1  # on the grid
        ste.sum().backward()
        assert torch.equal(xr.grad, torch.ones_like(x))
    assert torch.equal(x, torch.randn(64, 33, generator=torch.Generator().manual_seed(0)) * 3.0)
