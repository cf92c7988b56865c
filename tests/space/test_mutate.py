"""Mutation: validity, one changed gene per move, move distribution, schedule (method.md 6)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace

import pytest
from scipy.stats import chisquare

from recnas.errors import ConfigError
from recnas.space import Architecture
from recnas.space import Block
from recnas.space import get_space
from recnas.space import mutate
from recnas.space import mutate_once
from recnas.space import num_mutations
from recnas.space import sample_arch

GENES = (
    "dense_idx",
    "sparse_idx",
    "dense_left",
    "dense_right",
    "ops",
    "dense_width",
    "sparse_width",
    "d2s",
    "fm",
)


def _gene(b: Block, gene: str) -> object:
    return (b.dense_ops, b.sparse_ops) if gene == "ops" else getattr(b, gene)


def _diff(a: Architecture, b: Architecture) -> list[tuple[int, str]]:
    """(block, gene) pairs whose values differ."""
    return [
        (k, g)
        for k, (x, y) in enumerate(zip(a.blocks, b.blocks), 1)
        for g in GENES
        if _gene(x, g) != _gene(y, g)
    ]


def test_num_mutations_schedule() -> None:
    g240 = [num_mutations(g, 240) for g in range(240)]
    assert g240[0] == 6
    assert set(g240[1:49]) == {5}
    assert set(g240[-47:]) == {1} and g240[-48] == 2
    assert all(x >= y for x, y in zip(g240, g240[1:]))
    # small runs: max(20, G // 5) keeps the step at 20
    assert [num_mutations(g, 20) for g in (0, 1, 19)] == [2, 1, 1]


@pytest.mark.parametrize("space_name", ["small", "full"])
def test_each_move_changes_exactly_one_gene(space_name: str) -> None:
    space = get_space(space_name)
    rng = random.Random(0)
    moved: Counter[str] = Counter()
    for _ in range(1500):
        parent = sample_arch(space, rng)
        child, desc = mutate_once(parent, space, rng)
        space.validate_arch(child)
        changed = _diff(parent, child)
        assert len(changed) == 1, (desc, changed)
        k, gene = changed[0]
        assert desc == f"block {k}: {gene}"
        moved[gene] += 1
        if gene == "ops" and space_name == "full":
            assert (child.blocks[k - 1].dense_op, child.blocks[k - 1].sparse_op) != (
                parent.blocks[k - 1].dense_op,
                parent.blocks[k - 1].sparse_op,
            )
    assert set(moved) == set(GENES)


def test_move_distribution() -> None:
    # block 1 has no macro move (one source), so rejection gives it weight 0.5 against 1 for
    # the others: P(block 1) = 1/13, P(block k > 1) = 2/13; P(macro) = 6/13
    space = get_space("full")
    rng = random.Random(1)
    arch = sample_arch(space, rng)
    blocks: Counter[int] = Counter()
    macro = 0
    n = 4000
    for _ in range(n):
        _, desc = mutate_once(arch, space, rng)
        k, gene = desc.removeprefix("block ").split(": ")
        blocks[int(k)] += 1
        macro += gene in ("dense_idx", "sparse_idx", "dense_left", "dense_right")
    expected = [n / 13] + [2 * n / 13] * 6
    assert chisquare([blocks[k] for k in range(1, 8)], expected).pvalue > 1e-3
    assert abs(macro / n - 6 / 13) < 0.03


def test_macro_set_redraw_counts_uniform_when_not_current() -> None:
    # block 7: a redraw draws count uniform in 1..4 then a subset, rejecting the current set;
    # starting from a 4-source set, sizes 1..3 stay exactly uniform-by-count
    space = get_space("full")
    rng = random.Random(2)
    arch = sample_arch(space, rng)
    blocks = list(arch.blocks)
    blocks[6] = replace(blocks[6], dense_idx=(0, 1, 2, 3))
    arch = Architecture(tuple(blocks))
    sizes: Counter[int] = Counter()
    while sum(sizes.values()) < 2000:
        child, desc = mutate_once(arch, space, rng)
        if desc == "block 7: dense_idx":
            sizes[len(child.blocks[6].dense_idx)] += 1
    # P(size 4) is reduced by rejecting the one current set out of C(7,4) = 35
    p = [1 / 4, 1 / 4, 1 / 4, 1 / 4 * 34 / 35]
    tot = sum(p)
    assert chisquare([sizes[c] for c in (1, 2, 3, 4)], [2000 * q / tot for q in p]).pvalue > 1e-3


def test_mutate_moves_and_determinism() -> None:
    space = get_space("full")
    arch = sample_arch(space, random.Random(3))
    a = mutate(arch, space, random.Random(4), moves=6)
    assert a == mutate(arch, space, random.Random(4), moves=6)
    assert 1 <= len(_diff(arch, a)) <= 6
    space.validate_arch(a)


def test_nothing_to_mutate_is_an_error() -> None:
    frozen = replace(
        get_space("small"),
        num_blocks=1,
        dense_ops=("fc",),
        dense_widths=(16,),
        sparse_widths=(16,),
        allow_d2s=False,
        allow_fm=False,
    )
    arch = sample_arch(frozen, random.Random(0))
    with pytest.raises(ConfigError, match="nothing to mutate"):
        mutate(arch, frozen, random.Random(0))
