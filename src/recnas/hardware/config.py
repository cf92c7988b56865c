"""PIM configuration knobs and presets (pim.md 3.1) and the per-operator hardware genes of the co-
search.

`PIMConfig` holds the hardware; `HardwareGenes` holds what the co-search draws: per block the dense
and sparse (w_bits, a_bits) and the interaction mapping (xbar | digital), plus the global crossbar
size, ADC bits and ADC sharing. Pure Python (no torch).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from recnas.errors import ConfigError
from recnas.hardware.components import TECH_ENERGY

BITS: tuple[int, ...] = (4, 8, 16)
XBAR_SIZES: tuple[int, ...] = (64, 128, 256)
CELL_BITS: tuple[int, ...] = (1, 2, 4)
COLS_PER_ADC: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 128)
MAPPINGS: tuple[str, ...] = ("digital", "xbar")
EMBEDDING_PLACEMENTS: tuple[str, ...] = ("auto", "edram", "dram", "none")
ADC_CURVES: tuple[str, ...] = ("isaac", "murmann", "murmann_100ms")


@dataclass(frozen=True)
class PIMConfig:
    """ReRAM crossbar accelerator knobs (pim.md 3.1); defaults are the ISAAC calibration point."""

    xbar_rows: int = 128
    xbar_cols: int = 128
    cell_bits: int = 2
    dac_bits: int = 1
    adc_bits: int | None = None  # None: lossless resolution (pim.md section 2 formula)
    cols_per_adc: int = 128
    f_adc_ghz: float = 1.28
    t_read_min_ns: float = 10.0
    tech_nm: int = 32
    polarity: str = "offset"  # offset (p = 1) or differential (p = 2)
    digital_freq_ghz: float = 1.0
    digital_macs: int = 128
    weight_dup: int = 1
    w_bits: int = 8  # default precision of every operator (genes override per block)
    a_bits: int = 8
    # auto: interactions on the digital unit; naive: Gram/attention operands written into crossbars
    # every sample (element-wise products stay digital in both)
    mapping: str = "auto"
    noc_hops: int = 1
    batch: int = 1  # samples per MVM burst (latency counts ceil(V * batch / weight_dup) slices)
    # embedding lookups, in every total (pim.md 3.5): auto = eDRAM if the tables fit on chip, else
    # DRAM; none leaves them out (diagnostics only)
    embedding: str = "auto"
    embedding_bits: int = 32
    adc_curve: str = "isaac"  # ADC energy curve (components.adc_energy_pj); murmann for sensitivity
    static: bool = True  # charge leakage (ADC, DAC, buffer, digital unit) x time
    # the time leakage is charged for: `latency` (one sample at a time, latency-bound serving) or
    # `interval` (a full pipeline, 1 / throughput per sample)
    static_time: str = "latency"

    def __post_init__(self) -> None:
        checks = [
            (self.xbar_rows >= 2 and self.xbar_cols >= 2, "xbar_rows/xbar_cols must be >= 2"),
            (self.cell_bits in CELL_BITS, f"cell_bits must be one of {list(CELL_BITS)}"),
            (self.dac_bits in (1, 2), "dac_bits must be 1 or 2"),
            (
                self.adc_bits is None or self.adc_bits >= 4,
                "adc_bits must be >= 4 or null (lossless)",
            ),
            (1 <= self.cols_per_adc <= self.xbar_cols, "cols_per_adc must be in 1..xbar_cols"),
            (
                self.polarity in ("offset", "differential"),
                "polarity must be offset or differential",
            ),
            (self.mapping in ("auto", "naive"), "mapping must be auto or naive"),
            (
                self.weight_dup >= 1 and self.digital_macs >= 1 and self.batch >= 1,
                "weight_dup, digital_macs and batch must be >= 1",
            ),
            (
                self.embedding in EMBEDDING_PLACEMENTS,
                f"embedding must be one of {list(EMBEDDING_PLACEMENTS)}",
            ),
            (self.w_bits >= 1 and self.a_bits >= 1, "w_bits and a_bits must be >= 1"),
            (self.adc_curve in ADC_CURVES, f"adc_curve must be one of {list(ADC_CURVES)}"),
            (self.static_time in ("latency", "interval"), "static_time must be latency or interval"),
            (
                self.tech_nm in TECH_ENERGY,
                f"tech_nm = {self.tech_nm}; supported nodes {sorted(TECH_ENERGY)}",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"PIMConfig: {msg}")

    @property
    def p(self) -> int:
        """Arrays per weight sign: 2 for differential, 1 for offset encoding."""
        return 2 if self.polarity == "differential" else 1

    @property
    def adc_resolution(self) -> int:
        """ADC bits in use: the knob, or the lossless resolution of pim.md section 2."""
        return self.adc_bits if self.adc_bits is not None else lossless_adc_bits(self)

    @property
    def t_slice_ns(self) -> float:
        """One input slice: the array read, or the columns sharing an ADC read one after another."""
        return max(self.t_read_min_ns, self.cols_per_adc / self.f_adc_ghz)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PIMConfig:
        """Inverse of `to_dict`; names unknown fields."""
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"PIMConfig: unknown field(s) {unknown}")
        return cls(**d)


def lossless_adc_bits(cfg: PIMConfig) -> int:
    """log2(R) + b_d + b_c, -1 if b_d or b_c is 1, -1 for ISAAC's weight flipping (pim.md 2)."""
    bits = math.ceil(math.log2(cfg.xbar_rows)) + cfg.dac_bits + cfg.cell_bits
    bits -= 1 if (cfg.dac_bits == 1 or cfg.cell_bits == 1) else 0
    return bits - 1


PRESETS: dict[str, PIMConfig] = {
    # ISAAC (ISCA 2016): validation point; 16-bit weights and activations, 8-bit ADC per crossbar
    "isaac": PIMConfig(adc_bits=8, w_bits=16, a_bits=16),
    # the headline reference (pim.md 3.1): ISAAC's chip organisation at uniform 8 bits, linears on
    # crossbars, interactions on a charged digital unit, embeddings and leakage in every total
    "fair": PIMConfig(adc_bits=None, w_bits=8, a_bits=8),
    # the second reference row: the same at ISAAC's 16 bits
    "fair16": PIMConfig(adc_bits=None, w_bits=16, a_bits=16),
    # appendix only (AutoRAC's "naively mapped"): Gram/attention operands written into crossbars
    "naive": PIMConfig(adc_bits=None, w_bits=16, a_bits=16, mapping="naive"),
}


def preset(name: str, **overrides: Any) -> PIMConfig:
    """A named preset (isaac, fair, fair16, naive) with optional field overrides."""
    if name not in PRESETS:
        raise ConfigError(f"unknown PIM preset {name!r}; choose from {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides) if overrides else PRESETS[name]


Pair = tuple[int, int]


@dataclass(frozen=True)
class BlockGenes:
    """One block's genes: dense and sparse (w_bits, a_bits) and the interaction mapping."""

    dense: Pair = (8, 8)
    sparse: Pair = (8, 8)
    mapping: str = "digital"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dense", (int(self.dense[0]), int(self.dense[1])))
        object.__setattr__(self, "sparse", (int(self.sparse[0]), int(self.sparse[1])))
        if self.mapping not in MAPPINGS:
            raise ConfigError(
                f"block genes: mapping {self.mapping!r}; choose from {list(MAPPINGS)}"
            )
        if any(b < 1 for b in (*self.dense, *self.sparse)):
            raise ConfigError(f"block genes: bits must be >= 1, got {self.dense} / {self.sparse}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"dense": list(self.dense), "sparse": list(self.sparse), "mapping": self.mapping}


# One precision for the shared head of every co-search candidate (not searched); the model
# quantises the head at the same bits (recnas.nn.quant.HEAD_BITS; a test checks they are equal).
HEAD_BITS: tuple[int, int] = (16, 16)


@dataclass(frozen=True)
class HardwareGenes:
    """Per-block precision/mapping genes and the global crossbar knobs the co-search draws."""

    blocks: tuple[BlockGenes, ...]
    xbar_size: int = 128
    adc_bits: int | None = 8
    cols_per_adc: int = 128
    head: Pair = HEAD_BITS
    cell_bits: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "head", (int(self.head[0]), int(self.head[1])))
        if self.cell_bits not in CELL_BITS:
            raise ConfigError(f"hardware genes: cell_bits must be one of {list(CELL_BITS)}")

    @classmethod
    def uniform(
        cls,
        num_blocks: int,
        *,
        w_bits: int = 8,
        a_bits: int = 8,
        mapping: str = "digital",
        xbar_size: int = 128,
        adc_bits: int | None = 8,
        cols_per_adc: int = 128,
        cell_bits: int = 2,
    ) -> HardwareGenes:
        """The same bits and mapping for every block (and the head)."""
        b = BlockGenes((w_bits, a_bits), (w_bits, a_bits), mapping)
        return cls(
            (b,) * num_blocks, xbar_size, adc_bits, cols_per_adc, (w_bits, a_bits), cell_bits
        )

    @classmethod
    def from_config(cls, cfg: PIMConfig, num_blocks: int) -> HardwareGenes:
        """The genes a config implies: its bits everywhere; naive puts interactions on crossbars."""
        g = cls.uniform(
            num_blocks,
            w_bits=cfg.w_bits,
            a_bits=cfg.a_bits,
            mapping="xbar" if cfg.mapping == "naive" else "digital",
            xbar_size=cfg.xbar_rows,
            adc_bits=cfg.adc_bits,
            cols_per_adc=cfg.cols_per_adc,
            cell_bits=cfg.cell_bits,
        )
        return g

    def apply(self, cfg: PIMConfig) -> PIMConfig:
        """`cfg` with the global knobs of these genes (square crossbars of `xbar_size`)."""
        return replace(
            cfg,
            xbar_rows=self.xbar_size,
            xbar_cols=self.xbar_size,
            adc_bits=self.adc_bits,
            cols_per_adc=min(self.cols_per_adc, self.xbar_size),
            cell_bits=self.cell_bits,
        )

    def supernet_bits(self) -> dict[int, Pair]:
        """{block (1-based): (w_bits, a_bits)} for `Supernet.forward(bits=...)`."""
        out = {}
        for k, b in enumerate(self.blocks, 1):
            if b.dense != b.sparse:
                raise ConfigError(
                    f"block {k}: the supernet quantises per block; dense bits {b.dense} "
                    f"!= sparse bits {b.sparse}"
                )
            out[k] = b.dense
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": "recnas-hw-v1",
            "xbar_size": self.xbar_size,
            "adc_bits": self.adc_bits,
            "cols_per_adc": self.cols_per_adc,
            "head": list(self.head),
            "cell_bits": self.cell_bits,
            "blocks": [b.to_dict() for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HardwareGenes:
        """Inverse of `to_dict`; names the bad field."""
        if not isinstance(d, dict) or d.get("format", "recnas-hw-v1") != "recnas-hw-v1":
            raise ConfigError("hardware genes JSON must be an object with format 'recnas-hw-v1'")
        try:
            blocks = tuple(
                BlockGenes(tuple(b["dense"]), tuple(b["sparse"]), b.get("mapping", "digital"))
                for b in d["blocks"]
            )
            return cls(
                blocks,
                int(d.get("xbar_size", 128)),
                d.get("adc_bits", 8),
                int(d.get("cols_per_adc", 128)),
                tuple(d.get("head", HEAD_BITS)),
                int(d.get("cell_bits", 2)),
            )
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ConfigError(f"hardware genes JSON: bad or missing field ({e})") from None
