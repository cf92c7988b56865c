"""Accuracy at the charged precision: the model quantises exactly the crossbar inputs and the
interaction operands the PIM cost model charges at the block's bits (issue 11, deliverable 3)."""

from __future__ import annotations

import pytest
import torch

from recnas.data.schema import reference_schema
from recnas.hardware.config import HEAD_BITS as HW_HEAD_BITS
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import preset
from recnas.hardware.pim import cost
from recnas.hardware.validate import reference_arch
from recnas.nn import Supernet
from recnas.nn.quant import HEAD_BITS
from recnas.nn.quant import HEAD_SITE
from recnas.nn.quant import fake_quant_weight
from recnas.nn.quant import head_logits
from recnas.nn.quant import record_sites
from recnas.space import Architecture
from recnas.space import Block
from recnas.space import get_space


def _charged(arch: Architecture, schema, block: int) -> set[str]:
    """Crossbar layers and digital interactions (activation x activation MACs) of one block."""
    c = cost(arch, schema, preset("fair"), HardwareGenes.uniform(arch.num_blocks))
    return {
        lc.name
        for lc in c.layers
        if lc.block == block and (lc.kind == "xbar" or lc.macs > 0)
    }


def _pad(blocks: tuple[Block, ...], n: int = 7) -> Architecture:
    """The blocks, then a chain of FC/EFC blocks up to the supernet's 7 (earlier blocks stay live)."""
    out = list(blocks)
    while len(out) < n:
        j = len(out)
        out.append(Block((j,), (j,), 0, 0, ("fc",), ("efc",), 64, 16))
    return Architecture(tuple(out))


def _archs() -> list[Architecture]:
    b = Block
    return [
        _pad(reference_arch().blocks),
        _pad(  # sum with a projection, EFC, d2s with a projection, FM at d = 16
            (
                b((0,), (0,), 0, 0, ("sum",), ("efc",), 32, 8, d2s=True),
                b((0, 1), (0, 1), 0, 1, ("fc",), ("efc",), 16, 16, fm=True),
                b((1, 2), (2,), 1, 2, ("sum",), ("efc",), 64, 16),
            )
        ),
    ]


@pytest.fixture(scope="module")
def net_and_schema():
    torch.manual_seed(0)
    schema = reference_schema("criteo", cap=20)
    return Supernet(schema, get_space("full")).eval(), schema


@pytest.mark.parametrize("which", [0, 1])
def test_quantisation_points_equal_the_charged_crossbar_inputs(net_and_schema, which) -> None:
    net, schema = net_and_schema
    arch = _archs()[which]
    g = torch.Generator().manual_seed(0)
    dense = torch.randn(4, schema.num_dense, generator=g)
    sparse = torch.randint(0, 20, (4, schema.num_sparse), generator=g)
    checked = 0
    for k in range(1, arch.num_blocks + 1):
        with torch.no_grad(), record_sites() as sites:
            net.features(dense, sparse, arch, bits={k: (8, 8)})
        assert sites == _charged(arch, schema, k), f"block {k}"
        checked += bool(sites)
    assert checked >= 2  # live blocks were compared (the dead one records and costs nothing)


def test_weights_are_quantised_per_output_channel() -> None:
    w = torch.tensor([[1.0, 0.6, -0.25], [0.01, -0.02, 0.005]])
    q = fake_quant_weight(w, 4)
    # one scale per row: the small row keeps its resolution (per-tensor would round it to zero)
    assert torch.all(q[1] != 0)
    assert torch.allclose(q[0], torch.tensor([1.0, 4 / 7, -2 / 7]))


def test_head_quantisation_point_equals_the_charged_head_layer(net_and_schema) -> None:
    """Block 0 (the head): the co-design path's head logits quantise exactly the crossbar layer the
    cost model charges for the head, at the bits it charges."""
    net, schema = net_and_schema
    arch = _archs()[0]
    g = torch.Generator().manual_seed(1)
    dense = torch.randn(8, schema.num_dense, generator=g)
    sparse = torch.randint(0, 20, (8, schema.num_sparse), generator=g)
    with torch.no_grad():
        x = net.features(dense, sparse, arch, bits={k: (8, 8) for k in range(1, 8)})
        w = torch.randn(x.shape[1], generator=g)
        b = torch.zeros(1)
        with record_sites() as sites:
            z = head_logits(x, w, b, True)
        with record_sites() as off:
            z_fp = head_logits(x, w, b, False)
    charged = {n for n in _charged(arch, schema, 0) if not n.endswith("sigmoid")}
    assert sites == charged == {HEAD_SITE} and off == set()
    assert HEAD_BITS == HW_HEAD_BITS
    assert torch.allclose(z_fp, x @ w + b)
    # quantised at 16 bits: different from full precision, but only by rounding
    assert not torch.equal(z, z_fp) and torch.allclose(z, z_fp, rtol=1e-3, atol=1e-3)


def test_cosearch_candidates_charge_the_head_at_head_bits() -> None:
    import random

    from recnas.search.cosearch import HwSpace
    from recnas.search.cosearch import sample_genes
    from recnas.search.cosearch import uniform_candidate

    arch = _archs()[1]
    assert uniform_candidate(arch, 4).genes.head == HEAD_BITS
    assert sample_genes(arch.num_blocks, HwSpace(), random.Random(0)).head == HEAD_BITS


def test_forward_paths_quantise_the_head_only_with_bits(net_and_schema) -> None:
    """Supernet, standalone model and the proxy head all quantise the head exactly when block bits
    are given (the co-design path), and never otherwise."""
    from recnas.nn import build_model
    from recnas.search.cosearch import QuantView
    from recnas.train._scoring import HeadModel

    net, schema = net_and_schema
    arch = _archs()[1]
    g = torch.Generator().manual_seed(2)
    dense = torch.randn(4, schema.num_dense, generator=g)
    sparse = torch.randint(0, 20, (4, schema.num_sparse), generator=g)
    bits = {k: (8, 8) for k in range(1, arch.num_blocks + 1)}
    model = build_model(arch, schema, bits=bits).eval()
    w, b = net.head(arch)
    for run, on in (
        (lambda: net(dense, sparse, arch, bits), True),
        (lambda: net(dense, sparse, arch), False),
        (lambda: model(dense, sparse), True),
        (lambda: HeadModel(w, b, QuantView(net, bits).quant_head)(net.features(dense, sparse, arch)), True),
        (lambda: HeadModel(w, b)(net.features(dense, sparse, arch)), False),
    ):
        with torch.no_grad(), record_sites() as sites:
            run()
        assert (HEAD_SITE in sites) == on
