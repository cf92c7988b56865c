"""SearchSpace presets, parameters, validation messages and space size (method.md 2.2, 2.5)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from recnas.errors import ConfigError
from recnas.space import Architecture
from recnas.space import Block
from recnas.space import SearchSpace
from recnas.space import full_path
from recnas.space import get_space


def _block(k: int, **kw: object) -> Block:
    base: dict[str, object] = dict(
        dense_idx=(k - 1,),
        sparse_idx=(0,),
        dense_left=0,
        dense_right=k - 1,
        dense_ops=("fc",),
        sparse_ops=("efc",),
        dense_width=64,
        sparse_width=32,
    )
    base.update(kw)
    return Block(**base)  # type: ignore[arg-type]


def _arch(n: int = 7) -> Architecture:
    return Architecture(tuple(_block(k) for k in range(1, n + 1)))


def test_presets() -> None:
    small, full = get_space("small"), get_space("full")
    assert small.dense_ops == ("fc", "dot_product") and small.sparse_ops == ("efc",)
    assert full.dense_ops == ("fc", "dot_product", "gating", "sum")
    assert full.sparse_ops == ("efc", "attention")
    for s in (small, full):
        assert s.num_blocks == 7 and s.max_inputs == 4
        assert s.dense_widths == (16, 32, 64, 128, 256, 512, 768, 1024)
        assert s.sparse_widths == (16, 32, 48, 64)
    assert (
        get_space("xlarge") == full and get_space("autoctr") == small and get_space("Full") == full
    )
    with pytest.raises(ConfigError, match="unknown search space 'medium'"):
        get_space("medium")


def test_bad_space_parameters() -> None:
    with pytest.raises(ConfigError, match="dense_ops"):
        SearchSpace("x", dense_ops=("conv",), sparse_ops=("efc",))
    with pytest.raises(ConfigError, match="dense_widths"):
        SearchSpace("x", dense_ops=("fc",), sparse_ops=("efc",), dense_widths=(64, 32))
    with pytest.raises(ConfigError, match="max_inputs"):
        SearchSpace("x", dense_ops=("fc",), sparse_ops=("efc",), max_inputs=0)


def test_sizes_match_the_spec() -> None:
    # method.md 2.5: every gene counted 8.1e43 / 4.9e39; without dead genes ~1.5e36 / 1.9e32
    full, small = get_space("full"), get_space("small")
    assert f"{float(full.size()):.1e}" == "8.1e+43"
    assert f"{float(small.size()):.1e}" == "4.9e+39"
    assert f"{float(full.size(dead_genes=False)):.1e}" == "1.5e+36"
    assert f"{float(small.size(dead_genes=False)):.1e}" == "1.9e+32"
    assert [full.num_subsets(i) for i in range(1, 8)] == [1, 3, 7, 15, 30, 56, 98]
    # Small differs only in op counts: 8 pairs per block vs 2, and dead-gene-free the same sets
    assert full.size() == small.size() * 4**7


def _block_genes(space: SearchSpace, i: int) -> list[tuple[object, ...]]:
    """Every (dense_idx, sparse_idx, left, right, dense op, sparse op) of block i."""
    sets = [
        c for n in range(1, space.max_sources(i) + 1) for c in itertools.combinations(range(i), n)
    ]
    return list(
        itertools.product(sets, sets, range(i), range(i), space.dense_ops, space.sparse_ops)
    )


def _reduce(g: tuple[object, ...]) -> tuple[object, ...]:
    """Reset the dead genes named in method.md 2.5 (an independent reading, not canonical())."""
    dense_idx, sparse_idx, left, right, op, sop = g
    if op in ("fc", "dot_product"):
        left = right = None
    else:
        dense_idx = None
    if op == "sum":
        left, right = sorted((left, right))  # type: ignore[type-var]
    return dense_idx, sparse_idx, left, right, op, sop


def test_size_formula_by_enumeration() -> None:
    # one width each and no mergers, so size() is the product of the per-block gene counts
    tiny = replace(
        get_space("full"),
        num_blocks=4,
        dense_widths=(16,),
        sparse_widths=(16,),
        allow_d2s=False,
        allow_fm=False,
    )
    every = live = 1
    for i in range(1, 5):
        genes = _block_genes(tiny, i)
        every *= len(genes)
        live *= len({_reduce(g) for g in genes})
    assert tiny.size() == every
    assert tiny.size(dead_genes=False) == live


def test_validate_accepts_good_architecture() -> None:
    arch = _arch()
    assert get_space("full").validate_arch(arch) is arch
    assert get_space("small").validate_arch(arch) is arch


@pytest.mark.parametrize(
    ("k", "change", "space", "needles"),
    [
        (3, {"dense_width": 100}, "full", ("block 3", "dense_width", "100", "list")),
        (5, {"sparse_width": 128}, "full", ("block 5", "sparse_width", "128")),
        (2, {"dense_ops": ("gating",)}, "small", ("block 2", "dense_ops", "gating")),
        (4, {"sparse_ops": ("attention",)}, "small", ("block 4", "sparse_ops", "attention")),
        (2, {"dense_idx": (0, 5)}, "full", ("block 2", "dense_idx", "5")),
        (6, {"sparse_idx": (0, 1, 2, 3, 4)}, "full", ("block 6", "sparse_idx", "5 sources")),
        (3, {"dense_left": 3}, "full", ("block 3", "dense_left")),
        (1, {"dense_ops": ("fc", "sum")}, "full", ("block 1", "dense_ops", "several")),
    ],
)
def test_validate_names_block_and_field(
    k: int, change: dict[str, object], space: str, needles: tuple[str, ...]
) -> None:
    blocks = list(_arch().blocks)
    blocks[k - 1] = replace(blocks[k - 1], **change)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as e:
        get_space(space).validate_arch(Architecture(tuple(blocks)))
    for n in needles:
        assert n in str(e.value)


def test_validate_block_count_and_mergers() -> None:
    with pytest.raises(ConfigError, match="6 blocks"):
        get_space("full").validate_arch(_arch(6))
    no_fm = replace(get_space("full"), allow_fm=False)
    blocks = list(_arch().blocks)
    blocks[3] = replace(blocks[3], fm=True)
    with pytest.raises(ConfigError, match="block 4: fm"):
        no_fm.validate_arch(Architecture(tuple(blocks)))


def test_parameterised_space() -> None:
    s = replace(
        get_space("small"), num_blocks=3, dense_widths=(8, 24), sparse_widths=(4,), max_inputs=2
    )
    assert [s.num_subsets(i) for i in (1, 2, 3)] == [1, 3, 6]
    # block i: ops 2*1, widths 2*1, mergers 4, sets^2, left/right i^2
    assert s.size() == (2 * 2 * 4) ** 3 * (1 * 9 * 36) * (1 * 4 * 9)


def test_space_dict_round_trip_and_overrides() -> None:
    full = get_space("full")
    assert SearchSpace.from_dict(full.to_dict()) == full
    five = SearchSpace.from_dict({"name": "xlarge", "num_blocks": 5, "dense_widths": [32, 64]})
    assert (five.name, five.num_blocks, five.dense_widths) == ("full", 5, (32, 64))
    assert five.dense_ops == full.dense_ops
    custom = SearchSpace.from_dict({"name": "mine", "dense_ops": ["fc"], "sparse_ops": ["efc"]})
    assert SearchSpace.from_dict(custom.to_dict()) == custom
    with pytest.raises(ConfigError, match="unknown key.*'blocks'"):
        SearchSpace.from_dict({"name": "full", "blocks": 3})
    with pytest.raises(ConfigError, match="give dense_ops and sparse_ops"):
        SearchSpace.from_dict({"name": "mine"})
    with pytest.raises(ConfigError, match="sparse_widths"):
        SearchSpace.from_dict({"name": "full", "sparse_widths": [64, 16]})


def test_validate_path() -> None:
    path = full_path(get_space("full"))
    assert get_space("full").validate_path(path) is path
    with pytest.raises(ConfigError, match="block 5: dense_idx has 5 sources"):
        get_space("full").validate_arch(path, single_op=False)
