"""Validation of the PIM cost model against published numbers and invariants (pim.md section 5,
V1-V9).

`run_checks()` returns one `Check` per target: published value, model value, relative error, status.
Statuses: PASS, FAIL, NOT_REPRODUCED (no honest derivation; not a failure), SKIP (optional tool
absent).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from recnas.hardware import components as comp
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import preset
from recnas.hardware.layers import ENERGY_KEYS
from recnas.hardware.layers import DigitalWork
from recnas.hardware.layers import XbarLayer
from recnas.hardware.layers import digital_cost
from recnas.hardware.layers import xbar_cost
from recnas.hardware.layers import xbar_counts
from recnas.hardware.pim import cost
from recnas.space import canonical
from recnas.space.arch import Architecture
from recnas.space.arch import Block


@dataclass(frozen=True)
class Check:
    """One validation result."""

    id: str
    name: str
    published: float | str
    model: float | str
    error: float | None  # relative error |model - published| / published, when numeric
    tol: float | None
    status: str
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(vars(self))


def _num(cid: str, name: str, published: float, model: float, tol: float, source: str) -> Check:
    err = abs(model - published) / abs(published)
    return Check(cid, name, published, model, err, tol, "PASS" if err <= tol else "FAIL", source)


def _flag(cid: str, name: str, ok: bool, model: str, expect: str = "true") -> Check:
    return Check(cid, name, expect, model, None, None, "PASS" if ok else "FAIL", "pim.md section 5")


def isaac_sums() -> dict[str, tuple[float, float]]:
    """(power mW, area mm2) of an ISAAC IMA, tile and chip summed from the component table."""
    ima = tuple(sum(v[i] for v in comp.ISAAC_IMA.values()) for i in (0, 1))
    n_ima, n_tile = comp.ISAAC_SHAPE["imas_per_tile"], comp.ISAAC_SHAPE["tiles"]
    tile = tuple(n_ima * ima[i] + sum(v[i] for v in comp.ISAAC_TILE.values()) for i in (0, 1))
    chip = tuple(
        n_tile * tile[i] + sum(v[i] for v in comp.ISAAC_CHIP_EXTRA.values()) for i in (0, 1)
    )
    return {"ima": ima, "tile": tile, "chip": chip}  # type: ignore[dict-item]


def isaac_peak(cfg: PIMConfig) -> dict[str, float]:
    """Peak figures computed from the configuration: MAC/s per IMA, chip TOPS, GOPS/mm2, GOPS/W."""
    per_weight = xbar_counts(XbarLayer("w", 1, 1, w_bits=cfg.w_bits, a_bits=cfg.a_bits), cfg)
    weights = (
        comp.ISAAC_SHAPE["xbars_per_ima"]
        * cfg.xbar_rows
        * cfg.xbar_cols
        // (per_weight["s_w"] * cfg.p)
    )
    t_mvm_s = per_weight["s_a"] * cfg.t_slice_ns * 1e-9
    mac_s = weights / t_mvm_s
    imas = comp.ISAAC_SHAPE["imas_per_tile"] * comp.ISAAC_SHAPE["tiles"]
    ops = 2 * mac_s * imas
    sums = isaac_sums()
    return {
        "ima_gmac_s": mac_s / 1e9,
        "chip_tops": ops / 1e12,
        "gops_mm2": ops / 1e9 / sums["chip"][1],
        "gops_w": ops / 1e9 / (sums["chip"][0] / 1e3),
        "ima_pj_per_mac": sums["ima"][0] * 1e-3 / mac_s * 1e12,
    }


def action_pj_per_mac(cfg: PIMConfig, k: int | None = None, n: int | None = None) -> float:
    """Array-plus-periphery energy per MAC of a K x N layer, by default a full R x C one (no
    buffers, no interconnect, no leakage)."""
    k, n = k or cfg.xbar_rows, n or cfg.xbar_cols
    layer = XbarLayer("v3", k, n, w_bits=cfg.w_bits, a_bits=cfg.a_bits)
    lc = xbar_cost(layer, cfg)
    return sum(v for k, v in lc.energy.items() if k not in ("buffer", "noc")) / lc.macs


def _v1() -> list[Check]:
    sums, src = isaac_sums(), comp.ISAAC_SOURCE
    targets = {"ima": (24.08, 0.01312), "tile": (329.8, 0.3723), "chip": (65.8e3, 85.4)}
    out = []
    for level, (p, a) in targets.items():
        out.append(_num("V1", f"ISAAC {level} power (mW)", p, sums[level][0], 0.01, src))
        out.append(_num("V1", f"ISAAC {level} area (mm2)", a, sums[level][1], 0.01, src))
    return out


def _v2_v3() -> list[Check]:
    cfg = preset("isaac")
    pk, src = isaac_peak(cfg), "pim.md V2 (derived from ISAAC's configuration)"
    out = [
        _num("V2", "ISAAC GMAC/s per IMA", 10.24, pk["ima_gmac_s"], 0.01, src),
        _num("V2", "ISAAC chip TOPS", 41.3, pk["chip_tops"], 0.01, src),
        _num("V2", "ISAAC GOPS/s/mm2", 483.0, pk["gops_mm2"], 0.01, src),
        _num("V2", "ISAAC GOPS/W", 627.0, pk["gops_w"], 0.01, src),
    ]
    act16 = action_pj_per_mac(cfg)
    out.append(
        _num(
            "V3",
            "pJ/MAC 16-bit: action model vs power model",
            pk["ima_pj_per_mac"],
            act16,
            0.10,
            "ISAAC IMA power / computed MAC rate (2.35 pJ)",
        )
    )
    out.append(
        _num("V3", "pJ/MAC 16-bit: action model vs pim.md figure", 2.23, act16, 0.10, "pim.md 3.3")
    )
    out.append(
        _num(
            "V3",
            "pJ/MAC 8/8 bits",
            0.56,
            action_pj_per_mac(replace(cfg, w_bits=8, a_bits=8)),
            0.10,
            "pim.md 3.3",
        )
    )
    return out


def _v4() -> list[Check]:
    # PUMA's published figures include cores, vector units, register files and instruction memory
    # whose
    # constants pim.md does not quote; a crossbar-level figure would not be an honest comparison.
    return [
        Check(
            "V4",
            f"PUMA {k}",
            float(comp.PUMA[f"published_{k}"].value),  # type: ignore[arg-type]
            "not derived",
            None,
            0.20,
            "NOT_REPRODUCED",
            comp.PUMA[f"published_{k}"].source,
        )
        for k in ("gops_mm2", "gops_w")
    ]


def _v5() -> list[Check]:
    out = []
    for curve in ("isaac", "murmann", "murmann_100ms"):
        e = [comp.adc_energy_pj(b, curve) for b in comp.ADC_BITS]
        out.append(
            _flag("V5", f"ADC energy curve '{curve}' monotone in bits", _monotone(e), _fmt(e))
        )
    a = [comp.adc_area_um2(b) for b in comp.ADC_BITS]
    out.append(_flag("V5", "ADC area curve monotone in bits", _monotone(a), _fmt(a)))
    for b in (4, 5, 6, 7, 8):
        out.append(
            _num(
                "V5",
                f"ADC {b}-bit: ISAAC-scaled vs Murmann (pJ)",
                comp.adc_energy_pj(b, "murmann"),
                comp.adc_energy_pj(b, "isaac"),
                0.20,
                comp.ADC_ENERGY_MURMANN_PJ.source,
            )
        )
    for b in (9, 10):  # where 256-row crossbars need their lossless ADC; see the sensitivity table
        ratio = comp.adc_energy_pj(b, "murmann") / comp.adc_energy_pj(b, "isaac")
        out.append(
            Check(
                "V5",
                f"ADC {b}-bit: Murmann / ISAAC-scaled energy",
                1.0,
                round(ratio, 2),
                ratio - 1.0,
                0.20,
                "NOT_REPRODUCED",
                "curves diverge beyond 8 bits: headline ratios are re-costed on both "
                "(pim report sensitivity)",
            )
        )
    if importlib.util.find_spec("hwcomponents_adc") is None:
        out.append(
            Check(
                "V5",
                "hwcomponents_adc cross-check",
                "optional",
                "package absent",
                None,
                None,
                "SKIP",
            )
        )
    return out


def _v8() -> list[Check]:
    """Independent sources: a measured ADC (Kull 2013) and NeuroSim's cell read energy."""
    kull = comp.KULL_ADC["power_mw"].value / comp.KULL_ADC["rate_gs"].value  # mW / GS/s = pJ
    nsim = comp.NEUROSIM_CELL
    v, r, t = (float(nsim[k].value) for k in ("v_read", "r_on", "t_read_ns"))  # type: ignore[arg-type]
    cell_fj = v * v / r * t * 1e6  # W x ns = nJ; x1e6 -> fJ (an ON cell, the upper bound)
    return [
        _num(
            "V8",
            "8-bit ADC pJ/conversion: measured SAR ADC vs model",
            float(kull),  # type: ignore[arg-type]
            comp.adc_energy_pj(8),
            0.40,
            comp.KULL_ADC["power_mw"].source,
        ),
        Check(
            "V8",
            "cell read fJ: NeuroSim ON cell (0.5 V, 6 kOhm, 10 ns) vs model",
            round(cell_fj, 1),
            comp.value("E_cell_2bit"),
            comp.value("E_cell_2bit") / cell_fj - 1.0,
            None,
            "NOT_REPRODUCED",
            "NeuroSim's 10 ns read pulse and ISAAC's per-slice array power differ by two orders "
            "of magnitude; cells are < 3% of the modelled energy, so ratios barely move",
        ),
    ]


def neurram_tops_w(a_bits: int, out_bits: int, tech_nm: int = 32) -> float:
    """Model TOPS/W (2 ops per MAC, array plus periphery) of one NeuRRAM array configuration: a
    full 256 x 256 differential layer of 4-bit weights (one cell each), 1-bit input slices and an
    ADC of `out_bits` per column conversion."""
    sh = comp.NEURRAM_SHAPE
    cfg = replace(
        preset("isaac"),
        xbar_rows=sh["rows"],
        xbar_cols=sh["cols"],
        cell_bits=sh["w_bits"],
        polarity="differential",
        adc_bits=out_bits,
        tech_nm=tech_nm,
        w_bits=sh["w_bits"],
        a_bits=a_bits,
    )
    return 2.0 / action_pj_per_mac(cfg, k=sh["rows"], n=sh["weights"])


def _v9() -> list[Check]:
    """Independent measured macro (NeuRRAM, Nature 2022): efficiency scaling with precision."""
    pub, src = comp.NEURRAM_TOPS_W, comp.NEURRAM_SOURCE
    ref = (8, 10)
    out = []
    for bits in [b for b in pub if b != ref]:
        published = float(pub[bits].value) / float(pub[ref].value)  # type: ignore[arg-type]
        model = neurram_tops_w(*bits) / neurram_tops_w(*ref)
        # 40%: the tolerance V8 uses for independent sources (a different sensing circuit)
        name = f"NeuRRAM TOPS/W ({bits[0]}b in, {bits[1]}b out) / (8b in, 10b out)"
        out.append(_num("V9", name, published, model, 0.40, src))
    model65 = neurram_tops_w(*ref, tech_nm=65)
    out.append(
        Check(
            "V9",
            "NeuRRAM TOPS/W at 8b in, 10b out (130 nm) vs model at 65 nm",
            float(pub[ref].value),  # type: ignore[arg-type]
            round(model65, 2),
            model65 / float(pub[ref].value) - 1.0,  # type: ignore[arg-type]
            None,
            "NOT_REPRODUCED",
            "the component table stops at 65 nm (no 130 nm factor) and NeuRRAM's "
            "integrate-and-count neuron is not an SAR ADC: absolute TOPS/W is not compared; "
            "at 130 nm the model would be less efficient than at 65 nm",
        )
    )
    return out


def _monotone(xs: list[float], strict: bool = False) -> bool:
    return all((b > a) if strict else (b >= a) for a, b in zip(xs, xs[1:]))


def _fmt(xs: list[float]) -> str:
    return ", ".join(f"{x:.4g}" for x in xs)


@dataclass(frozen=True)
class RefSchema:
    """A torch-free stand-in for FeatureSchema with Criteo's shape (13 dense, 26 sparse, dim 16)."""

    num_dense: int = 13
    num_sparse: int = 26
    embed_dim: int = 16
    table_sizes: tuple[int, ...] = (1000,) * 26


def reference_arch(dead: tuple[str, int] = ("fc", 64)) -> Architecture:
    """4 blocks with every interaction (Gram, gating, attention, FM, d2s); block 2 is dead."""
    b = Block
    return Architecture(
        (
            b((0,), (0,), 0, 0, ("dot_product",), ("attention",), 64, 16, d2s=True),
            b((0, 1), (0,), 0, 0, (dead[0],), ("efc",), dead[1], 32),  # read by no one: dead
            b((1,), (0, 1), 0, 1, ("gating",), ("efc",), 128, 32, fm=True),
            b((0, 3), (1, 3), 1, 3, ("fc",), ("attention",), 256, 16),
        )
    )


def _sweep(vals: list[Any], fn: Any) -> tuple[list[float], list[float]]:
    costs = [fn(v) for v in vals]
    return [c.energy_pj for c in costs], [c.area_mm2 for c in costs]


def _v6() -> list[Check]:
    arch, base = reference_arch(), preset("fair")
    sch: Any = RefSchema()
    n = arch.num_blocks
    out = []
    e, a = _sweep(
        [4, 5, 6, 7, 8, 9, 10],
        lambda b: cost(arch, sch, base, HardwareGenes.uniform(n, adc_bits=b)),
    )
    out.append(
        _flag(
            "V6", "energy, area non-decreasing in adc_bits", _monotone(e) and _monotone(a), _fmt(e)
        )
    )
    for name in ("w_bits", "a_bits"):

        def gen(bits: int, name: str = name) -> Any:
            w, a = (bits, 8) if name == "w_bits" else (8, bits)
            return cost(arch, sch, base, HardwareGenes.uniform(n, w_bits=w, a_bits=a))

        e, a = _sweep([4, 8, 16], gen)
        out.append(
            _flag(
                "V6",
                f"energy, area non-decreasing in {name}",
                _monotone(e) and _monotone(a),
                _fmt(e),
            )
        )
    cols = [1, 2, 4, 8, 16, 32, 128]
    cs = [cost(arch, sch, base, HardwareGenes.uniform(n, cols_per_adc=m)) for m in cols]
    lat, area = [c.latency_seq_ns for c in cs], [c.area_mm2 for c in cs]
    ok = _monotone(lat) and lat[-1] > lat[4] and _monotone(area[::-1], strict=True)
    out.append(
        _flag(
            "V6",
            "cols_per_adc raises latency, lowers area",
            ok,
            f"lat {_fmt(lat)}; area {_fmt(area)}",
        )
    )
    c1 = xbar_counts(XbarLayer("k", 100, 60), base)["n_cell"]
    c2 = xbar_counts(XbarLayer("k", 200, 60), base)["n_cell"]
    out.append(_flag("V6", "doubling K doubles n_cell", c2 == 2 * c1, f"{c1} -> {c2}"))
    utils = [
        xbar_cost(
            XbarLayer("u", k, m, w_bits=w),
            replace(base, xbar_rows=r, xbar_cols=r, cols_per_adc=8, polarity=p),
        ).util
        for k in (1, 16, 129, 458)
        for m in (1, 16, 300)
        for w in (4, 8, 16)
        for r in (64, 128, 256)
        for p in ("offset", "differential")
    ]
    out.append(_flag("V6", "util <= 1", max(utils) <= 1.0, f"max {max(utils):.4f}"))
    e32 = cost(arch, sch, base).energy
    e22 = cost(arch, sch, replace(base, tech_nm=22)).energy
    ratios = [e22[k] / e32[k] for k in ENERGY_KEYS if e32[k] > 0]
    out.append(
        _flag(
            "V6",
            "32 -> 22 nm scales every dynamic energy by 0.446",
            all(abs(r - 0.446) < 1e-9 for r in ratios),
            _fmt(ratios),
            "0.446",
        )
    )
    other = reference_arch(dead=("dot_product", 1024))
    same = {cost(x, sch, base).summary()["energy_pj"] for x in (arch, other, canonical(arch))}
    same_lat = {cost(x, sch, base).latency_crit_ns for x in (arch, other, canonical(arch))}
    out.append(
        _flag(
            "V6",
            "a dead block adds nothing",
            len(same) == 1 and len(same_lat) == 1,
            _fmt(sorted(same)),
        )
    )
    dig = cost(arch, sch, base, HardwareGenes.uniform(n, mapping="digital"))
    xb = cost(arch, sch, base, HardwareGenes.uniform(n, mapping="xbar"))
    out.append(
        _flag(
            "V6",
            "interaction digital -> xbar raises latency",
            xb.latency_seq_ns > dig.latency_seq_ns,
            f"{dig.latency_seq_ns:.0f} -> {xb.latency_seq_ns:.0f} ns",
        )
    )
    return out


def mlp_cost(width: int, cfg: PIMConfig) -> tuple[int, float, float]:
    """(MACs, energy pJ, latency ns) of a 2-layer MLP width -> width -> width with ReLUs (V7)."""
    items = [
        xbar_cost(XbarLayer(f"l{i}", width, width, w_bits=cfg.w_bits, a_bits=cfg.a_bits), cfg)
        for i in (1, 2)
    ]
    items += [digital_cost(DigitalWork("relu", simple=width, bits=cfg.a_bits), cfg) for _ in (1, 2)]
    return (
        sum(c.macs for c in items),
        sum(c.energy_pj for c in items),
        sum(c.latency_ns for c in items),
    )


def _v7() -> list[Check]:
    cfg = preset("fair")
    m1, e1, t1 = mlp_cost(512, cfg)
    m2, e2, t2 = mlp_cost(256, cfg)
    fr, er, lr = m1 / m2, e1 / e2, t1 / t2
    return [
        _flag("V7", "halving an MLP's widths: FLOPs 4x", fr == 4.0, f"{fr:.3f}", "4.0"),
        _flag("V7", "... energy cut strictly less than 4x", er < fr, f"{er:.3f}", "< 4"),
        _flag("V7", "... latency cut strictly less than 4x", lr < fr, f"{lr:.3f}", "< 4"),
    ]


def run_checks() -> list[Check]:
    """Every validation check V1-V9 in order."""
    return _v1() + _v2_v3() + _v4() + _v5() + _v6() + _v7() + _v8() + _v9()


def format_checks(checks: list[Check]) -> str:
    """A plain-text table: id, status, name, published, model, error."""
    lines = [f"{'id':4} {'status':14} {'check':52} {'published':>12} {'model':>12} {'error':>8}"]
    for c in checks:
        pub = f"{c.published:.5g}" if isinstance(c.published, float) else str(c.published)
        mod = f"{c.model:.5g}" if isinstance(c.model, float) else str(c.model)
        err = f"{c.error:.2%}" if c.error is not None else ""
        lines.append(f"{c.id:4} {c.status:14} {c.name[:52]:52} {pub:>12} {mod[:40]:>12} {err:>8}")
    return "\n".join(lines)
