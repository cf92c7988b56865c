"""Analytic FLOPs/params (recnas.hardware.flops) against torch's FlopCounterMode and the built model."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from torch.utils.flop_counter import sdpa_flop_count

from recnas.data.schema import FeatureSchema
from recnas.data.schema import reference_schema
from recnas.hardware.flops import count
from recnas.nn import build_model
from recnas.space import full_path
from recnas.space import get_space
from recnas.space import load_architecture
from recnas.space import sample_arch

SCHEMA = FeatureSchema(tuple(f"I{i}" for i in range(13)), tuple(f"C{i}" for i in range(26)),
                       tuple(range(5, 31)), name="tiny")
B = 2


def _sdpa(q_shape, k_shape, v_shape, *args, out_shape=None, **kwargs) -> int:  # noqa: ANN001
    return sdpa_flop_count(q_shape, k_shape, v_shape)


def _measured_macs(model: torch.nn.Module, schema: FeatureSchema) -> float:
    dense = torch.randn(B, schema.num_dense)
    sparse = torch.zeros(B, schema.num_sparse, dtype=torch.long)
    # torch's attention formula, also for the CPU kernel the counter does not map itself
    cpu_sdpa = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
    mapping = {cpu_sdpa: _sdpa} if cpu_sdpa is not None else {}
    with FlopCounterMode(display=False, custom_mapping=mapping) as fc, torch.no_grad():
        model(dense, sparse)
    return fc.get_total_flops() / 2 / B  # FlopCounterMode counts 2 FLOPs per multiply-add


@pytest.mark.parametrize("space,ln", [("full", True), ("full", False), ("small", True)])
def test_macs_match_flop_counter_mode(space: str, ln: bool) -> None:
    rng = random.Random(7)
    archs = [sample_arch(get_space(space), rng, layernorm=ln) for _ in range(4)]
    archs.append(full_path(replace(get_space(space), dense_widths=(16, 128, 256)), layernorm=ln))
    for arch in archs:
        model = build_model(arch, SCHEMA)
        fc = count(arch, SCHEMA)
        measured = _measured_macs(model, SCHEMA)
        assert abs(fc.macs - measured) <= 0.01 * measured, (fc.macs, measured, arch.to_json())
        assert fc.flops == 2 * fc.macs and fc.flops_1 == fc.macs
        assert fc.params == sum(p.numel() for p in model.parameters())
        last = arch.blocks[-1]
        head = last.dense_width + 16 * last.sparse_items
        assert sum(b.macs for b in fc.per_block) + head == fc.macs


def test_include_dead_counts_more_on_published_arch(nasrec_config_files) -> None:  # noqa: ANN001
    path = next(p for p in nasrec_config_files if "criteo" in p.name and "xlarge" in p.name)
    arch = load_architecture(path)
    schema = reference_schema("criteo")
    live, dead = count(arch, schema, layernorm=False), count(arch, schema, include_dead=True, layernorm=False)
    assert dead.macs > live.macs
    assert [b.live for b in live.per_block] == [True, True, True, False, False, False, True]
    assert all(b.macs == 0 for b in live.per_block if not b.live)
