"""Slicing supernet (method.md §3.3): fixed path == inherited standalone model, gradients reach exactly
the sampled parameters, dead blocks are skipped, head slicing, the d2s/FM defect, fake-quant bits."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.nn import Supernet
from recnas.nn import build_model
from recnas.nn import fake_quant
from recnas.nn import inherit_weights
from recnas.space import Architecture
from recnas.space import Block
from recnas.space import SearchSpace
from recnas.space import dead_blocks
from recnas.space import full_path
from recnas.space import get_space
from recnas.space import load_architecture
from recnas.space import sample_arch
from recnas.space import sample_path

B = 4
SCHEMA = FeatureSchema(tuple(f"I{i}" for i in range(13)), tuple(f"C{i}" for i in range(26)),
                       tuple(range(5, 31)), name="tiny")


def _batch(schema: FeatureSchema = SCHEMA, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    dense = torch.randn(B, schema.num_dense, generator=g)
    sparse = torch.stack([torch.randint(0, n, (B,), generator=g) for n in schema.table_sizes], 1)
    return dense, sparse


def _trained_head(sn: Supernet) -> Supernet:
    """A non-zero shared head (a fresh supernet's is zero), so equality tests compare real outputs."""
    bound = (6.0 / (sn.head_weight.numel() + 1)) ** 0.5
    with torch.no_grad():
        sn.head_weight.uniform_(-bound, bound)
    return sn


def _narrow(name: str) -> SearchSpace:
    """The named space with fewer widths (keeps d = 16 / 128 identity cases, slicing and k(d) prefixes)
    so the test matrix stays fast; the true widths are covered by the full-space tests below."""
    return replace(get_space(name), dense_widths=(16, 32, 128, 256))


@pytest.fixture(scope="module", params=[("full", True), ("full", False), ("small", True), ("small", False)],
                ids=lambda p: f"{p[0]}-ln{int(p[1])}")
def net(request) -> tuple[Supernet, SearchSpace, bool]:  # noqa: ANN001
    name, ln = request.param
    torch.manual_seed(0)
    space = _narrow(name)
    sn = _trained_head(Supernet(SCHEMA, space, layernorm=ln))
    with torch.no_grad():  # non-trivial LN affine params so slicing errors in them would show
        for name, p in sn.named_parameters():
            if "ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    return sn, space, ln


def test_inherited_standalone_equals_fixed_path(net) -> None:  # noqa: ANN001
    sn, space, ln = net
    rng = random.Random(1)
    dense, sparse = _batch()
    archs = [sample_arch(space, rng, layernorm=ln) for _ in range(6)]
    archs += [sample_path(space, rng, "any_path", layernorm=ln) for _ in range(3)]  # several ops summed
    for arch in archs:
        model = inherit_weights(build_model(arch, SCHEMA), sn, arch)
        with torch.no_grad():
            ref, out = sn(dense, sparse, arch), model(dense, sparse)
        assert out.shape == (B,)
        assert torch.isfinite(out).all()
        assert torch.allclose(out, ref, atol=1e-5, rtol=1e-5), arch.to_json()


def test_full_path_equals_standalone() -> None:
    torch.manual_seed(0)
    space = _narrow("full")
    sn = _trained_head(Supernet(SCHEMA, space))
    arch = full_path(space)
    dense, sparse = _batch()
    model = inherit_weights(build_model(arch, SCHEMA), sn, arch)
    with torch.no_grad():
        assert torch.allclose(model(dense, sparse), sn(dense, sparse, arch), atol=1e-5)


@pytest.fixture(scope="module")
def full_net() -> Supernet:
    """One supernet of the true NASRec-Full space (widths up to 1024), shared by the tests below."""
    torch.manual_seed(0)
    return _trained_head(Supernet(SCHEMA, get_space("full")))


@pytest.fixture()
def fresh(full_net: Supernet) -> Supernet:
    """The shared full supernet with gradients cleared."""
    full_net.zero_grad(set_to_none=True)
    return full_net


def test_true_width_paths_equal_standalone(fresh: Supernet) -> None:
    """Slicing equivalence at the space's true widths (up to 1024, k = 45)."""
    rng = random.Random(11)
    dense, sparse = _batch()
    for arch in [sample_arch(get_space("full"), rng) for _ in range(3)]:
        model = inherit_weights(build_model(arch, SCHEMA), fresh, arch)
        with torch.no_grad():
            assert torch.allclose(model(dense, sparse), fresh(dense, sparse, arch), atol=1e-5, rtol=1e-5)


def _chain(ops: list[tuple[str, str]], *, d: int = 64, s: int = 32) -> Architecture:
    blocks = [Block((k - 1,), (k - 1,), k - 1, 0, (do,), (so,), d, s, d2s=False, fm=False)
              for k, (do, so) in enumerate(ops, 1)]
    return Architecture(tuple(blocks))


def test_gradients_reach_exactly_the_sampled_parameters(fresh: Supernet) -> None:
    sn = fresh
    ops = [("fc", "efc"), ("gating", "attention"), ("dot_product", "efc"), ("sum", "attention"),
           ("fc", "efc"), ("dot_product", "attention"), ("fc", "efc")]
    arch = _chain(ops, d=64, s=32)
    dense, sparse = _batch()
    sn(dense, sparse, arch).sum().backward()
    for k, (blk, (do, so)) in enumerate(zip(sn.blocks, ops), 1):
        for name, op in list(blk.dense.items()) + list(blk.sparse.items()):
            grads = [p.grad for p in op.parameters()]
            if name in (do, so):
                assert any(g is not None and g.abs().sum() > 0 for g in grads), (k, name)
            else:
                assert all(g is None for g in grads), (k, name)
        assert all(p.grad is None for p in blk.fm.parameters())  # mergers off
        assert all(p.grad is None for p in blk.d2s.parameters())
    fc = sn.blocks[0].dense["fc"].proj
    assert fc.weight.grad[:64, :13].abs().sum() > 0
    assert fc.weight.grad[64:].abs().sum() == 0  # rows beyond d untouched
    emb_grad = sn.embedding.weight.grad
    assert emb_grad.is_sparse


def test_dead_blocks_are_skipped(nasrec_config_files, fresh: Supernet) -> None:  # noqa: ANN001
    path = next(p for p in nasrec_config_files if "criteo" in p.name and "xlarge" in p.name)
    arch = load_architecture(path)
    assert dead_blocks(arch) == (4, 5, 6)
    sn = fresh
    dense, sparse = _batch()
    sn(dense, sparse, arch).sum().backward()
    for k in (4, 5, 6):
        assert all(p.grad is None for p in sn.blocks[k - 1].parameters()), k
    assert any(p.grad is not None for p in sn.blocks[6].parameters())
    model = build_model(arch, SCHEMA)
    assert sorted(model.blocks.keys()) == ["1", "2", "3", "7"]


def test_d2s_items_do_not_get_the_fm_term() -> None:
    """Reference defect 5: at d = 128 with both mergers on, Q(D) = D must not receive FM(S)."""
    blk = Block((0,), (0,), 0, 0, ("fc",), ("efc",), 128, 16, d2s=True, fm=True)
    arch = Architecture((blk,))
    model = build_model(arch, SCHEMA)
    dense, sparse = _batch()
    with torch.no_grad():
        feats = model.features(dense, sparse)  # [y (128); S (16 x 16); Q(D) (8 x 16)]
        y, s_items, q = feats[:, :128], feats[:, 128:128 + 256], feats[:, 128 + 256:]
        fm = model.blocks["1"].fm(s_items.reshape(B, 16, 16), 128)
        assert fm.abs().sum() > 0
        assert torch.allclose(y - fm, q, atol=1e-5)


def test_fresh_supernet_starts_every_path_at_the_prior() -> None:
    """The shared head starts at zero: any path's logit is the bias, so its loss is log 2 at init."""
    sn = Supernet(SCHEMA, _narrow("full"))
    dense, sparse = _batch()
    rng = random.Random(2)
    for arch in [sample_arch(_narrow("full"), rng) for _ in range(3)]:
        with torch.no_grad():
            assert torch.equal(sn(dense, sparse, arch), torch.zeros(B))
    sn(dense, sparse, arch).sum().backward()
    assert sn.head_weight.grad.abs().sum() > 0  # the head learns at once, the body from step 2


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_fm_paths_at_d16_start_bounded(fresh: Supernet, scale: float) -> None:
    """Paths whose last block has d = 16 with FM on start at a bounded loss and gradient norm.

    The raw FM vector is a sum of s (s - 1) item products; added unprojected at d = 16 it started
    such paths at a loss of ~8 (gradient norm ~300). Projected and normalised, it is bounded whatever
    the scale of the items (`scale` inflates the embeddings).
    """
    sn, rng, n = fresh, random.Random(5), 256
    g = torch.Generator().manual_seed(1)
    dense = torch.randn(n, SCHEMA.num_dense, generator=g)
    sparse = torch.stack([torch.randint(0, k, (n,), generator=g) for k in SCHEMA.table_sizes], 1)
    label = (torch.rand(n, generator=g) < 0.25).float()
    saved = sn.embedding.weight.detach().clone()
    with torch.no_grad():
        sn.embedding.weight.mul_(scale)
    try:
        for _ in range(6):
            arch = sample_arch(get_space("full"), rng)
            last = replace(arch.blocks[-1], dense_width=16, sparse_width=64, fm=True)
            arch = Architecture(arch.blocks[:-1] + (last,))
            sn.zero_grad(set_to_none=True)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(sn(dense, sparse, arch), label)
            loss.backward()
            norm = torch.sqrt(sum(p.grad.coalesce()._values().pow(2).sum() if p.grad.is_sparse
                                  else p.grad.pow(2).sum() for p in sn.parameters() if p.grad is not None))
            assert loss.item() < 1.5, (loss.item(), arch)
            assert norm.item() < 20.0, (norm.item(), arch)
    finally:
        with torch.no_grad():
            sn.embedding.weight.copy_(saved)
        sn.zero_grad(set_to_none=True)


def test_head_slices_and_features(fresh: Supernet) -> None:
    sn = fresh
    arch = sample_arch(get_space("full"), random.Random(3))
    last = arch.blocks[-1]
    dense, sparse = _batch()
    feats = sn.features(dense, sparse, arch)
    w, b = sn.head(arch)
    assert feats.shape == (B, last.dense_width + 16 * last.sparse_items) and w.shape == (feats.shape[1],)
    assert torch.allclose(sn(dense, sparse, arch), feats @ w + b, atol=1e-6)


def test_arch_outside_space_is_a_clear_error() -> None:
    sn = Supernet(SCHEMA, _narrow("small"))
    arch = sample_arch(_narrow("full"), random.Random(0))
    arch = Architecture(tuple(Block(b.dense_idx, b.sparse_idx, b.dense_left, b.dense_right, ("gating",),
                                    ("efc",), b.dense_width, b.sparse_width) for b in arch.blocks))
    dense, sparse = _batch()
    with pytest.raises(ConfigError, match="not in the supernet's space"):
        sn(dense, sparse, arch)


def test_fake_quant_bits() -> None:
    x = torch.randn(100, requires_grad=True)
    q8 = fake_quant(x, 8)
    scale = x.detach().abs().max() / 127
    assert (q8 - x).abs().max() <= scale / 2 + 1e-6
    assert len(torch.unique(fake_quant(x, 4))) <= 15
    assert fake_quant(x, None) is x and fake_quant(x, 32) is x
    q8.sum().backward()
    assert torch.equal(x.grad, torch.ones(100))  # straight-through
    with pytest.raises(ConfigError):
        fake_quant(x, 3)


def test_bits_mapping_changes_only_quantized_blocks(fresh: Supernet) -> None:
    sn = fresh
    arch = sample_arch(get_space("full"), random.Random(5))
    dense, sparse = _batch()
    base = sn(dense, sparse, arch)
    q = sn(dense, sparse, arch, bits={7: (4, 4)})
    assert not torch.allclose(base, q)
    # a full-precision entry equals no entry (any mapping runs the head at its charged 16 bits)
    assert torch.equal(sn(dense, sparse, arch, bits={7: (None, 32)}), sn(dense, sparse, arch, bits={}))
    assert torch.allclose(sn(dense, sparse, arch, bits={}), base, rtol=1e-3, atol=1e-3)
    q.sum().backward()
    op = sn.blocks[6].dense[arch.blocks[6].dense_op]
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in op.parameters())  # STE
    with pytest.raises(ConfigError):
        sn(dense, sparse, arch, bits={9: (8, 8)})
