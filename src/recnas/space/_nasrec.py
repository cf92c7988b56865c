"""Import and export of the published NASRec architecture JSON (method.md §2.5 node order, §8 keys).

The reference names ops by their index into the space's `node_names`; this module holds the only
mapping between the reference names and ours. `load_architecture` reads either format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recnas.errors import ConfigError
from recnas.runs import atomic_write_text
from recnas.space._space import SearchSpace
from recnas.space._space import get_space
from recnas.space.arch import DENSE_OPS
from recnas.space.arch import SPARSE_OPS
from recnas.space.arch import Architecture
from recnas.space.arch import Block

# node_names per reference config, in index order (normative, method.md §2.5)
NODE_NAMES: dict[str, tuple[str, ...]] = {
    "autoctr": ("linear-2d", "dot-product", "linear-3d"),
    "xlarge": ("linear-2d", "dot-product", "sigmoid-gating", "sum", "transformer", "linear-3d"),
}
REFERENCE_OP: dict[str, str] = {  # reference node name -> recnas op name
    "linear-2d": "fc",
    "dot-product": "dot_product",
    "sigmoid-gating": "gating",
    "sum": "sum",
    "transformer": "attention",
    "linear-3d": "efc",
}
_CONFIG_OF_SPACE: dict[str, str] = {"small": "autoctr", "full": "xlarge"}
_SPACE_OF_CONFIG: dict[str, str] = {v: k for k, v in _CONFIG_OF_SPACE.items()}
_MICRO_KEYS = (
    "active_nodes",
    "dense_in_dims",
    "sparse_in_dims",
    "dense_sparse_interact",
    "deep_fm",
)
_MACRO_KEYS = ("dense_idx", "sparse_idx", "dense_left_idx", "dense_right_idx")


def _config_name(d: dict[str, Any], where: str) -> str:
    config = d.get("config")
    if config not in NODE_NAMES:
        raise ConfigError(
            f"{where}: 'config' is {config!r}; supported: {sorted(NODE_NAMES)} "
            "('xlarge-zeros' is used by no released file)"
        )
    return str(config)


def nasrec_space(d: dict[str, Any], *, where: str = "NASRec JSON") -> SearchSpace:
    """The recnas space ('small' or 'full') a published NASRec dict was searched in."""
    return get_space(_SPACE_OF_CONFIG[_config_name(d, where)])


def _one(value: Any, where: str) -> int:
    """A left/right index: a one-element list in the reference files (a bare int is accepted)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ConfigError(f"{where} must hold exactly one source, got {value}")
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{where} must be an integer source index, got {value!r}")
    return value


def _int_list(value: Any, where: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f"{where} must be a list of integer source indices, got {value!r}")
    return value


def _nodes(
    nodes: Any, names: tuple[str, ...], where: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split `active_nodes` into (dense ops, sparse ops), recnas names in recnas op order."""
    bad = [n for n in _int_list(nodes, where) if not 0 <= n < len(names)]
    if bad:
        raise ConfigError(
            f"{where} has node indices {bad}; valid 0..{len(names) - 1} ({list(names)})"
        )
    ops = {REFERENCE_OP[names[n]] for n in nodes}
    dense = tuple(o for o in DENSE_OPS if o in ops)
    sparse = tuple(o for o in SPARSE_OPS if o in ops)
    if not dense or not sparse:
        raise ConfigError(
            f"{where} = {nodes} must name at least one dense and one sparse node of {list(names)}"
        )
    return dense, sparse


def _block(micro: Any, macro: Any, names: tuple[str, ...], k: int, where: str) -> Block:
    """Block k (1-based) from micro/macro entry k-1."""
    for part, entry, keys in (("micro", micro, _MICRO_KEYS), ("macro", macro, _MACRO_KEYS)):
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: {part}[{k - 1}] must be an object")
        missing = [key for key in keys if key not in entry]
        if missing:
            raise ConfigError(f"{where}: {part}[{k - 1}] (block {k}) lacks {missing}")
    dense_ops, sparse_ops = _nodes(
        micro["active_nodes"], names, f"{where}: micro[{k - 1}].active_nodes"
    )
    m = f"{where}: macro[{k - 1}]"
    try:
        return Block(
            dense_idx=tuple(_int_list(macro["dense_idx"], f"{m}.dense_idx")),
            sparse_idx=tuple(_int_list(macro["sparse_idx"], f"{m}.sparse_idx")),
            dense_left=_one(macro["dense_left_idx"], f"{m}.dense_left_idx"),
            dense_right=_one(macro["dense_right_idx"], f"{m}.dense_right_idx"),
            dense_ops=dense_ops,
            sparse_ops=sparse_ops,
            dense_width=int(micro["dense_in_dims"]),
            sparse_width=int(micro["sparse_in_dims"]),
            d2s=bool(micro["dense_sparse_interact"]),
            fm=bool(micro["deep_fm"]),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: micro[{k - 1}] (block {k}): {e}") from None


def from_nasrec(d: dict[str, Any], *, where: str = "NASRec JSON") -> Architecture:
    """An Architecture from a published NASRec dict; macro entry i describes block i + 1."""
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: expected a JSON object with 'micro' and 'macro'")
    names = NODE_NAMES[_config_name(d, where)]
    micro, macro = d.get("micro"), d.get("macro")
    if not isinstance(micro, list) or not isinstance(macro, list) or len(micro) != len(macro):
        raise ConfigError(f"{where}: 'micro' and 'macro' must be lists of equal length")
    n = d.get("num_blocks", len(micro))
    if n != len(micro):
        raise ConfigError(f"{where}: num_blocks = {n} but 'micro' has {len(micro)} entries")
    blocks = tuple(
        _block(mi, ma, names, k, where) for k, (mi, ma) in enumerate(zip(micro, macro), 1)
    )
    arch = Architecture(blocks, layernorm=bool(d.get("use_layernorm", 1)))
    try:
        nasrec_space(d, where=where).validate_arch(arch, single_op=False)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return arch


def to_nasrec(
    arch: Architecture, space_name: str, *, test_loss: float | None = None
) -> dict[str, Any]:
    """The published NASRec dict of `arch` for space 'small'/'full' (or 'autoctr'/'xlarge')."""
    config = _CONFIG_OF_SPACE.get(get_space(space_name).name)
    if config is None:
        raise ConfigError(f"space {space_name!r} has no NASRec node table; use 'small' or 'full'")
    index = {REFERENCE_OP[name]: i for i, name in enumerate(NODE_NAMES[config])}
    micro: list[dict[str, Any]] = []
    macro: list[dict[str, Any]] = []
    for k, b in enumerate(arch.blocks, start=1):
        missing = [o for o in b.dense_ops + b.sparse_ops if o not in index]
        if missing:
            raise ConfigError(
                f"block {k}: op(s) {missing} do not exist in NASRec config {config!r}"
            )
        micro.append(
            {
                "active_nodes": sorted(index[o] for o in b.dense_ops + b.sparse_ops),
                "dense_in_dims": b.dense_width,
                "sparse_in_dims": b.sparse_width,
                "dense_sparse_interact": int(b.d2s),
                "deep_fm": int(b.fm),
            }
        )
        macro.append(
            {
                "dense_idx": list(b.dense_idx),
                "sparse_idx": list(b.sparse_idx),
                "dense_left_idx": [b.dense_left],
                "dense_right_idx": [b.dense_right],
            }
        )
    out: dict[str, Any] = {
        "micro": micro,
        "macro": macro,
        "num_blocks": arch.num_blocks,
        "use_layernorm": int(arch.layernorm),
        "config": config,
    }
    if test_loss is not None:
        out["test_loss"] = float(test_loss)
    return out


def is_nasrec(d: Any) -> bool:
    """True if `d` looks like a published NASRec dict rather than recnas JSON."""
    return isinstance(d, dict) and "micro" in d and "macro" in d


def load_architecture(path: str | Path) -> Architecture:
    """Read a recnas architecture JSON or a published NASRec JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{p}: cannot read architecture file ({e.strerror})") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{p}: line {e.lineno}: invalid JSON ({e.msg})") from None
    if is_nasrec(d):
        return from_nasrec(d, where=str(p))
    try:
        return Architecture.from_dict(d).validate(single_op=False)
    except ConfigError as e:
        raise ConfigError(f"{p}: {e}") from None


def save_architecture(arch: Architecture, path: str | Path) -> Path:
    """Write `arch` as recnas JSON (atomically); returns the path."""
    p = Path(path)
    atomic_write_text(p, arch.to_json(indent=2) + "\n")
    return p
