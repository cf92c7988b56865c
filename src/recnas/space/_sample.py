"""Path and architecture sampling (method.md §4.1 strategies; §6 initial population).

Every draw comes from the `random.Random` passed in, so a seed fixes the result.
"""

from __future__ import annotations

import random

from recnas.errors import ConfigError
from recnas.space._space import SearchSpace
from recnas.space.arch import Architecture
from recnas.space.arch import Block

STRATEGIES: tuple[str, ...] = ("default", "single_path", "any_path", "full_path")
# Reference spellings of the strategies (method.md §4.1) map to ours.
_STRATEGY_ALIASES: dict[str, str] = {
    "single-operator-any-connection": "default",
    "single-path": "single_path",
    "any-path": "any_path",
    "full-path": "full_path",
}


def binomial_count(rng: random.Random, n_max: int) -> int:
    """1 + Binomial(n_max - 1, 0.5): the reference's `binomial-0.5` count in 1..n_max."""
    return 1 + sum(rng.random() < 0.5 for _ in range(n_max - 1))


def _subset(rng: random.Random, block: int, count: int) -> tuple[int, ...]:
    """`count` distinct sources of block `block`, uniform without replacement."""
    return tuple(sorted(rng.sample(range(block), count)))


def _count(rng: random.Random, m: int, counts: str) -> int:
    """A connection-set size in 1..m: 'binomial' (training), 'uniform' (population) or 'one'."""
    if counts == "binomial":
        return binomial_count(rng, m)
    if counts == "uniform":
        return rng.randint(1, m)
    return 1


def _ops(rng: random.Random, ops: tuple[str, ...], count: int) -> tuple[str, ...]:
    """`count` distinct ops drawn uniformly, kept in the space's order."""
    chosen = set(rng.sample(ops, count))
    return tuple(o for o in ops if o in chosen)


def _block(space: SearchSpace, rng: random.Random, k: int, *, counts: str, multi_op: bool) -> Block:
    """One sampled block k; `counts` is 'binomial', 'uniform' or 'one'."""
    m = space.max_sources(k)
    draws = [_subset(rng, k, _count(rng, m, counts)) for _ in range(2)]  # dense_idx, sparse_idx
    left, right = rng.randrange(k), rng.randrange(k)
    if multi_op:
        dense_ops = _ops(rng, space.dense_ops, binomial_count(rng, min(len(space.dense_ops), 4)))
        sparse_ops = _ops(rng, space.sparse_ops, binomial_count(rng, min(len(space.sparse_ops), 4)))
    else:
        dense_ops, sparse_ops = (rng.choice(space.dense_ops),), (rng.choice(space.sparse_ops),)
    d, s = rng.choice(space.dense_widths), rng.choice(space.sparse_widths)
    d2s, fm = rng.random() < 0.5, rng.random() < 0.5
    return Block(
        draws[0],
        draws[1],
        left,
        right,
        dense_ops,
        sparse_ops,
        d,
        s,
        d2s=d2s and space.allow_d2s,
        fm=fm and space.allow_fm,
    )


def full_path(space: SearchSpace, *, layernorm: bool = True) -> Architecture:
    """Every source, every op, maximum widths, both mergers (where allowed).

    A block holds one left and one right operand: the full path uses left = the previous block and
    right = the stem, so binary ops see both the newest and the original features.
    """
    blocks = tuple(
        Block(
            tuple(range(k)),
            tuple(range(k)),
            k - 1,
            0,
            space.dense_ops,
            space.sparse_ops,
            space.dense_widths[-1],
            space.sparse_widths[-1],
            d2s=space.allow_d2s,
            fm=space.allow_fm,
        )
        for k in range(1, space.num_blocks + 1)
    )
    return Architecture(blocks, layernorm=layernorm)


def sample_path(
    space: SearchSpace, rng: random.Random, strategy: str = "default", *, layernorm: bool = True
) -> Architecture:
    """A training path drawn by `strategy` ('default', 'single_path', 'any_path', 'full_path')."""
    strategy = _STRATEGY_ALIASES.get(strategy, strategy)
    if strategy == "full_path":
        return full_path(space, layernorm=layernorm)
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown sampling strategy {strategy!r}; choose from {list(STRATEGIES)}")
    counts = "one" if strategy == "single_path" else "binomial"
    multi = strategy == "any_path"
    blocks = tuple(
        _block(space, rng, k, counts=counts, multi_op=multi) for k in range(1, space.num_blocks + 1)
    )
    return Architecture(blocks, layernorm=layernorm)


def sample_arch(space: SearchSpace, rng: random.Random, *, layernorm: bool = True) -> Architecture:
    """A random single-op architecture with connection counts uniform in 1..min(max_inputs, k).

    This is the initial-population and random-search distribution (method.md §6).
    """
    blocks = tuple(
        _block(space, rng, k, counts="uniform", multi_op=False)
        for k in range(1, space.num_blocks + 1)
    )
    return Architecture(blocks, layernorm=layernorm)
