"""Block and Architecture: the frozen description of a NASRec network (method.md §2.2, §8).

Pure Python (no torch): the supernet, the standalone model, FLOPs and the PIM cost model all read it.
Source indices: 0 is the stem (dense features + embeddings); k >= 1 is block k's output.
A sampled *path* may carry several dense or sparse ops per block (any-path / full-path training);
a searched *architecture* carries exactly one of each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from recnas.errors import ConfigError

DENSE_OPS: tuple[str, ...] = ("fc", "dot_product", "gating", "sum")
SPARSE_OPS: tuple[str, ...] = ("efc", "attention")
DENSE_WIDTHS: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 768, 1024)
SPARSE_WIDTHS: tuple[int, ...] = (16, 32, 48, 64)
D2S_ITEMS = 8  # items appended by the dense->sparse merger (128 values = 8 x 16)
MAX_INPUTS = 4


@dataclass(frozen=True)
class Block:
    """Genes of one choice block (method.md §2.2)."""

    dense_idx: tuple[int, ...]
    sparse_idx: tuple[int, ...]
    dense_left: int
    dense_right: int
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]
    dense_width: int
    sparse_width: int
    d2s: bool = False  # dense->sparse merger (m, `dense_sparse_interact`)
    fm: bool = False  # sparse->dense FM merger (f, `deep_fm`)

    def __post_init__(self) -> None:
        # normalise lists from JSON into sorted tuples so equal blocks compare equal
        object.__setattr__(self, "dense_idx", tuple(sorted(int(i) for i in self.dense_idx)))
        object.__setattr__(self, "sparse_idx", tuple(sorted(int(i) for i in self.sparse_idx)))
        object.__setattr__(self, "dense_ops", tuple(self.dense_ops))
        object.__setattr__(self, "sparse_ops", tuple(self.sparse_ops))
        object.__setattr__(self, "d2s", bool(self.d2s))
        object.__setattr__(self, "fm", bool(self.fm))

    @property
    def dense_op(self) -> str:
        """The single dense op of a searched architecture."""
        if len(self.dense_ops) != 1:
            raise ConfigError(f"block has {len(self.dense_ops)} dense ops {self.dense_ops}; expected one")
        return self.dense_ops[0]

    @property
    def sparse_op(self) -> str:
        """The single sparse op of a searched architecture."""
        if len(self.sparse_ops) != 1:
            raise ConfigError(f"block has {len(self.sparse_ops)} sparse ops {self.sparse_ops}; expected one")
        return self.sparse_ops[0]

    @property
    def sparse_items(self) -> int:
        """Items in the block's sparse output: s + 8 if the dense->sparse merger is on."""
        return self.sparse_width + (D2S_ITEMS if self.d2s else 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "dense_idx": list(self.dense_idx),
            "sparse_idx": list(self.sparse_idx),
            "dense_left": self.dense_left,
            "dense_right": self.dense_right,
            "dense_ops": list(self.dense_ops),
            "sparse_ops": list(self.sparse_ops),
            "dense_width": self.dense_width,
            "sparse_width": self.sparse_width,
            "d2s": self.d2s,
            "fm": self.fm,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "block") -> "Block":
        """Inverse of `to_dict`; names the block and the field on error."""
        fields = ("dense_idx", "sparse_idx", "dense_left", "dense_right", "dense_ops", "sparse_ops",
                  "dense_width", "sparse_width", "d2s", "fm")
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {unknown}; valid fields are {list(fields)}")
        missing = [f for f in fields[:8] if f not in d]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {missing}")
        try:
            return cls(**{k: d[k] for k in fields if k in d})
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: {e}") from None


@dataclass(frozen=True)
class Architecture:
    """A NASRec network: choice blocks in order; block k (1-based) reads sources 0..k-1."""

    blocks: tuple[Block, ...]
    layernorm: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        object.__setattr__(self, "layernorm", bool(self.layernorm))

    @property
    def num_blocks(self) -> int:
        """Number of choice blocks."""
        return len(self.blocks)

    def with_layernorm(self, on: bool) -> "Architecture":
        """Copy with LayerNorm switched on or off."""
        return replace(self, layernorm=on)

    def validate(self, *, single_op: bool = True, max_inputs: int = MAX_INPUTS) -> "Architecture":
        """Check every gene; raise ConfigError naming the block and field. Returns self."""
        if not self.blocks:
            raise ConfigError("architecture has no blocks")
        for k, b in enumerate(self.blocks, start=1):
            _validate_block(b, k, single_op=single_op, max_inputs=max_inputs)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"format": "recnas-arch-v1", "layernorm": self.layernorm,
                "blocks": [b.to_dict() for b in self.blocks]}

    def to_json(self, indent: int | None = None) -> str:
        """JSON text."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Architecture":
        """Inverse of `to_dict`."""
        if not isinstance(d, dict) or "blocks" not in d:
            raise ConfigError("architecture JSON must be an object with a 'blocks' list")
        fmt = d.get("format", "recnas-arch-v1")
        if fmt != "recnas-arch-v1":
            raise ConfigError(f"unknown architecture format {fmt!r}; expected 'recnas-arch-v1'")
        blocks = tuple(Block.from_dict(b, where=f"block {k}") for k, b in enumerate(d["blocks"], 1))
        return cls(blocks=blocks, layernorm=bool(d.get("layernorm", True)))

    @classmethod
    def from_json(cls, text: str) -> "Architecture":
        """Parse JSON text."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as e:
            raise ConfigError(f"architecture JSON: {e}") from None


def _validate_block(b: Block, k: int, *, single_op: bool, max_inputs: int) -> None:
    where = f"block {k}"
    for name, idx in (("dense_idx", b.dense_idx), ("sparse_idx", b.sparse_idx)):
        if not 1 <= len(idx) <= min(max_inputs, k):
            raise ConfigError(f"{where}: {name} has {len(idx)} sources; allowed 1..{min(max_inputs, k)}")
        if len(set(idx)) != len(idx):
            raise ConfigError(f"{where}: {name} {list(idx)} repeats a source")
        bad = [i for i in idx if not 0 <= i < k]
        if bad:
            raise ConfigError(f"{where}: {name} reads {bad}; a block may read only sources 0..{k - 1}")
    for name, i in (("dense_left", b.dense_left), ("dense_right", b.dense_right)):
        if not 0 <= i < k:
            raise ConfigError(f"{where}: {name} = {i}; a block may read only sources 0..{k - 1}")
    for name, ops, valid in (("dense_ops", b.dense_ops, DENSE_OPS), ("sparse_ops", b.sparse_ops, SPARSE_OPS)):
        if not ops:
            raise ConfigError(f"{where}: {name} is empty")
        if single_op and len(ops) != 1:
            raise ConfigError(f"{where}: {name} {list(ops)} has several ops; an architecture has one")
        unknown = [o for o in ops if o not in valid]
        if unknown:
            raise ConfigError(f"{where}: {name} has unknown op(s) {unknown}; valid: {list(valid)}")
    # widths are checked against a space's width lists by SearchSpace; here only their sign
    for name, w in (("dense_width", b.dense_width), ("sparse_width", b.sparse_width)):
        if not isinstance(w, int) or w < 1:
            raise ConfigError(f"{where}: {name} = {w!r}; must be a positive integer")
