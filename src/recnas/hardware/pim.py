"""ReRAM-crossbar PIM cost of a NASRec architecture (pim.md 3): operator mapping, per-layer and
total cost.

`cost(arch, schema, cfg, genes)` maps every live block (pim.md 3.2, identity rule as the model) onto
crossbar layers and digital work, and sums energy (with breakdown), sequential and critical-path
latency, pipelined throughput, area, crossbar count and utilisation. Pure Python (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
import math
from dataclasses import field
from dataclasses import replace
from typing import Any
from typing import Union

from recnas.errors import ConfigError
from recnas.hardware import components as comp
from recnas.hardware.config import PRESETS
from recnas.hardware.config import BlockGenes
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import preset
from recnas.hardware.flops import block_needs
from recnas.hardware.flops import block_shapes
from recnas.hardware.flops import count as flop_count
from recnas.hardware.flops import dp_items
from recnas.hardware.layers import ENERGY_KEYS
from recnas.hardware.layers import DigitalWork
from recnas.hardware.layers import LayerCost
from recnas.hardware.layers import XbarLayer
from recnas.hardware.layers import buffer_unit
from recnas.hardware.layers import digital_cost
from recnas.hardware.layers import digital_unit
from recnas.hardware.layers import layer_latency_ns
from recnas.hardware.layers import xbar_cost
from recnas.space import liveness
from recnas.space.arch import D2S_ITEMS
from recnas.space.arch import Architecture
from recnas.space.arch import Block

if TYPE_CHECKING:  # recnas.data's package imports torch; hardware must not
    from recnas.data.schema import FeatureSchema
    from recnas.hardware.flops import BlockShape

Work = Union[XbarLayer, DigitalWork]
__all__ = [
    "PIMConfig",
    "HardwareGenes",
    "BlockGenes",
    "PRESETS",
    "preset",
    "PIMCost",
    "cost",
    "map_block",
    "fill_area",
]


class _Chain:
    """Builds one block part's work list (dense, sparse or merger) at given bits and mapping."""

    def __init__(self, prefix: str, bits: tuple[int, int], mapping: str, ln: bool) -> None:
        self.prefix, (self.w, self.a), self.mapping, self.ln = prefix, bits, mapping, ln
        self.items: list[Work] = []

    def linear(
        self, name: str, k: int, n: int, *, v: int = 1, ln_elems: int | None = None, relu: int = 0
    ) -> None:
        """A crossbar linear K->N on V vectors, then LN (if on) and ReLU on the digital unit."""
        self.items.append(XbarLayer(f"{self.prefix}.{name}", k, n, v, self.w, self.a))
        ln_n = (n * v if ln_elems is None else ln_elems) if self.ln else 0
        self.elementwise(f"{name}.post", simple=relu, complex=ln_n)

    def elementwise(self, name: str, *, simple: int = 0, complex: int = 0) -> None:
        """ReLU/add (simple) and sigmoid/exp/LN (complex) elements on the digital unit."""
        if simple or complex:
            self.items.append(
                DigitalWork(f"{self.prefix}.{name}", simple=simple, complex=complex, bits=self.a)
            )

    def interaction(
        self,
        name: str,
        *,
        macs: int,
        operands: int,
        xbar: tuple[int, int, int] | None = None,
        reps: int = 1,
    ) -> None:
        """Activation x activation products: digital MACs, or (xbar) a rewritten operand matrix.

        Element-wise products (`xbar` None: gating, FM squares) are always digital: a diagonal
        operand matrix would waste the array and wear it out."""
        if self.mapping == "xbar" and xbar is not None:
            k, n, v = xbar
            self.items.append(
                XbarLayer(f"{self.prefix}.{name}", k, n, v, self.a, self.a, True, reps)
            )
        else:
            self.items.append(
                DigitalWork(f"{self.prefix}.{name}", macs=macs, operands=operands, bits=self.a)
            )


def _dense(ch: _Chain, g: Block, sh: BlockShape, e: int) -> None:
    d, din, op = sh.dense_width, sh.dense_in, g.dense_op
    if op == "fc":
        ch.linear("fc", din, d, relu=d)
    elif op == "dot_product":
        k = dp_items(d)
        pairs = (k + 1) * k // 2
        if din != e:
            ch.linear("dp.dense_proj", din, e)
        if sh.items_in != k:
            ch.linear("dp.item_proj", sh.items_in, k, v=e)
        ch.interaction("dp.gram", macs=pairs * e, operands=(k + 1) * e, xbar=(e, k + 1, k + 1))
        if pairs != d:
            ch.linear("dp.out", pairs, d)
    elif op == "gating":
        w = sh.pair_width
        ch.linear("gating.gate", sh.d_left, sh.d_right, ln_elems=0)  # bias, no LN (method.md 2.3)
        ch.elementwise("gating.sigmoid", complex=w)
        ch.interaction("gating.product", macs=w, operands=2 * w)
        if w != d:
            ch.linear("gating.proj", sh.d_right, d)
    elif op == "sum":
        w = sh.pair_width
        ch.elementwise("sum.add", simple=w)
        if w != d:
            ch.linear("sum.proj", w, d)
    else:
        raise ConfigError(f"unknown dense op {op!r}")


def _sparse(ch: _Chain, g: Block, sh: BlockShape, e: int) -> None:
    s, op = sh.sparse_width, g.sparse_op
    ch.linear("proj", sh.items_in, s, v=e, relu=s * e if op == "efc" else 0)
    if op == "attention":
        ch.linear("attn.qkv", e, 3 * e, v=s, ln_elems=0)
        ch.interaction("attn.scores", macs=s * s * e, operands=2 * s * e, xbar=(e, s, s))
        ch.elementwise("attn.softmax", complex=8 * s * s)
        ch.interaction("attn.values", macs=s * s * e, operands=s * e + 8 * s * s, xbar=(s, e, s))
        ch.items.append(XbarLayer(f"{ch.prefix}.attn.out", e, e, s, ch.w, ch.a))
        ch.elementwise("attn.ln_a", simple=s * e, complex=s * e)  # residual add + LN_a (always on)
        ch.items.append(XbarLayer(f"{ch.prefix}.attn.ffn1", e, e, s, ch.w, ch.a))
        ch.elementwise("attn.relu", simple=s * e)
        ch.items.append(XbarLayer(f"{ch.prefix}.attn.ffn2", e, e, s, ch.w, ch.a))
        ch.elementwise("attn.ln_f", simple=s * e, complex=s * e)
    elif op != "efc":
        raise ConfigError(f"unknown sparse op {op!r}")


def map_block(
    g: Block, sh: BlockShape, live: tuple[bool, bool], genes: BlockGenes, *, e: int, ln: bool
) -> dict[str, list[Work]]:
    """Work of one block by part: dense op, sparse op, mergers (FM, d2s); dead parts get none."""
    ny, nys = live
    need_d, need_s = block_needs(g, ny, nys)
    dense = _Chain("dense", genes.dense, genes.mapping, ln)
    sparse = _Chain("sparse", genes.sparse, genes.mapping, ln)
    merge = _Chain("merge", genes.dense, genes.mapping, ln)
    if need_d:
        _dense(dense, g, sh, e)
    if need_s:
        _sparse(sparse, g, sh, e)
    s = sh.sparse_width
    if ny and g.fm:  # (sum S)^2 - sum S^2: element-wise squares, always digital
        merge.interaction("fm", macs=(s + 1) * e, operands=s * e)
        merge.elementwise("fm.adds", simple=2 * s * e + sh.dense_width)
        merge.linear("fm.proj", e, sh.dense_width)  # W_f exists at every width (nn/ops/fm.py)
    if nys and g.d2s and sh.dense_width != D2S_ITEMS * e:
        d2s = _Chain("merge", genes.sparse, genes.mapping, ln)
        d2s.linear("d2s", sh.dense_width, D2S_ITEMS * e)
        merge.items.extend(d2s.items)
    return {"dense": dense.items, "sparse": sparse.items, "merge": merge.items}


@dataclass
class PIMCost:
    """Per-sample cost of one architecture on one PIM configuration (embeddings and leakage in)."""

    layers: list[LayerCost]
    energy: dict[str, float]
    latency_seq_ns: float
    latency_crit_ns: float
    area_mm2: float
    embedding_pj: float
    macs: int
    flops: int
    config: PIMConfig
    genes: HardwareGenes
    static_mw: float = 0.0
    area: dict[str, float] = field(default_factory=dict)
    embedding_placement: str = "none"
    embedding_mb: float = 0.0

    @property
    def energy_pj(self) -> float:
        """Energy per sample: dynamic + leakage x latency + embedding lookups."""
        return sum(self.energy.values())

    @property
    def n_xbar(self) -> int:
        """Crossbar arrays allocated (weight copies included)."""
        return sum(lc.n_xbar for lc in self.layers)

    @property
    def util(self) -> float:
        """Mean crossbar utilisation: weight cells over allocated cells."""
        alloc = sum(lc.cells_alloc for lc in self.layers)
        return sum(lc.cells_used for lc in self.layers) / alloc if alloc else 0.0

    @property
    def stage_ns(self) -> float:
        """The slowest pipeline stage: one crossbar layer, or the shared digital unit's work."""
        xbar = max((lc.latency_ns for lc in self.layers if lc.kind == "xbar"), default=0.0)
        digital = sum(lc.latency_ns for lc in self.layers if lc.kind == "digital")
        return max(xbar, digital)

    @property
    def throughput(self) -> float:
        """Pipelined samples per second, ISAAC style: 1 / the slowest stage."""
        return 1e9 / self.stage_ns if self.stage_ns > 0 else float("inf")

    @property
    def lifetime_years(self) -> float:
        """Years until a crossbar written every sample wears out at the pipelined throughput."""
        writes = max((lc.writes_per_cell for lc in self.layers), default=0)
        if writes == 0:
            return float("inf")
        seconds = comp.value("endurance") / (writes * self.throughput)
        return seconds / (365.25 * 24 * 3600)

    @property
    def endurance_ok(self) -> bool:
        """Whether runtime-written crossbars (if any) last the minimum lifetime."""
        return self.lifetime_years >= comp.value("min_lifetime_years")

    def summary(self) -> dict[str, Any]:
        """Headline figures (JSON-ready)."""
        return {
            "energy_pj": self.energy_pj,
            "energy": dict(self.energy),
            "embedding_pj": self.embedding_pj,
            "embedding_placement": self.embedding_placement,
            "embedding_mb": self.embedding_mb,
            "latency_ns": self.latency_crit_ns,
            "latency_seq_ns": self.latency_seq_ns,
            "latency_crit_ns": self.latency_crit_ns,
            "throughput": self.throughput,
            "static_mw": self.static_mw,
            "area_mm2": self.area_mm2,
            "area": dict(self.area),
            "n_xbar": self.n_xbar,
            "util": self.util,
            "macs": self.macs,
            "flops": self.flops,
            "lifetime_years": self.lifetime_years,
            "endurance_ok": self.endurance_ok,
        }

    def to_dict(self) -> dict[str, Any]:
        """Summary, config, genes and per-layer figures."""
        return {
            **self.summary(),
            "config": self.config.to_dict(),
            "genes": self.genes.to_dict(),
            "layers": [lc.to_dict() for lc in self.layers],
        }


def _cost_items(items: list[Work], cfg: PIMConfig, block: int) -> list[LayerCost]:
    return [
        xbar_cost(w, cfg, block=block)
        if isinstance(w, XbarLayer)
        else digital_cost(w, cfg, block=block)
        for w in items
    ]


def _deps(g: Block, need_d: bool, need_s: bool) -> set[int]:
    deps: set[int] = set()
    if need_d:
        deps |= (
            {g.dense_left, g.dense_right} if g.dense_op in ("gating", "sum") else set(g.dense_idx)
        )
        deps |= set(g.sparse_idx) if g.dense_op == "dot_product" else set()
    if need_s:
        deps |= set(g.sparse_idx)
    return deps


def layer_key(block: int, name: str) -> str:
    """Key of one crossbar layer in a duplication map: 'block:name' (block 0 = head)."""
    return f"{block}:{name}"


def _with_dups(items: list[Work], block: int, dups: dict[str, int]) -> list[Work]:
    return [
        replace(w, dup=dups.get(layer_key(block, w.name), 1)) if isinstance(w, XbarLayer) else w
        for w in items
    ]


def work_items(
    arch: Architecture, schema: FeatureSchema, genes: HardwareGenes, ln: bool
) -> list[tuple[int, dict[str, list[Work]]]]:
    """(block, {part: work}) for every block (dead parts empty), then the head as block 0."""
    e = schema.embed_dim
    out = []
    for k, (g, sh, lv, bg) in enumerate(
        zip(arch.blocks, block_shapes(arch, schema), liveness(arch), genes.blocks), 1
    ):
        out.append((k, map_block(g, sh, (lv.dense_out, lv.sparse_out), bg, e=e, ln=ln)))
    last = arch.blocks[-1]
    head = _Chain("head", genes.head, "digital", False)
    head.linear("linear", last.dense_width + e * last.sparse_items, 1)
    head.elementwise("sigmoid", complex=1)
    out.append((0, {"dense": [], "sparse": [], "merge": head.items}))
    return out


def cost(
    arch: Architecture,
    schema: FeatureSchema,
    cfg: PIMConfig | None = None,
    genes: HardwareGenes | None = None,
    *,
    dups: dict[str, int] | None = None,
) -> PIMCost:
    """Per-sample PIM cost of `arch` on `cfg` with `genes` (default: the config's own).

    `dups` gives per-layer weight copies ('block:name' -> copies; see `fill_area`). Energy holds
    the dynamic terms, leakage x critical-path latency ('static') and the embedding lookups.
    """
    cfg = cfg or PRESETS["fair"]
    if genes is None:
        genes = HardwareGenes.from_config(cfg, arch.num_blocks)
    elif len(genes.blocks) != arch.num_blocks:
        raise ConfigError(
            f"hardware genes have {len(genes.blocks)} blocks; architecture has {arch.num_blocks}"
        )
    cfg = genes.apply(cfg)
    dups = dups or {}
    layers: list[LayerCost] = []
    finish = [0.0] * (arch.num_blocks + 1)
    lives = liveness(arch)
    head_ns = 0.0
    for k, work in work_items(arch, schema, genes, arch.layernorm):
        parts = {n: _cost_items(_with_dups(w, k, dups), cfg, k) for n, w in work.items()}
        t = {name: sum(lc.latency_ns for lc in part) for name, part in parts.items()}
        if k == 0:
            head_ns = t["merge"]
        else:
            g, lv = arch.blocks[k - 1], lives[k - 1]
            start = max((finish[j] for j in _deps(g, lv.dense, lv.sparse)), default=0.0)
            finish[k] = start + max(t["dense"], t["sparse"]) + t["merge"] if lv.live else 0.0
        layers += parts["dense"] + parts["sparse"] + parts["merge"]
    energy = {key: sum(lc.energy.get(key, 0.0) for lc in layers) for key in ENERGY_KEYS}
    crit = finish[-1] + head_ns
    dig_bits = max([8] + [lc.counts.get("bits", 0) for lc in layers if lc.kind == "digital"])
    dig_area, dig_leak = digital_unit(cfg, dig_bits)
    buf_area, buf_leak = buffer_unit(cfg)
    static_mw = sum(lc.static_mw for lc in layers) + dig_leak + buf_leak
    stage = max(
        max((lc.latency_ns for lc in layers if lc.kind == "xbar"), default=0.0),
        sum(lc.latency_ns for lc in layers if lc.kind == "digital"),
    )
    t_on = crit if cfg.static_time == "latency" else stage
    energy["static"] = static_mw * t_on if cfg.static else 0.0  # mW x ns = pJ
    emb, place, mb = embedding_cost(schema, cfg)
    energy["embedding"] = emb
    area = {
        "crossbars": sum(lc.area_mm2 for lc in layers),
        "digital": dig_area,
        "buffer": buf_area,
    }
    return PIMCost(
        layers=layers,
        energy=energy,
        latency_seq_ns=sum(lc.latency_ns for lc in layers),
        latency_crit_ns=crit,
        area_mm2=sum(area.values()),
        embedding_pj=emb,
        macs=sum(lc.macs for lc in layers),
        flops=flop_count(arch, schema).flops,
        config=cfg,
        genes=genes,
        static_mw=static_mw,
        area=area,
        embedding_placement=place,
        embedding_mb=mb,
    )


def fixed_area_mm2(cfg: PIMConfig) -> float:
    """Area every design carries besides its crossbars: the eDRAM buffer and the digital unit."""
    return buffer_unit(cfg)[0] + digital_unit(cfg, 8)[0]


def embedding_cost(schema: FeatureSchema, cfg: PIMConfig) -> tuple[float, str, float]:
    """(pJ per sample, placement, table MB): F lookups of dim x bits; eDRAM if the tables fit on
    chip (`auto`), else DRAM (pim.md 3.5)."""
    mb = sum(schema.table_sizes) * schema.embed_dim * cfg.embedding_bits / 8 / 2**20
    place = cfg.embedding
    if place == "auto":
        place = "edram" if mb <= comp.value("onchip_edram_mb") else "dram"
    if place == "none":
        return 0.0, place, mb
    per_bit = comp.value("E_dram_bit") if place == "dram" else comp.value("E_edram_bit")
    bits = schema.num_sparse * schema.embed_dim * cfg.embedding_bits
    return bits * per_bit * comp.tech_energy_factor(cfg.tech_nm), place, mb


def embedding_pj(schema: FeatureSchema, cfg: PIMConfig) -> float:
    """Embedding lookups per sample, F x dim x bits x E_read_bit (pim.md 3.5)."""
    return embedding_cost(schema, cfg)[0]


def fill_area(
    arch: Architecture,
    schema: FeatureSchema,
    cfg: PIMConfig,
    genes: HardwareGenes,
    budget_mm2: float,
) -> tuple[PIMCost, dict[str, int]]:
    """Weight duplication filling `budget_mm2` where it helps (iso-area): repeatedly give the
    slowest multi-vector crossbar layer the next copy count that shortens it, while the chip has
    room. Returns the cost with those copies and the map."""
    base = cost(arch, schema, cfg, genes)
    hw = genes.apply(cfg)
    room = budget_mm2 - base.area_mm2
    layers = {
        layer_key(k, w.name): w
        for k, work in work_items(arch, schema, genes, arch.layernorm)
        for part in work.values()
        for w in part
        if isinstance(w, XbarLayer) and w.v * hw.batch > 1 and not w.write
    }
    live = {layer_key(lc.block, lc.name) for lc in base.layers}
    dups = {key: 1 for key in layers if key in live}
    per_copy = {key: xbar_cost(layers[key], hw).area_mm2 for key in dups}  # one weight copy
    active = set(dups)
    while active:
        lat = {q: layer_latency_ns(replace(layers[q], dup=dups[q]), hw) for q in active}
        key = max(lat, key=lambda q: (lat[q], q))
        w, d = layers[key], dups[key]
        vectors = math.ceil(w.v * hw.batch / d)
        nxt = math.ceil(w.v * hw.batch / (vectors - 1)) if vectors > 1 else d
        extra = (nxt - d) * per_copy[key]
        if vectors <= 1 or extra > room:
            active.discard(key)  # cannot shorten this layer further: the next slowest decides
            continue
        room -= extra
        dups[key] = nxt
    dups = {k: d for k, d in dups.items() if d > 1}
    return cost(arch, schema, cfg, genes, dups=dups), dups
