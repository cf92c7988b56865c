"""Mutation of a searched architecture (method.md §6, with the §6/§10.7 recommended fixes).

One move: pick a block uniformly; with probability 0.5 a macro move redraws one of `dense_idx`,
`sparse_idx` (count uniform in 1..min(max_inputs, k)), `dense_left`, `dense_right`; otherwise a
micro move redraws one of the op pair, d, s, the d2s flag or the FM flag. Unlike the reference,
every move changes its gene: the new value is drawn among the values other than the current one,
and a (block, gene) pair with a single possible value is redrawn.
"""

from __future__ import annotations

import random
from dataclasses import replace

from recnas.errors import ConfigError
from recnas.space._space import SearchSpace
from recnas.space.arch import Architecture
from recnas.space.arch import Block

MACRO_GENES: tuple[str, ...] = ("dense_idx", "sparse_idx", "dense_left", "dense_right")
MICRO_GENES: tuple[str, ...] = ("ops", "dense_width", "sparse_width", "d2s", "fm")


def num_mutations(generation: int, generations: int) -> int:
    """Moves per child at generation g (0-based) of G: (G - g) // max(20, G // 5) + 1."""
    return (generations - generation) // max(20, generations // 5) + 1


def _changeable(space: SearchSpace, b: Block, k: int, gene: str) -> bool:
    """True if gene `gene` of block k (1-based) has a value other than its current one."""
    if gene in ("dense_idx", "sparse_idx"):
        return space.num_subsets(k) > 1
    if gene in ("dense_left", "dense_right"):
        return k > 1
    if gene == "ops":
        return len(space.dense_ops) * len(space.sparse_ops) > 1
    if gene == "dense_width":
        return len(space.dense_widths) > 1
    if gene == "sparse_width":
        return len(space.sparse_widths) > 1
    if gene == "d2s":
        return space.allow_d2s or b.d2s
    return space.allow_fm or b.fm


def _redraw_set(
    space: SearchSpace, rng: random.Random, k: int, current: tuple[int, ...]
) -> tuple[int, ...]:
    """A new connection set of block k: count uniform in 1..max_sources, then a uniform subset."""
    while True:
        new = tuple(sorted(rng.sample(range(k), rng.randint(1, space.max_sources(k)))))
        if new != current:
            return new


def _redraw(space: SearchSpace, rng: random.Random, b: Block, k: int, gene: str) -> Block:
    """Block b with gene `gene` set to a new value (assumes `_changeable`)."""
    if gene == "dense_idx":
        return replace(b, dense_idx=_redraw_set(space, rng, k, b.dense_idx))
    if gene == "sparse_idx":
        return replace(b, sparse_idx=_redraw_set(space, rng, k, b.sparse_idx))
    if gene == "dense_left":
        return replace(b, dense_left=rng.choice([j for j in range(k) if j != b.dense_left]))
    if gene == "dense_right":
        return replace(b, dense_right=rng.choice([j for j in range(k) if j != b.dense_right]))
    if gene == "ops":  # a new (dense, sparse) pair, as in the reference's micro move
        pairs = [
            (d, s)
            for d in space.dense_ops
            for s in space.sparse_ops
            if ((d,), (s,)) != (b.dense_ops, b.sparse_ops)
        ]
        d_op, s_op = rng.choice(pairs)
        return replace(b, dense_ops=(d_op,), sparse_ops=(s_op,))
    if gene == "dense_width":
        return replace(
            b, dense_width=rng.choice([w for w in space.dense_widths if w != b.dense_width])
        )
    if gene == "sparse_width":
        return replace(
            b, sparse_width=rng.choice([w for w in space.sparse_widths if w != b.sparse_width])
        )
    if gene == "d2s":
        return replace(b, d2s=not b.d2s)
    return replace(b, fm=not b.fm)


def mutate_once(
    arch: Architecture, space: SearchSpace, rng: random.Random
) -> tuple[Architecture, str]:
    """One move; returns the child and a description such as 'block 3: dense_width'."""
    n = arch.num_blocks
    if not any(
        _changeable(space, b, k, g)
        for k, b in enumerate(arch.blocks, 1)
        for g in MACRO_GENES + MICRO_GENES
    ):
        raise ConfigError(f"space {space.name!r} has no gene with two values; nothing to mutate")
    while True:  # rejection keeps the spec's distribution, conditioned on the move being possible
        k = rng.randint(1, n)
        gene = rng.choice(MACRO_GENES if rng.random() < 0.5 else MICRO_GENES)
        b = arch.blocks[k - 1]
        if _changeable(space, b, k, gene):
            break
    blocks = list(arch.blocks)
    blocks[k - 1] = _redraw(space, rng, b, k, gene)
    return replace(arch, blocks=tuple(blocks)), f"block {k}: {gene}"


def mutate(
    arch: Architecture, space: SearchSpace, rng: random.Random, *, moves: int = 1
) -> Architecture:
    """Apply `moves` mutation moves (each changes one gene) to a single-op architecture."""
    for _ in range(moves):
        arch, _ = mutate_once(arch, space, rng)
    return arch
