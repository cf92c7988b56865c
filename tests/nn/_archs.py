"""Private random-architecture helpers for the nn tests (independent of recnas.space's samplers)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from recnas.space.arch import DENSE_OPS
from recnas.space.arch import DENSE_WIDTHS
from recnas.space.arch import SPARSE_OPS
from recnas.space.arch import SPARSE_WIDTHS
from recnas.space.arch import Architecture
from recnas.space.arch import Block


@dataclass(frozen=True)
class MiniSpace:
    """Duck-typed stand-in for recnas.space.SearchSpace."""

    name: str
    num_blocks: int
    dense_ops: tuple[str, ...]
    sparse_ops: tuple[str, ...]
    dense_widths: tuple[int, ...] = DENSE_WIDTHS
    sparse_widths: tuple[int, ...] = SPARSE_WIDTHS
    max_inputs: int = 4


FULL = MiniSpace("full", 7, DENSE_OPS, SPARSE_OPS)
SMALL = MiniSpace("small", 7, ("fc", "dot_product"), ("efc",))


def random_arch(space: MiniSpace, rng: random.Random, *, ops_per_block: int = 1,
                layernorm: bool = True) -> Architecture:
    """Uniform random architecture (or path with up to `ops_per_block` ops of each kind)."""
    blocks = []
    for k in range(1, space.num_blocks + 1):
        m = min(space.max_inputs, k)
        blocks.append(Block(
            dense_idx=tuple(rng.sample(range(k), rng.randint(1, m))),
            sparse_idx=tuple(rng.sample(range(k), rng.randint(1, m))),
            dense_left=rng.randrange(k), dense_right=rng.randrange(k),
            dense_ops=tuple(rng.sample(space.dense_ops, rng.randint(1, min(ops_per_block, len(space.dense_ops))))),
            sparse_ops=tuple(rng.sample(space.sparse_ops, rng.randint(1, min(ops_per_block, len(space.sparse_ops))))),
            dense_width=rng.choice(space.dense_widths), sparse_width=rng.choice(space.sparse_widths),
            d2s=rng.random() < 0.5, fm=rng.random() < 0.5))
    return Architecture(tuple(blocks), layernorm=layernorm)


def full_path(space: MiniSpace) -> Architecture:
    """Every op, every source, maximum widths, both mergers on."""
    blocks = []
    for k in range(1, space.num_blocks + 1):
        src = tuple(range(max(0, k - space.max_inputs), k))
        blocks.append(Block(src, src, 0, k - 1, space.dense_ops, space.sparse_ops,
                            max(space.dense_widths), max(space.sparse_widths), True, True))
    return Architecture(tuple(blocks))
