"""Liveness, canonical form and canonical hash of an architecture (method.md §6 recommendations).

Liveness runs backwards from the head, which reads both outputs of the last block: a live dense
output y needs D (and S if fm); a live sparse output Y needs S (and D if d2s); D needs its op's
inputs (Dot-Product also reads `sparse_idx`); S needs `sparse_idx`. Dead genes are reset to fixed
defaults so that equal networks get equal canonical forms and hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from recnas.space._space import BINARY_OPS
from recnas.space._space import SET_OPS
from recnas.space._space import SearchSpace
from recnas.space.arch import DENSE_OPS
from recnas.space.arch import DENSE_WIDTHS
from recnas.space.arch import SPARSE_OPS
from recnas.space.arch import SPARSE_WIDTHS
from recnas.space.arch import Architecture
from recnas.space.arch import Block


@dataclass(frozen=True)
class BlockLiveness:
    """Which parts of one block reach the head."""

    dense_out: bool  # y, the block's dense output, is read downstream (or by the head)
    sparse_out: bool  # Y, the block's sparse output, is read downstream (or by the head)
    dense: bool  # D, the dense op's output, is needed (by y, or by Y through the d2s merger)
    sparse: bool  # S, the sparse op's output, is needed (by Y, or by y through the FM merger)

    @property
    def live(self) -> bool:
        """True if any output of the block reaches the head."""
        return self.dense_out or self.sparse_out


def liveness(arch: Architecture) -> tuple[BlockLiveness, ...]:
    """Per-block liveness (index 0 is block 1), computed backwards from the head."""
    n = arch.num_blocks
    y_live = [False] * (n + 1)  # index = source; 0 = stem
    s_live = [False] * (n + 1)
    y_live[n] = s_live[n] = True  # the head reads [y_n ; vec(Y_n)]
    result: list[BlockLiveness] = []
    for k in range(n, 0, -1):
        b = arch.blocks[k - 1]
        dense = y_live[k] or (s_live[k] and b.d2s)
        sparse = s_live[k] or (y_live[k] and b.fm)
        if dense:
            for op in b.dense_ops:
                if op in SET_OPS:
                    for j in b.dense_idx:
                        y_live[j] = True
                if op == "dot_product":
                    for j in b.sparse_idx:
                        s_live[j] = True
                if op in BINARY_OPS:
                    y_live[b.dense_left] = y_live[b.dense_right] = True
        if sparse:
            for j in b.sparse_idx:
                s_live[j] = True
        result.append(BlockLiveness(y_live[k], s_live[k], dense, sparse))
    return tuple(reversed(result))


def live_blocks(arch: Architecture) -> tuple[int, ...]:
    """1-based indices of the blocks whose output reaches the head, ascending."""
    return tuple(k for k, lv in enumerate(liveness(arch), start=1) if lv.live)


def dead_blocks(arch: Architecture) -> tuple[int, ...]:
    """1-based indices of the blocks that never reach the head (they need not be computed)."""
    return tuple(k for k, lv in enumerate(liveness(arch), start=1) if not lv.live)


def _ordered(ops: tuple[str, ...], order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(ops, key=order.index))


def _canonical_block(
    b: Block,
    lv: BlockLiveness,
    *,
    dense_default: str,
    sparse_default: str,
    d_default: int,
    s_default: int,
) -> Block:
    """Block b with its dead genes reset to the defaults."""
    dense_ops, sparse_ops = _ordered(b.dense_ops, DENSE_OPS), _ordered(b.sparse_ops, SPARSE_OPS)
    dense_idx, sparse_idx, left, right = b.dense_idx, b.sparse_idx, b.dense_left, b.dense_right
    d, s = b.dense_width, b.sparse_width
    if not lv.dense:  # nothing reads D: its op, width and inputs are all dead
        dense_ops, d = (dense_default,), d_default
    if not any(op in SET_OPS for op in dense_ops) or not lv.dense:
        dense_idx = (0,)
    if not any(op in BINARY_OPS for op in dense_ops) or not lv.dense:
        left = right = 0
    elif "sum" in dense_ops and "gating" not in dense_ops:
        left, right = min(left, right), max(left, right)  # Sum is symmetric, Gating is not
    reads_sparse_idx = lv.sparse or (lv.dense and "dot_product" in dense_ops)
    if not reads_sparse_idx:
        sparse_idx = (0,)
    if not lv.sparse:
        sparse_ops, s = (sparse_default,), s_default
    return Block(
        dense_idx,
        sparse_idx,
        left,
        right,
        dense_ops,
        sparse_ops,
        d,
        s,
        d2s=b.d2s and lv.sparse_out,
        fm=b.fm and lv.dense_out,
    )


def canonical(arch: Architecture, *, space: SearchSpace | None = None) -> Architecture:
    """The canonical form: sorted sets, ordered Sum operands, dead genes and dead blocks reset.

    Defaults for dead genes are source 0, op 'fc'/'efc' and the smallest widths of the global
    lists; pass `space` to take the first op and smallest widths of that space instead (then the
    canonical form is valid in `space`). Hashes always use the global defaults.
    """
    dense_default = space.dense_ops[0] if space else DENSE_OPS[0]
    sparse_default = space.sparse_ops[0] if space else SPARSE_OPS[0]
    d_default = space.dense_widths[0] if space else DENSE_WIDTHS[0]
    s_default = space.sparse_widths[0] if space else SPARSE_WIDTHS[0]
    dead = BlockLiveness(False, False, False, False)
    blocks = tuple(
        _canonical_block(
            b,
            lv if lv.live else dead,
            dense_default=dense_default,
            sparse_default=sparse_default,
            d_default=d_default,
            s_default=s_default,
        )
        for b, lv in zip(arch.blocks, liveness(arch))
    )
    return Architecture(blocks, layernorm=arch.layernorm)


def arch_hash(arch: Architecture) -> str:
    """Hex digest (32 chars) of the canonical form's JSON: equal networks hash equal."""
    text = json.dumps(canonical(arch).to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
