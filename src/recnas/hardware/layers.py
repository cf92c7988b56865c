"""Cost of one crossbar-mapped layer (pim.md 3.3) and of digital work (pim.md 3.4), per sample.

Energies in pJ, latencies in ns, areas in mm2. Every constant comes from `components` (sourced
table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import field

from recnas.hardware import components as comp
from recnas.hardware.config import PIMConfig

ENERGY_KEYS: tuple[str, ...] = (
    "adc",
    "dac",
    "cell",
    "sh",
    "shift_add",
    "write",
    "digital",
    "buffer",
    "noc",
    "static",
    "embedding",
)


@dataclass(frozen=True)
class XbarLayer:
    """A weight-stationary K->N layer on V vectors per sample (an operand matrix if `write`)."""

    name: str
    k: int
    n: int
    v: int = 1
    w_bits: int = 8
    a_bits: int = 8
    write: bool = (
        False  # operand matrix rewritten for every sample (activation x activation, naive)
    )
    reps: int = 1  # independent operand matrices per sample (each written and read once)
    dup: int = 1  # copies of the weights (iso-area fill): vectors spread over the copies


@dataclass(frozen=True)
class DigitalWork:
    """Work on the digital unit: activation x activation MACs plus element-wise operations."""

    name: str
    macs: int = 0
    operands: int = 0  # operand values read from the buffer
    simple: int = 0  # ReLU / add elements
    complex: int = 0  # sigmoid / exp / LN elements
    bits: int = 8


@dataclass
class LayerCost:
    """The cost of one layer or digital work item."""

    name: str
    kind: str  # xbar or digital
    block: int  # 1-based; 0 = head
    macs: int
    energy: dict[str, float] = field(default_factory=dict)
    latency_ns: float = 0.0
    area_mm2: float = 0.0
    n_xbar: int = 0
    cells_used: int = 0
    cells_alloc: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    static_mw: float = 0.0  # leakage of the layer's ADCs and DACs while the chip is on
    dup: int = 1
    writes_per_cell: int = 0  # program operations per cell per sample (dynamic operands only)

    @property
    def energy_pj(self) -> float:
        """Total energy of the layer."""
        return sum(self.energy.values())

    @property
    def util(self) -> float:
        """Fraction of allocated crossbar cells holding weights (1.0 for digital work)."""
        return self.cells_used / self.cells_alloc if self.cells_alloc else 1.0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "block": self.block,
            "macs": self.macs,
            "energy_pj": self.energy_pj,
            "energy": dict(self.energy),
            "latency_ns": self.latency_ns,
            "area_mm2": self.area_mm2,
            "n_xbar": self.n_xbar,
            "util": self.util,
            "static_mw": self.static_mw,
            "dup": self.dup,
            "writes_per_cell": self.writes_per_cell,
            "counts": dict(self.counts),
        }


def xbar_counts(layer: XbarLayer, cfg: PIMConfig) -> dict[str, int]:
    """Per-input-vector counts of pim.md 3.3 (slices, arrays, conversions, drives, cells)."""
    r, c, p = cfg.xbar_rows, cfg.xbar_cols, cfg.p
    s_w = math.ceil(layer.w_bits / cfg.cell_bits)
    s_a = math.ceil(layer.a_bits / cfg.dac_bits)
    t_r = math.ceil(layer.k / r)
    t_c = math.ceil(layer.n * s_w * p / c)
    cols = layer.n * s_w * p
    return {
        "s_w": s_w,
        "s_a": s_a,
        "t_r": t_r,
        "t_c": t_c,
        "n_xbar": t_r * t_c,
        "n_adc": s_a * t_r * cols,
        "n_dac": s_a * layer.k * t_c,
        "n_cell": s_a * layer.k * cols,
        "n_add": s_a * (t_r - 1) * cols,
        "cells": layer.k * cols,
        "buffer_bits": t_c * layer.k * layer.a_bits + layer.n * layer.a_bits,
    }


def _cell_fj(cell_bits: int) -> float:
    # 1-bit from the Timeloop table; 2-bit from ISAAC; 4-bit cells assumed to read like 2-bit
    # (inferred)
    return comp.value("E_cell_1bit") if cell_bits == 1 else comp.value("E_cell_2bit")


def xbar_cost(layer: XbarLayer, cfg: PIMConfig, *, block: int = 0) -> LayerCost:
    """Energy, latency and area of one crossbar-mapped layer (pim.md 3.3; writes per 3.4)."""
    n = xbar_counts(layer, cfg)
    f_e = comp.tech_energy_factor(cfg.tech_nm)
    per_vec = {
        "adc": n["n_adc"] * comp.adc_energy_pj(cfg.adc_resolution, cfg.adc_curve),
        "dac": n["n_dac"] * comp.value("E_dac_1bit") * 2 ** (cfg.dac_bits - 1),
        "cell": n["n_cell"] * _cell_fj(cfg.cell_bits) * 1e-3,
        "sh": n["n_adc"] * comp.value("E_sh"),
        "shift_add": (n["n_adc"] + n["n_add"]) * comp.value("E_sa"),
        "buffer": n["buffer_bits"] * comp.value("E_buf"),
        "noc": n["buffer_bits"] * cfg.noc_hops * comp.value("E_noc"),
    }
    scale = layer.v * layer.reps * f_e
    energy = {key: val * scale for key, val in per_vec.items()}
    dup = layer.dup * cfg.weight_dup
    latency = layer_latency_ns(layer, cfg, n, dup)
    if layer.write:  # program-and-verify the operand matrix for every sample
        energy["write"] = n["cells"] * comp.cell_write_pj() * comp.value("pv_pulses") * f_e
        energy["write"] *= layer.reps
    r, c = cfg.xbar_rows, cfg.xbar_cols
    adcs = math.ceil(c / cfg.cols_per_adc)
    per_xbar_um2 = (
        comp.value("A_xbar_128") * r * c / (128 * 128)
        + adcs * comp.adc_area_um2(cfg.adc_resolution)
        + r * comp.value("A_dac")
        + c * comp.value("A_sh")
    )
    n_xbar = n["n_xbar"] * dup
    area = n_xbar * per_xbar_um2 * 1e-6 * comp.tech_area_factor(cfg.tech_nm)
    static_mw = n_xbar * (
        adcs * comp.adc_leak_mw(cfg.adc_resolution) + r * comp.value("P_dac_leak")
    )
    return LayerCost(
        layer.name,
        "xbar",
        block,
        layer.k * layer.n * layer.v * layer.reps,
        energy,
        latency,
        area,
        n_xbar,
        n["cells"] * dup,
        n_xbar * r * c,
        n,
        static_mw * comp.tech_energy_factor(cfg.tech_nm),
        dup,
        layer.reps if layer.write else 0,
    )


def layer_latency_ns(
    layer: XbarLayer, cfg: PIMConfig, n: dict[str, int] | None = None, dup: int | None = None
) -> float:
    """One layer's time per sample: bit-serial slices for the vectors each weight copy serves, the
    partial-sum adder tree, and (dynamic operands) the program-and-verify write of each matrix."""
    n = n or xbar_counts(layer, cfg)
    dup = layer.dup * cfg.weight_dup if dup is None else dup
    vectors = math.ceil(layer.v * cfg.batch / dup)
    t = n["s_a"] * cfg.t_slice_ns * vectors + math.ceil(math.log2(n["t_r"])) / cfg.digital_freq_ghz
    if layer.write:  # row by row, arrays in parallel, every pulse verified
        rows = min(layer.k, cfg.xbar_rows)
        t += rows * comp.value("t_write_128") / 128 * comp.value("pv_pulses")
    return t * layer.reps


def digital_unit(cfg: PIMConfig, bits: int) -> tuple[float, float]:
    """(area mm2, leakage mW) of the digital unit: `digital_macs` multiply-adders at `bits`."""
    um2 = cfg.digital_macs * (
        comp.value("A_mult_int8") * (bits / 8) ** 2 + comp.value("A_add_int8") * bits / 8
    )
    peak_mw = cfg.digital_macs * cfg.digital_freq_ghz * (mult_pj(bits) + add_pj(bits))  # pJ/ns
    f_e = comp.tech_energy_factor(cfg.tech_nm)
    return (
        um2 * 1e-6 * comp.tech_area_factor(cfg.tech_nm),
        peak_mw * comp.value("leak_share") * f_e,
    )


def buffer_unit(cfg: PIMConfig) -> tuple[float, float]:
    """(area mm2, leakage mW) of the design's 64 KB eDRAM buffer (ISAAC tile)."""
    return (
        comp.value("A_edram_64kb") * comp.tech_area_factor(cfg.tech_nm),
        comp.value("P_edram_64kb")
        * comp.value("leak_share")
        * comp.tech_energy_factor(cfg.tech_nm),
    )


def mult_pj(bits: int) -> float:
    """Digital multiply energy at `bits` (Horowitz int8 x (b/8)^2; int32 checks the rule)."""
    return comp.value("E_mult_int8") * (bits / 8) ** 2


def add_pj(bits: int) -> float:
    """Digital add energy at `bits` (Horowitz int8 scaled linearly)."""
    return comp.value("E_add_int8") * bits / 8


def digital_cost(work: DigitalWork, cfg: PIMConfig, *, block: int = 0) -> LayerCost:
    """Energy and latency of digital work (pim.md 3.4): MACs, operand reads, element-wise ops."""
    f_e = comp.tech_energy_factor(cfg.tech_nm)
    e_dig = (
        work.macs * (mult_pj(work.bits) + add_pj(work.bits))
        + work.simple * comp.value("E_elem_simple")
        + work.complex * comp.value("E_elem_complex")
    )
    energy = {
        "digital": e_dig * f_e,
        "buffer": work.operands * work.bits * comp.value("E_buf") * f_e,
    }
    ops = work.macs + work.simple + work.complex
    latency = math.ceil(ops * cfg.batch / cfg.digital_macs) / cfg.digital_freq_ghz
    counts = {"ops": ops, "bits": work.bits if work.macs else 0}  # bits size the multipliers
    return LayerCost(work.name, "digital", block, work.macs, energy, latency, counts=counts)
