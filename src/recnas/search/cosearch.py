"""PIM co-search (pim.md 1.4, 3.6; issue 6.3-6.4): architecture + hardware genes, scored through the
supernet.

A candidate is (Architecture, HardwareGenes). Per block, one (w_bits, a_bits) drawn from {4, 8, 16}
is used for both the dense and the sparse part, because the supernet fake-quantises per block; the
interaction mapping (digital | xbar) and the global crossbar size / ADC bits / ADC sharing are drawn
too. Candidates are scored through the supernet *at their bits* (so low precision costs accuracy
where it does) and costed by `recnas.hardware.pim`. Modes: `pareto` (non-dominated rank + crowding
parent selection) and `budget` (cost limits; infeasible candidates are penalised, or rejected with
beta=inf). Torch is imported lazily (only the scorer and the mixed-precision training hook need it).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from recnas.errors import ConfigError
from recnas.hardware.config import BITS
from recnas.hardware.config import CELL_BITS
from recnas.hardware.config import COLS_PER_ADC
from recnas.hardware.config import HEAD_BITS
from recnas.hardware.config import XBAR_SIZES
from recnas.hardware.config import BlockGenes
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import preset
from recnas.hardware.pim import cost
from recnas.hardware.pim import fill_area
from recnas.search._genome import Genome
from recnas.space import Architecture
from recnas.space import arch_hash
from recnas.space import liveness
from recnas.space import mutate
from recnas.space import num_mutations
from recnas.space import sample_arch

# objective name -> (value key in the journal, unit); budgets use these units
OBJECTIVES: dict[str, str] = {
    "logloss": "",
    "flops": "FLOPs/sample",
    "energy": "J/sample",
    "latency": "s/sample",
    "area": "mm2",
}
REJECT_PENALTY = 1e3  # added to the log loss of an infeasible candidate when beta = inf (rejection)


@dataclass(frozen=True)
class HwSpace:
    """The hardware genes the co-search draws from (adc_bits None = lossless)."""

    bits: tuple[int, ...] = BITS
    mappings: tuple[str, ...] = ("digital", "xbar")
    xbar_sizes: tuple[int, ...] = XBAR_SIZES
    adc_bits: tuple[int | None, ...] = (None,)  # lossy bits are a QAT question, not a free cost cut
    cols_per_adc: tuple[int, ...] = COLS_PER_ADC
    cell_bits: tuple[int, ...] = CELL_BITS

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: list(v) for k, v in vars(self).items()}


@dataclass(frozen=True)
class CoCandidate:
    """One co-search candidate: the network and its hardware genes."""

    arch: Architecture
    genes: HardwareGenes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored in the journal)."""
        return {
            "format": "recnas-cosearch-v1",
            "arch": self.arch.to_dict(),
            "hw": self.genes.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CoCandidate:
        """Inverse of `to_dict`."""
        if not isinstance(d, dict) or d.get("format") != "recnas-cosearch-v1":
            raise ConfigError("co-search candidate JSON must have format 'recnas-cosearch-v1'")
        return cls(Architecture.from_dict(d["arch"]), HardwareGenes.from_dict(d["hw"]))


def sample_genes(num_blocks: int, hw: HwSpace, rng: random.Random) -> HardwareGenes:
    """Random hardware genes: per block tied (w, a) bits and a mapping; global crossbar knobs."""
    blocks = []
    for _ in range(num_blocks):
        pair = (rng.choice(hw.bits), rng.choice(hw.bits))
        blocks.append(BlockGenes(pair, pair, rng.choice(hw.mappings)))
    size = rng.choice(hw.xbar_sizes)
    return HardwareGenes(
        tuple(blocks),
        size,
        rng.choice(hw.adc_bits),
        min(rng.choice(hw.cols_per_adc), size),
        HEAD_BITS,
        rng.choice(hw.cell_bits),
    )


def _other(options: Sequence[Any], old: Any, rng: random.Random) -> Any:
    rest = [o for o in options if o != old]
    return rng.choice(rest) if rest else old


def mutate_genes(genes: HardwareGenes, hw: HwSpace, rng: random.Random) -> HardwareGenes:
    """Change one hardware gene (a block's w/a bits or mapping, or a global knob) to a new value."""
    moves = ["w", "a", "mapping", "xbar_size", "adc_bits", "cols_per_adc", "cell_bits"]
    move = rng.choice(moves)
    if move in ("w", "a", "mapping"):
        k = rng.randrange(len(genes.blocks))
        b = genes.blocks[k]
        if move == "mapping":
            nb = replace(b, mapping=_other(hw.mappings, b.mapping, rng))
        else:
            i = 0 if move == "w" else 1
            pair = list(b.dense)
            pair[i] = _other(hw.bits, pair[i], rng)
            nb = BlockGenes(tuple(pair), tuple(pair), b.mapping)  # type: ignore[arg-type]
        return replace(genes, blocks=genes.blocks[:k] + (nb,) + genes.blocks[k + 1 :])
    if move == "xbar_size":
        size = _other(hw.xbar_sizes, genes.xbar_size, rng)
        return replace(genes, xbar_size=size, cols_per_adc=min(genes.cols_per_adc, size))
    if move == "adc_bits":
        return replace(genes, adc_bits=_other(hw.adc_bits, genes.adc_bits, rng))
    if move == "cell_bits":
        return replace(genes, cell_bits=_other(hw.cell_bits, genes.cell_bits, rng))
    return replace(
        genes, cols_per_adc=min(_other(hw.cols_per_adc, genes.cols_per_adc, rng), genes.xbar_size)
    )


def cohash(c: CoCandidate) -> str:
    """Canonical hash: the architecture's canonical hash plus the genes of live blocks only."""
    live = [lv.live for lv in liveness(c.arch)]
    hw = c.genes.to_dict()
    hw["blocks"] = [b if on else None for b, on in zip(hw["blocks"], live)]
    text = json.dumps({"arch": arch_hash(c.arch), "hw": hw}, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class _Sample:
    space: Any
    hw: HwSpace
    layernorm: bool

    def __call__(self, rng: random.Random) -> CoCandidate:
        arch = sample_arch(self.space, rng, layernorm=self.layernorm)
        return CoCandidate(arch, sample_genes(arch.num_blocks, self.hw, rng))


@dataclass(frozen=True)
class _Mutate:
    space: Any
    hw: HwSpace
    p_arch: float

    def __call__(self, c: CoCandidate, rng: random.Random) -> CoCandidate:
        if rng.random() < self.p_arch:
            return replace(c, arch=mutate(c.arch, self.space, rng))
        return replace(c, genes=mutate_genes(c.genes, self.hw, rng))


def cosearch_genome(
    space: Any, hw: HwSpace | None = None, *, layernorm: bool = True, p_arch: float = 0.5
) -> Genome:
    """The co-search genome: draw/mutate (architecture, hardware genes); a move changes one."""
    hw = hw or HwSpace()
    return Genome(
        name=f"cosearch:{getattr(space, 'name', space)}",
        sample=_Sample(space, hw, layernorm),
        mutate=_Mutate(space, hw, p_arch),
        hash=cohash,
        to_dict=CoCandidate.to_dict,
        from_dict=CoCandidate.from_dict,
        num_mutations=num_mutations,
    )


def cost_values(
    arch: Architecture,
    genes: HardwareGenes,
    schema: Any,
    cfg: PIMConfig,
    chip_mm2: float | None = None,
) -> dict[str, float]:
    """The hardware objectives of one candidate (SI units: J, s; area mm2) and readable extras.

    With `chip_mm2`, weight copies fill that chip (iso-area, `fill_area`); a candidate that does
    not fit, or whose runtime-written crossbars wear out too soon, gets `fits` 0.
    """
    c = cost(arch, schema, cfg, genes)
    fits = c.endurance_ok and (chip_mm2 is None or c.area_mm2 <= chip_mm2)
    if chip_mm2 is not None and fits:
        c = fill_area(arch, schema, cfg, genes, chip_mm2)[0]
    return {
        "fits": float(fits),
        "flops": float(c.flops),
        "energy": c.energy_pj * 1e-12,
        "latency": c.latency_crit_ns * 1e-9,
        "area": c.area_mm2,
        "energy_pj": c.energy_pj,
        "latency_ns": c.latency_crit_ns,
        "latency_seq_ns": c.latency_seq_ns,
        "latency_crit_ns": c.latency_crit_ns,
        "util": c.util,
        "n_xbar": float(c.n_xbar),
    }


def budget_values(
    values: dict[str, float], budgets: dict[str, float], beta: float
) -> dict[str, float]:
    """`feasible` (1/0); `penalized` = logloss + beta * sum of relative excesses (inf: reject)."""
    excess = 0.0
    for name, limit in budgets.items():
        if name not in OBJECTIVES or name == "logloss":
            raise ConfigError(
                f"budget on {name!r}; budgets apply to {[k for k in OBJECTIVES if k != 'logloss']}"
            )
        excess += max(0.0, values[name] / float(limit) - 1.0)
    feasible = excess == 0.0
    pen = 0.0 if feasible else (REJECT_PENALTY if math.isinf(beta) else beta * excess)
    return {"feasible": float(feasible), "penalized": values["logloss"] + pen}


class CoScorer:
    """Scores a CoCandidate: proxy log loss at the genes' bits + PIM cost (+ budget terms)."""

    def __init__(
        self,
        scorer: Any,
        schema: Any,
        cfg: PIMConfig,
        *,
        budgets: dict[str, float] | None = None,
        beta: float = 1.0,
        chip_mm2: float | None = None,
    ) -> None:
        self.scorer, self.schema, self.cfg, self.chip_mm2 = scorer, schema, cfg, chip_mm2
        self.budgets, self.beta = dict(budgets or {}), beta
        self.net = scorer.supernet

    def __call__(self, c: CoCandidate) -> dict[str, Any]:
        """Proxy metrics with fake-quantised blocks, then the cost objectives."""
        self.scorer.supernet = QuantView(self.net, c.genes.supernet_bits())
        try:
            out: dict[str, Any] = dict(self.scorer.score(c.arch))
        finally:
            self.scorer.supernet = self.net
        out.update(cost_values(c.arch, c.genes, self.schema, self.cfg, self.chip_mm2))
        if self.budgets:
            out.update(budget_values(out, self.budgets, self.beta))
        return out


class QuantView:
    """The supernet seen through fixed per-block bits (what CandidateScorer calls, + `bits`)."""

    # heads fitted on this view run at the head's charged bits (nn.quant.head_logits)
    quant_head = True

    def __init__(self, net: Any, bits: dict[int, tuple[int, int]]) -> None:
        self.net, self.bits, self.schema = net, bits, net.schema

    def features(self, dense: Any, sparse: Any, arch: Architecture) -> Any:
        """Head input of `arch` at this view's bits."""
        return self.net.features(dense, sparse, arch, bits=self.bits)

    def head(self, arch: Architecture) -> Any:
        """The head slice (full-precision parameters; quantised where the logits are computed)."""
        return self.net.head(arch)

    def eval(self) -> QuantView:
        """Eval mode of the wrapped supernet."""
        self.net.eval()
        return self


def sample_bits(
    arch: Architecture, rng: random.Random, choices: Sequence[int] = BITS, *, p_full: float = 0.0
) -> dict[int, tuple[int, int]] | None:
    """Random per-block (w_bits, a_bits) for mixed-precision training (None: full precision)."""
    if p_full > 0 and rng.random() < p_full:
        return None
    return {k: (rng.choice(choices), rng.choice(choices)) for k in range(1, arch.num_blocks + 1)}


def enable_bits_sampling(
    supernet: Any, *, choices: Sequence[int] = BITS, p_full: float = 0.25, seed: int = 0
) -> Any:
    """Make training-mode forwards without `bits` draw random per-block bits; returns the handle.

    Works with `train_supernet` unchanged (the train loop calls model(dense, sparse, path)).
    Bits come from torch's global RNG, which the train loop seeds and checkpoints: resume is exact.
    Call `.remove()` on the handle to stop sampling.
    """
    import torch

    def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not module.training or len(args) >= 4 or kwargs.get("bits") is not None:
            return None
        arch = args[2] if len(args) >= 3 else kwargs["arch"]
        draw = torch.randint(0, 1 << 30, (1,)).item()
        kwargs = {
            **kwargs,
            "bits": sample_bits(arch, random.Random(f"{seed}:{draw}"), choices, p_full=p_full),
        }
        return args, kwargs

    return supernet.register_forward_pre_hook(hook, with_kwargs=True)


def objective_keys(objectives: Sequence[str]) -> tuple[str, ...]:
    """Validate objective names (logloss first)."""
    bad = [o for o in objectives if o not in OBJECTIVES]
    if bad or not objectives or objectives[0] != "logloss":
        raise ConfigError(
            f"objectives must start with 'logloss' and be among {list(OBJECTIVES)}, "
            f"got {list(objectives)}"
        )
    return tuple(objectives)


def make_searcher(
    genome: Genome,
    *,
    mode: str,
    objectives: Sequence[str],
    population: int,
    sample: int,
    generations: int,
    children: int,
) -> Any:
    """Pareto evolution (rank + crowding parents) or budget evolution (lowest penalised loss)."""
    from recnas.search import ParetoEvolution
    from recnas.search import RegularizedEvolution

    if mode == "pareto":
        return ParetoEvolution(
            genome,
            objectives=objective_keys(objectives),
            population=population,
            sample=sample,
            generations=generations,
            children=children,
        )
    if mode == "budget":
        return RegularizedEvolution(
            genome,
            population=population,
            sample=sample,
            generations=generations,
            children=children,
            objective="penalized",
        )
    raise ConfigError(f"co-search mode {mode!r}; choose pareto or budget")


def uniform_candidate(arch: Architecture, bits: int = 8) -> CoCandidate:
    """The accuracy-only network as a candidate: uniform bits, digital mapping, 128x128, 2-bit
    cells, lossless ADC shared by 128 columns (ISAAC's organisation).

    The head stays at its fixed HEAD_BITS (the bits nn.quant quantises it at) as in every
    co-search candidate: the supernet's head is shared, so its precision is not searched.
    """
    genes = HardwareGenes.uniform(arch.num_blocks, w_bits=bits, a_bits=bits, adc_bits=None)
    return CoCandidate(arch, replace(genes, head=HEAD_BITS))


def fair_config() -> PIMConfig:
    """The hardware every candidate and the reference are costed on (`fair` preset, pim.md 3.1)."""
    return preset("fair")


__all__ = [
    "CoCandidate",
    "CoScorer",
    "HwSpace",
    "QuantView",
    "budget_values",
    "cosearch_genome",
    "enable_bits_sampling",
    "make_searcher",
    "mutate_genes",
    "sample_bits",
    "sample_genes",
    "uniform_candidate",
]
