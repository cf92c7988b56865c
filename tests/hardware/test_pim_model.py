"""The cost model: sourced table, counts, mapping, invariants (pim.md 3-4, V6)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from recnas.cli.main import main
from recnas.data.schema import reference_schema
from recnas.errors import ConfigError
from recnas.hardware import components as comp
from recnas.hardware.config import BlockGenes
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import lossless_adc_bits
from recnas.hardware.config import preset
from recnas.hardware.flops import count
from recnas.hardware.layers import XbarLayer
from recnas.hardware.layers import xbar_cost
from recnas.hardware.layers import xbar_counts
from recnas.hardware.pim import cost
from recnas.hardware.validate import RefSchema
from recnas.hardware.validate import reference_arch
from recnas.space import canonical
from recnas.space import load_architecture


def test_every_table_number_has_a_source() -> None:
    entries = [
        *comp.TABLE.values(),
        *comp.PUMA.values(),
        comp.ADC_ENERGY_PJ,
        comp.ADC_AREA_UM2,
        comp.ADC_ENERGY_MURMANN_PJ,
    ]
    assert all(e.source.strip() and e.unit.strip() for e in entries)


def test_lossless_adc_and_isaac_counts() -> None:
    assert lossless_adc_bits(PIMConfig()) == 8  # ISAAC: 128 rows, 2-bit cells, 1-bit DAC
    assert lossless_adc_bits(PIMConfig(xbar_rows=256, xbar_cols=256)) == 9
    n = xbar_counts(XbarLayer("x", 128, 128, w_bits=16, a_bits=16), preset("isaac"))
    assert (n["s_w"], n["s_a"], n["n_xbar"], n["n_adc"]) == (8, 16, 8, 16 * 128 * 8)


def test_util_and_differential_polarity() -> None:
    cfg = preset("fair")
    lc = xbar_cost(XbarLayer("x", 16, 16), cfg)
    assert lc.util == pytest.approx(16 * 16 * 4 / (128 * 128))  # the 16->16 layer wastes the array
    d = xbar_counts(XbarLayer("x", 128, 128), replace(cfg, polarity="differential"))
    assert d["n_xbar"] == 2 * xbar_counts(XbarLayer("x", 128, 128), cfg)["n_xbar"]


def test_xbar_macs_equal_flops_linear_macs(nasrec_config_files) -> None:
    for f in nasrec_config_files:
        arch = load_architecture(f)
        sch = reference_schema(f.parent.name)
        c = cost(arch, sch, preset("fair"))
        assert sum(lc.macs for lc in c.layers if lc.kind == "xbar") == count(arch, sch).linear_macs
        assert c.flops == count(arch, sch).flops
        assert c.latency_crit_ns <= c.latency_seq_ns and 0 < c.util <= 1


def test_naive_mapping_writes_and_is_slower() -> None:
    arch, sch = reference_arch(), RefSchema()
    naive = cost(arch, sch, preset("naive"))
    auto = cost(arch, sch, preset("fair16"))
    assert naive.energy["write"] > 0 and auto.energy["write"] == 0
    assert naive.latency_seq_ns > auto.latency_seq_ns and naive.energy_pj > auto.energy_pj
    names = {lc.name for lc in auto.layers}
    assert {"dense.dp.gram", "sparse.attn.scores", "merge.fm"} <= names
    assert all(lc.block != 2 for lc in auto.layers)  # block 2 is dead
    # element-wise products are never diagonal crossbar matrices, not even in the naive mapping
    kinds = {lc.name: lc.kind for lc in naive.layers}
    assert kinds["merge.fm"] == "digital" and kinds["dense.dp.gram"] == "xbar"
    # runtime-written operands wear the cells out: the naive design is flagged infeasible
    assert auto.endurance_ok and auto.lifetime_years == float("inf")
    assert not naive.endurance_ok and naive.lifetime_years < 1.0


def test_leakage_area_and_embeddings_are_charged() -> None:
    from recnas.data.schema import reference_schema

    arch, sch = reference_arch(), RefSchema()
    shared = cost(arch, sch, preset("fair"))
    many = cost(arch, sch, preset("fair", cols_per_adc=8))  # 16x the ADCs: faster, leakier
    assert shared.energy["static"] == pytest.approx(shared.static_mw * shared.latency_crit_ns)
    piped = cost(arch, sch, preset("fair", static_time="interval"))  # a full pipeline
    assert piped.energy["static"] == pytest.approx(piped.static_mw * piped.stage_ns)
    assert piped.energy["static"] < shared.energy["static"]
    assert many.static_mw > shared.static_mw and many.area_mm2 > shared.area_mm2
    assert many.latency_crit_ns < shared.latency_crit_ns
    assert shared.area["digital"] > 0 and shared.area["buffer"] > 0
    wide = cost(arch, sch, preset("fair16"))
    assert wide.area["digital"] > shared.area["digital"]  # 16-bit multipliers for 16-bit operands
    # Criteo's full tables (GBs) cannot sit on chip: DRAM lookups, in every total
    full = cost(arch, reference_schema("criteo"), preset("fair"))
    small = cost(arch, reference_schema("criteo", cap=1000), preset("fair"))
    assert (full.embedding_placement, small.embedding_placement) == ("dram", "edram")
    assert full.energy["embedding"] == full.embedding_pj > 100 * small.embedding_pj > 0
    assert full.energy_pj == pytest.approx(sum(full.energy.values()))


def test_fill_area_is_iso_area_and_consistent() -> None:
    from recnas.hardware.pim import fill_area

    arch, sch, cfg = reference_arch(), RefSchema(), preset("fair")
    base = cost(arch, sch, cfg)
    same, dups = fill_area(arch, sch, cfg, base.genes, base.area_mm2)
    assert dups == {} and same.energy_pj == base.energy_pj
    big, dups = fill_area(arch, sch, cfg, base.genes, 2 * base.area_mm2)
    assert dups and base.area_mm2 < big.area_mm2 <= 2 * base.area_mm2
    assert big.latency_crit_ns < base.latency_crit_ns and big.throughput >= base.throughput
    # the throughput figure is the slowest stage of the same layer list the latency sums
    slowest = max(lc.latency_ns for lc in big.layers if lc.kind == "xbar")
    digital = sum(lc.latency_ns for lc in big.layers if lc.kind == "digital")
    assert big.throughput == pytest.approx(1e9 / max(slowest, digital))


def test_cell_bits_gene_sets_the_lossless_adc() -> None:
    arch, sch = reference_arch(), RefSchema()
    g = HardwareGenes.uniform(4, cell_bits=1, adc_bits=None)
    c1 = cost(arch, sch, preset("fair"), g)
    c4 = cost(arch, sch, preset("fair"), replace(g, cell_bits=4))
    assert c1.config.cell_bits == 1 and c1.config.adc_resolution == 7
    assert c4.config.adc_resolution == 10 and c4.n_xbar < c1.n_xbar


def test_dead_block_and_canonical_cost_the_same() -> None:
    sch = RefSchema()
    a = cost(reference_arch(), sch).to_dict()
    b = cost(reference_arch(dead=("gating", 1024)), sch).to_dict()
    c = cost(canonical(reference_arch()), sch).to_dict()
    for d in (b, c):
        assert d["energy_pj"] == a["energy_pj"] and d["latency_crit_ns"] == a["latency_crit_ns"]


def test_identity_rule_skips_projections() -> None:
    from recnas.space import Architecture
    from recnas.space import Block

    # stem dense width 16 = e: the Dot-Product's dense projection is omitted; 6 items = k(16)
    arch = Architecture(
        (
            Block((0,), (0,), 0, 0, ("dot_product",), ("efc",), 16, 6),
            Block((1,), (1,), 0, 0, ("dot_product",), ("efc",), 16, 16),
        )
    )
    sch = replace(RefSchema(), num_dense=16)
    names = [
        lc.name
        for lc in cost(arch, sch, preset("fair")).layers
        if lc.block == 2
    ]
    assert "dense.dp.dense_proj" not in names and "dense.dp.item_proj" not in names
    assert "dense.dp.out" in names  # 21 pairs != 16


def test_monotone_and_tech_scaling() -> None:
    arch, sch = reference_arch(), RefSchema()
    base = preset("fair")
    e = [cost(arch, sch, base, HardwareGenes.uniform(4, w_bits=b)).energy_pj for b in (4, 8, 16)]
    assert e[0] < e[1] < e[2]
    e32, e22 = cost(arch, sch, base).energy, cost(arch, sch, replace(base, tech_nm=22)).energy
    assert all(e22[k] == pytest.approx(0.446 * v) for k, v in e32.items())
    with pytest.raises(ConfigError):
        replace(base, tech_nm=7)


def test_genes_json_round_trip_and_supernet_bits() -> None:
    g = HardwareGenes(
        (BlockGenes((4, 8), (4, 8), "xbar"), BlockGenes((16, 16), (16, 16))), 64, None, 8
    )
    assert HardwareGenes.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    assert g.supernet_bits() == {1: (4, 8), 2: (16, 16)}
    with pytest.raises(ConfigError):
        HardwareGenes((BlockGenes((4, 8), (8, 8)),)).supernet_bits()
    with pytest.raises(ConfigError):
        HardwareGenes.from_dict({"blocks": [{"sparse": [8, 8]}]})


def test_cli_cost(nasrec_config_files, capsys, tmp_path) -> None:
    f = nasrec_config_files[0]
    assert main(["pim", "cost", str(f), "--dataset", f.parent.name, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["energy_pj"] > 0 and d["config"]["mapping"] == "auto"
    genes = tmp_path / "hw.json"
    genes.write_text(json.dumps(HardwareGenes.uniform(7, w_bits=4, a_bits=4).to_dict()))
    assert (
        main(["pim", "cost", str(f), "--dataset", f.parent.name, "--genes", str(genes), "--layers"])
        == 0
    )
    assert "adc" in capsys.readouterr().out
    genes.write_text("{")
    assert main(["pim", "cost", str(f), "--genes", str(genes)]) == 2
