"""SearchSpace: gene domains of NASRec-Small and -Full, validation and size (method.md §2.2, §2.5).

A space is frozen data; the presets come from `get_space`, and any field may be changed with
`dataclasses.replace` (number of blocks, width lists, max inputs, op lists, mergers).
"""

from __future__ import annotations

import math
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import Any

from recnas.errors import ConfigError
from recnas.space.arch import DENSE_OPS
from recnas.space.arch import DENSE_WIDTHS
from recnas.space.arch import MAX_INPUTS
from recnas.space.arch import SPARSE_OPS
from recnas.space.arch import SPARSE_WIDTHS
from recnas.space.arch import Architecture
from recnas.space.arch import Block

# Dense ops that read the connection set `dense_idx`; the others read `dense_left`/`dense_right`.
SET_OPS: frozenset[str] = frozenset({"fc", "dot_product"})
BINARY_OPS: frozenset[str] = frozenset({"gating", "sum"})
# Names accepted by get_space: ours, the paper's and the reference code's.
_ALIASES: dict[str, str] = {
    "small": "small",
    "nasrec-small": "small",
    "autoctr": "small",
    "full": "full",
    "nasrec-full": "full",
    "xlarge": "full",
}


@dataclass(frozen=True)
class SearchSpace:
    """Gene domains of a NASRec search space; block k (1-based) reads sources 0..k-1."""

    name: str
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]
    num_blocks: int = 7
    dense_widths: tuple[int, ...] = DENSE_WIDTHS
    sparse_widths: tuple[int, ...] = SPARSE_WIDTHS
    max_inputs: int = MAX_INPUTS
    allow_d2s: bool = True  # dense->sparse merger (m) may be on
    allow_fm: bool = True  # sparse->dense FM merger (f) may be on

    def __post_init__(self) -> None:
        for f in ("dense_ops", "sparse_ops", "dense_widths", "sparse_widths"):
            object.__setattr__(self, f, tuple(getattr(self, f)))
        where = f"space {self.name!r}"
        for f, ops, valid in (
            ("dense_ops", self.dense_ops, DENSE_OPS),
            ("sparse_ops", self.sparse_ops, SPARSE_OPS),
        ):
            unknown = [o for o in ops if o not in valid]
            if not ops or unknown or len(set(ops)) != len(ops):
                raise ConfigError(
                    f"{where}: {f} {list(ops)} must be distinct names from {list(valid)}"
                )
        for f, ws in (("dense_widths", self.dense_widths), ("sparse_widths", self.sparse_widths)):
            if (
                not ws
                or any(not isinstance(w, int) or w < 1 for w in ws)
                or list(ws) != sorted(set(ws))
            ):
                raise ConfigError(
                    f"{where}: {f} {list(ws)} must be ascending distinct positive integers"
                )
        if self.num_blocks < 1:
            raise ConfigError(f"{where}: num_blocks = {self.num_blocks}; must be >= 1")
        if self.max_inputs < 1:
            raise ConfigError(f"{where}: max_inputs = {self.max_inputs}; must be >= 1")

    def max_sources(self, block: int) -> int:
        """Largest connection-set size of block `block` (1-based): min(max_inputs, block)."""
        return min(self.max_inputs, block)

    def validate_arch(
        self, arch: Architecture, *, single_op: bool = True, max_inputs: int | None = None
    ) -> Architecture:
        """Check `arch` against this space; raise ConfigError naming block and field. Returns arch.

        `single_op=False` accepts training paths with several ops per block; `max_inputs` overrides
        the space's connection limit (the full path reads every source).
        """
        if arch.num_blocks != self.num_blocks:
            raise ConfigError(
                f"architecture has {arch.num_blocks} blocks; space {self.name!r} has "
                f"{self.num_blocks}"
            )
        arch.validate(
            single_op=single_op, max_inputs=self.max_inputs if max_inputs is None else max_inputs
        )
        for k, b in enumerate(arch.blocks, start=1):
            self._validate_block(b, k)
        return arch

    def validate_path(self, arch: Architecture) -> Architecture:
        """Check a training path: several ops per block and any number of sources allowed."""
        return self.validate_arch(arch, single_op=False, max_inputs=self.num_blocks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (saved with a run's config)."""
        d = asdict(self)
        for f in ("dense_ops", "sparse_ops", "dense_widths", "sparse_widths"):
            d[f] = list(d[f])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchSpace:
        """Inverse of `to_dict`; a preset name in 'name' fills the fields not given."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                f"search space: unknown key(s) {unknown}; valid keys: {sorted(known)}"
            )
        if "name" not in d:
            raise ConfigError("search space: missing key 'name'")
        base = get_space(d["name"]) if d["name"] in _ALIASES else None
        if base is None and not {"dense_ops", "sparse_ops"} <= set(d):
            raise ConfigError(
                f"search space {d['name']!r} is not a preset ('small', 'full'): give dense_ops "
                "and sparse_ops"
            )
        if base is None:
            return cls(**d)
        return replace(base, **{k: v for k, v in d.items() if k != "name"})  # keep preset's name

    def _validate_block(self, b: Block, k: int) -> None:
        where = f"block {k}"
        for f, ops, valid in (
            ("dense_ops", b.dense_ops, self.dense_ops),
            ("sparse_ops", b.sparse_ops, self.sparse_ops),
        ):
            bad = [o for o in ops if o not in valid]
            if bad:
                raise ConfigError(
                    f"{where}: {f} has {bad}, not in space {self.name!r}; valid: {list(valid)}"
                )
            if len(set(ops)) != len(ops):
                raise ConfigError(f"{where}: {f} {list(ops)} repeats an op")
        for f, w, valid_w in (
            ("dense_width", b.dense_width, self.dense_widths),
            ("sparse_width", b.sparse_width, self.sparse_widths),
        ):
            if w not in valid_w:
                raise ConfigError(
                    f"{where}: {f} = {w} is not in space {self.name!r}'s list {list(valid_w)}"
                )
        if b.d2s and not self.allow_d2s:
            raise ConfigError(
                f"{where}: d2s is on but space {self.name!r} does not allow the merger"
            )
        if b.fm and not self.allow_fm:
            raise ConfigError(
                f"{where}: fm is on but space {self.name!r} does not allow the merger"
            )

    def num_subsets(self, block: int) -> int:
        """Number of connection sets of block `block`: subsets of {0..block-1} of 1..max_sources."""
        return sum(math.comb(block, n) for n in range(1, self.max_sources(block) + 1))

    def size(self, *, dead_genes: bool = True) -> int:
        """Number of architectures (exact integer), method.md §2.5.

        `dead_genes=True` counts every gene combination. `False` drops left/right under FC and
        Dot-Product, `dense_idx` under Sum and Gating, and Sum's operand order; dead blocks and
        widths are still counted.
        """
        total = 1
        mergers = (2 if self.allow_d2s else 1) * (2 if self.allow_fm else 1)
        widths = len(self.dense_widths) * len(self.sparse_widths)
        for i in range(1, self.num_blocks + 1):
            sets = self.num_subsets(i)
            if dead_genes:
                dense = len(self.dense_ops) * sets * i * i
            else:
                dense = sum(_live_dense_choices(op, sets, i) for op in self.dense_ops)
            total *= dense * sets * len(self.sparse_ops) * widths * mergers
        return total


def _live_dense_choices(op: str, sets: int, i: int) -> int:
    """Distinct live input choices of dense op `op` in block i (`sets` connection sets)."""
    if op in SET_OPS:
        return sets
    if op == "sum":  # symmetric: unordered pairs with repetition
        return i * (i + 1) // 2
    return i * i  # gating: ordered pairs


def get_space(name: str) -> SearchSpace:
    """The preset space 'small' (NASRec-Small, `autoctr`) or 'full' (NASRec-Full, `xlarge`)."""
    key = _ALIASES.get(name.lower())
    if key == "small":
        return SearchSpace("small", dense_ops=("fc", "dot_product"), sparse_ops=("efc",))
    if key == "full":
        return SearchSpace(
            "full",
            dense_ops=("fc", "dot_product", "gating", "sum"),
            sparse_ops=("efc", "attention"),
        )
    raise ConfigError(f"unknown search space {name!r}; choose from 'small', 'full'")


def list_spaces() -> tuple[str, ...]:
    """Names of the preset spaces."""
    return ("small", "full")
