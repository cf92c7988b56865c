"""Component table of the ReRAM PIM cost model (pim.md section 4): every number with its published
source.

Values are at 32 nm (ISAAC's calibration node) unless an entry says otherwise. Units are in the
names: pJ, fJ, um2, mm2, mW. `Entry.source` names where each number comes from; "(inferred)" marks
ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from recnas.errors import ConfigError


@dataclass(frozen=True)
class Entry:
    """One number of the component table and its published source."""

    value: float | tuple[float, ...]
    unit: str
    source: str


_HWC = "hwcomponents-library ISAAC model (Accelergy-Project), scaled with Saberi et al. 2011"
_MURMANN = "hwcomponents-adc (Accelergy-Project): Murmann ADC-survey regression"
_ISAAC = "ISAAC, Shafiee et al., ISCA 2016, Table 1"
_HOROWITZ = "Horowitz, ISSCC 2014 (recalled in pim.md), 45 nm x0.66 to 32 nm"

ADC_BITS: tuple[int, ...] = (4, 5, 6, 7, 8, 9, 10)
ADC_ENERGY_PJ = Entry((0.79, 0.99, 1.20, 1.42, 1.67, 1.97, 2.38), "pJ/conversion, 4..10 bits", _HWC)
ADC_AREA_UM2 = Entry((361, 477, 627, 845, 1200, 1828, 3002), "um2, 4..10 bits", _HWC)
ADC_ENERGY_MURMANN_PJ = Entry(
    (0.92, 0.94, 1.07, 1.31, 1.93, 5.53, 16.4), "pJ/conversion at 1.28 GS/s, 4..10 bits", _MURMANN
)
ADC_ENERGY_MURMANN_100MS_PJ = Entry(
    (0.92, 0.94, 1.07, 1.31, 1.71, 2.34, 3.31), "pJ/conversion at 100 MS/s, 4..10 bits", _MURMANN
)

TABLE: dict[str, Entry] = {
    "E_dac_1bit": Entry(
        0.39, "pJ per row per slice (x2^(b_d-1))", "ISAAC: 4 mW over 1024 DACs at a 100 ns cycle"
    ),
    "A_dac": Entry(0.166, "um2 per DAC", "ISAAC: 0.00017 mm2 for 1024 DACs"),
    "E_cell_2bit": Entry(
        1.83,
        "fJ per active cell per slice",
        "ISAAC: 0.3 mW per crossbar over 100 ns / 16,384 cells",
    ),
    "E_cell_1bit": Entry(3.45, "fJ per active cell per slice", "Timeloop simple_pim example table"),
    "A_xbar_128": Entry(
        25.0, "um2 per 128x128 array (proportional to R*C)", "ISAAC; PUMA (2.5e-5 mm2)"
    ),
    "E_sh": Entry(0.001, "pJ per column sample", "ISAAC sample-and-hold: 10 uW for 1024 at 100 ns"),
    "A_sh": Entry(0.04, "um2 per column", "ISAAC sample-and-hold: 0.00004 mm2 for 1024"),
    "E_sa": Entry(0.021, "pJ per 16-bit shift-add", _HWC),
    "E_buf": Entry(0.08, "pJ/bit (eDRAM, 20.45 pJ per 256-bit access)", _HWC),
    "E_noc": Entry(0.081, "pJ/bit per hop (20.74 pJ per 256-bit transfer)", _HWC),
    "E_bus": Entry(0.054, "pJ/bit", _HWC),
    "E_mult_int8": Entry(0.2 * 0.66, "pJ (b^2 scaling for other widths, inferred)", _HOROWITZ),
    "E_add_int8": Entry(0.03 * 0.66, "pJ (linear in width, inferred)", _HOROWITZ),
    "E_mult_int32": Entry(3.1 * 0.66, "pJ (cross-check of the b^2 rule)", _HOROWITZ),
    "E_elem_simple": Entry(
        0.03, "pJ per element (ReLU, add)", "pim.md 3.4: 0.03-0.1 pJ/element (inferred)"
    ),
    "E_elem_complex": Entry(
        0.1, "pJ per element (sigmoid, exp, LN)", "pim.md 3.4: 0.03-0.1 pJ/element (inferred)"
    ),
    "E_dram_bit": Entry(
        1950.0 / 64, "pJ/bit (1.3-2.6 nJ per 64 bits, midpoint)", "Horowitz, ISSCC 2014 (recalled)"
    ),
    "E_edram_bit": Entry(0.08, "pJ/bit (20.45 pJ per 256-bit access)", "ISAAC eDRAM"),
    "t_write_128": Entry(11_000.0, "ns per 128x128 array, row by row", "PUMA simulator constants"),
    "V_set": Entry(2.0, "V SET pulse", "CiMLoop cell models; NeuroSim"),
    "t_set": Entry(45.0, "ns SET pulse (40-50 ns)", "CiMLoop cell models; NeuroSim"),
    "R_on": Entry(6000.0, "ohm", "DNN+NeuroSim V1.3 RRAM default"),
    "A_edram_64kb": Entry(0.083, "mm2 per 64 KB eDRAM buffer", "ISAAC tile table"),
    # static power (leakage x the time the chip is on for a sample): what makes ADC count and area
    # cost energy
    "P_adc_leak_8bit": Entry(
        0.2,
        "mW leakage per 8-bit 1.28 GS/s ADC (other bits: scaled with ADC area, inferred)",
        "puma-simulator constants: ADC 1.8 mW dynamic + 0.2 mW leakage",
    ),
    "P_dac_leak": Entry(
        0.39e-3, "mW leakage per 1-bit DAC", "puma-simulator constants: DAC 3.5 + 0.39 uW"
    ),
    "leak_share": Entry(
        0.1,
        "leakage as a share of peak power, for the eDRAM buffer and the digital unit (inferred)",
        "PUMA's ADC leakage share (0.2 of 2.0 mW), applied where no leakage figure is published",
    ),
    "P_edram_64kb": Entry(20.7, "mW per 64 KB eDRAM buffer at full activity", "ISAAC tile table"),
    # digital unit area (Horowitz 45 nm areas, x(32/45)^2 to 32 nm)
    "A_mult_int8": Entry(
        282.0 * (32 / 45) ** 2, "um2 per 8-bit multiplier (b^2 for other widths)", _HOROWITZ
    ),
    "A_add_int8": Entry(36.0 * (32 / 45) ** 2, "um2 per 8-bit adder (linear in width)", _HOROWITZ),
    # runtime writes of dynamic operands (naive mapping only)
    "pv_pulses": Entry(
        8.0,
        "SET pulses + verify reads per programmed cell (program-and-verify)",
        "iterative write-verify of multilevel RRAM needs several pulses per cell (NeuroSim "
        "write-verify option; Alibart et al., Nanotechnology 2012); 8 is our midpoint (inferred)",
    ),
    "endurance": Entry(
        1e8,
        "write cycles per ReRAM cell (published range 1e6-1e9; 1e8 taken)",
        "pim.md section 4 / issue 11: 10^6-10^9 write endurance",
    ),
    "min_lifetime_years": Entry(
        1.0, "years a crossbar written every sample must last", "our feasibility bar (inferred)"
    ),
    # embedding placement: on-chip capacity of the ISAAC chip's eDRAM (168 tiles x 64 KB)
    "onchip_edram_mb": Entry(
        168 * 64 / 1024, "MB on-chip eDRAM for embedding tables", "ISAAC: 168 tiles x 64 KB eDRAM"
    ),
}


def cell_write_pj() -> float:
    """Energy of one SET pulse on one cell, V^2/R_on * t (inferred from the sourced V, R_on, t)."""
    v, r, t = value("V_set"), value("R_on"), value("t_set")
    return v * v / r * t * 1e3  # W * ns = nJ; x1e3 -> pJ


# Stillmaker & Baas 2017 (hwcomponents); 22 nm uses V6's 0.446 (the section 4 table rounds it to
# 0.45)
TECH_ENERGY: dict[int, float] = {65: 1.88, 45: 1.52, 32: 1.0, 28: 0.78, 22: 0.446, 14: 0.21}
TECH_SOURCE = "Stillmaker & Baas 2017, as tabulated in hwcomponents (22 nm: 0.446, pim.md V6)"


def tech_energy_factor(tech_nm: int) -> float:
    """Dynamic-energy factor of node `tech_nm` relative to 32 nm."""
    if tech_nm not in TECH_ENERGY:
        raise ConfigError(f"tech_nm = {tech_nm}; supported nodes: {sorted(TECH_ENERGY)}")
    return TECH_ENERGY[tech_nm]


def tech_area_factor(tech_nm: int) -> float:
    """Area factor relative to 32 nm: ideal (node/32)^2 scaling (inferred; no published table)."""
    tech_energy_factor(tech_nm)
    return (tech_nm / 32.0) ** 2


def _curve(values: tuple[float, ...], bits: int) -> float:
    if bits < ADC_BITS[0]:
        raise ConfigError(f"adc_bits = {bits}; the ADC table starts at {ADC_BITS[0]} bits")
    if bits <= ADC_BITS[-1]:
        return float(values[bits - ADC_BITS[0]])
    return float(values[-1]) * 2.0 ** (
        bits - ADC_BITS[-1]
    )  # beyond 10 bits: x2 per bit (inferred, Walden FOM)


def _tuple(e: Entry) -> tuple[float, ...]:
    return e.value if isinstance(e.value, tuple) else (e.value,)


def adc_energy_pj(bits: int, curve: str = "isaac") -> float:
    """Energy of one conversion at `bits` (curve 'isaac' = hwcomponents ISAAC-scaled, 'murmann')."""
    table = {
        "isaac": ADC_ENERGY_PJ,
        "murmann": ADC_ENERGY_MURMANN_PJ,
        "murmann_100ms": ADC_ENERGY_MURMANN_100MS_PJ,
    }
    if curve not in table:
        raise ConfigError(f"unknown ADC curve {curve!r}; choose from {sorted(table)}")
    return _curve(_tuple(table[curve]), bits)


def adc_leak_mw(bits: int) -> float:
    """ADC leakage at `bits`: PUMA's 0.2 mW at 8 bits, scaled with the ADC area curve (inferred)."""
    return value("P_adc_leak_8bit") * adc_area_um2(bits) / adc_area_um2(8)


def adc_area_um2(bits: int) -> float:
    """Area of one ADC at `bits` (hwcomponents ISAAC-scaled curve)."""
    return _curve(_tuple(ADC_AREA_UM2), bits)


def value(name: str) -> float:
    """A scalar of the component table by name."""
    v = TABLE[name].value
    if isinstance(v, tuple):
        raise TypeError(f"{name} is a curve, not a scalar")
    return float(v)


# ISAAC reference power (mW) / area (mm2) tables for V1, with their multiplicity (pim.md section 4).
ISAAC_IMA: dict[str, tuple[float, float]] = {
    "adc (8 x 8-bit, 1.28 GS/s)": (16.0, 0.0096),
    "dac (8 x 128 x 1-bit)": (4.0, 0.00017),
    "sample_hold (8 x 128)": (0.01, 0.00004),
    "crossbar (8 x 128x128)": (2.4, 0.0002),
    "shift_add (4)": (0.2, 0.00024),
    "input_register (2 KB)": (1.24, 0.0021),
    "output_register (256 B)": (0.23, 0.00077),
}
ISAAC_TILE: dict[str, tuple[float, float]] = {
    "edram (64 KB)": (20.7, 0.083),
    "bus": (7.0, 0.090),
    "router (1/4)": (42.0 / 4, 0.151 / 4),
    "sigmoid": (0.52, 0.0006),
    "shift_add": (0.05, 0.00006),
    "max_pool": (0.4, 0.00024),
    "output_register (3 KB)": (1.68, 0.0032),
}
ISAAC_CHIP_EXTRA: dict[str, tuple[float, float]] = {"hyper_transport": (10400.0, 22.88)}
ISAAC_SHAPE = {"xbars_per_ima": 8, "imas_per_tile": 12, "tiles": 168}
ISAAC_SOURCE = _ISAAC

# Independent measured component for V8: the 8-bit SAR ADC ISAAC's ADC figure was adapted from.
KULL_ADC = {
    "power_mw": Entry(3.1, "mW at 1.2 GS/s, 8 bits, 32 nm SOI (measured)", "Kull et al., JSSC 2013"),
    "rate_gs": Entry(1.2, "GS/s", "Kull et al., JSSC 2013"),
}
# NeuroSim V1.3 RRAM defaults (pim.md section 4) for V8: read energy of one ON cell per 10 ns pulse.
NEUROSIM_CELL = {
    "v_read": Entry(0.5, "V read", "DNN+NeuroSim V1.3 defaults"),
    "r_on": Entry(6000.0, "ohm", "DNN+NeuroSim V1.3 defaults"),
    "t_read_ns": Entry(10.0, "ns read pulse", "DNN+NeuroSim V1.3 defaults"),
}

# PUMA (ASPLOS 2019; puma-simulator constants) for V4: only the constants pim.md quotes.
PUMA: dict[str, Entry] = {
    "xbar_power_mw": Entry(0.3, "mW", "puma-simulator constants"),
    "xbar_area_mm2": Entry(2.5e-5, "mm2", "puma-simulator constants"),
    "adc_power_mw": Entry(2.0, "mW (1.8 dynamic + 0.2 leakage)", "puma-simulator constants"),
    "adc_area_mm2": Entry(0.0012, "mm2", "puma-simulator constants"),
    "dac_power_mw": Entry(0.00389, "mW (3.5 + 0.39 uW)", "puma-simulator constants"),
    "published_gops_mm2": Entry(577.0, "GOPS/s/mm2", "PUMA, Ankit et al., ASPLOS 2019"),
    "published_gops_w": Entry(837.0, "GOPS/W", "PUMA, Ankit et al., ASPLOS 2019"),
}

# Independent measured ReRAM macro for V9: NeuRRAM (Wan et al., "A compute-in-memory chip based on
# resistive random-access memory", Nature 608, 504-512, 2022): 48 cores of 256 x 256 1T1R RRAM,
# 130 nm, 4-bit weights as differential conductance pairs (256 x 128 MACs per array), 1-bit
# input pulses per slice, a per-column integrate-and-count neuron as the ADC. Energy efficiency
# (TOPS/W, 2 ops per MAC) versus input/output bits, two-phase mode: the paper's Fig. 12(d) in the
# numbering of CiMLoop's replication test, whose digitised values these are (mit-emze/cimloop,
# workspace/models/arch/1_macro/wan_nature_2022/_tests.py, test_tops).
NEURRAM_SOURCE = (
    "Wan et al., Nature 608 (2022), Fig. 12(d), two-phase, 4-bit weights, as digitised in "
    "CiMLoop (mit-emze/cimloop wan_nature_2022/_tests.py)"
)
NEURRAM_SHAPE = {"rows": 256, "cols": 256, "weights": 128, "w_bits": 4, "tech_nm": 130}
# (input bits, output bits) -> TOPS/W
NEURRAM_TOPS_W: dict[tuple[int, int], Entry] = {
    (2, 4): Entry(40.33, "TOPS/W at 2-bit inputs, 4-bit outputs", NEURRAM_SOURCE),
    (4, 6): Entry(15.95, "TOPS/W at 4-bit inputs, 6-bit outputs", NEURRAM_SOURCE),
    (6, 8): Entry(8.257, "TOPS/W at 6-bit inputs, 8-bit outputs", NEURRAM_SOURCE),
    (8, 10): Entry(6.437, "TOPS/W at 8-bit inputs, 10-bit outputs", NEURRAM_SOURCE),
}
