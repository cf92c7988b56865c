"""Liveness, canonical form and hash (method.md 6): equal networks hash equal, others differ."""

from __future__ import annotations

import random
from dataclasses import replace

from recnas.space import Architecture
from recnas.space import Block
from recnas.space import arch_hash
from recnas.space import canonical
from recnas.space import dead_blocks
from recnas.space import get_space
from recnas.space import live_blocks
from recnas.space import liveness
from recnas.space import sample_arch

FULL = get_space("full")


def _b(**kw: object) -> Block:
    base: dict[str, object] = dict(
        dense_idx=(0,),
        sparse_idx=(0,),
        dense_left=0,
        dense_right=0,
        dense_ops=("fc",),
        sparse_ops=("efc",),
        dense_width=64,
        sparse_width=32,
    )
    base.update(kw)
    return Block(**base)  # type: ignore[arg-type]


def _arch(*blocks: Block) -> Architecture:
    return Architecture(blocks)


def _with(arch: Architecture, k: int, **kw: object) -> Architecture:
    blocks = list(arch.blocks)
    blocks[k - 1] = replace(blocks[k - 1], **kw)  # type: ignore[arg-type]
    return Architecture(tuple(blocks), layernorm=arch.layernorm)


# Block 3 reads y_2 (dense) and Y_2 (sparse); block 2 reads y_1 only, so Y_1 is dead.
CHAIN = _arch(_b(), _b(dense_idx=(1,)), _b(dense_idx=(2,), sparse_idx=(2,)))


def test_liveness_of_chain() -> None:
    lv = liveness(CHAIN)
    assert [(x.dense_out, x.sparse_out, x.dense, x.sparse) for x in lv] == [
        (True, False, True, False),
        (True, True, True, True),
        (True, True, True, True),
    ]
    assert live_blocks(CHAIN) == (1, 2, 3) and dead_blocks(CHAIN) == ()
    stem_only = _with(CHAIN, 3, dense_idx=(0,), sparse_idx=(0,))
    assert live_blocks(stem_only) == (3,) and dead_blocks(stem_only) == (1, 2)


def test_dead_left_right_and_dense_idx() -> None:
    h = arch_hash(CHAIN)
    assert arch_hash(_with(CHAIN, 3, dense_left=1, dense_right=2)) == h  # FC ignores left/right
    dp = _with(CHAIN, 3, dense_ops=("dot_product",))
    assert arch_hash(_with(dp, 3, dense_left=2)) == arch_hash(dp)
    s = _with(CHAIN, 3, dense_ops=("sum",), dense_left=1, dense_right=2)
    assert arch_hash(_with(s, 3, dense_idx=(0, 1, 2))) == arch_hash(s)  # Sum ignores dense_idx
    assert arch_hash(_with(s, 3, dense_left=2, dense_right=1)) == arch_hash(s)  # Sum is symmetric
    g = _with(s, 3, dense_ops=("gating",))
    assert arch_hash(_with(g, 3, dense_left=2, dense_right=1)) != arch_hash(g)  # Gating is not
    assert arch_hash(g) != arch_hash(s)
    assert arch_hash(_with(s, 3, dense_right=0)) != arch_hash(s)  # a live operand matters


def test_dead_sparse_side_and_d2s() -> None:
    # block 1: y_1 live, Y_1 dead, fm off -> its sparse op, s, sparse_idx and d2s are dead
    h = arch_hash(CHAIN)
    assert arch_hash(_with(CHAIN, 1, sparse_ops=("attention",), sparse_width=64, d2s=True)) == h
    fm = _with(CHAIN, 1, fm=True)  # now S_1 feeds y_1 through FM
    assert arch_hash(fm) != h
    assert arch_hash(_with(fm, 1, sparse_width=64)) != arch_hash(fm)
    assert arch_hash(_with(fm, 1, d2s=True)) == arch_hash(fm)  # Y_1 still unread


def test_dead_dense_side_and_fm() -> None:
    # block 3 reads only Y_2: block 2's y is dead; D_2 is dead unless d2s feeds Y_2
    arch = _arch(_b(), _b(dense_idx=(1,), sparse_idx=(0, 1)), _b(dense_idx=(0,), sparse_idx=(2,)))
    lv = liveness(arch)[1]
    assert (lv.dense_out, lv.sparse_out, lv.dense, lv.sparse) == (False, True, False, True)
    h = arch_hash(arch)
    assert (
        arch_hash(_with(arch, 2, dense_ops=("gating",), dense_width=1024, dense_idx=(0,), fm=True))
        == h
    )
    lv1 = liveness(arch)[0]  # block 1 is reached only through Y_1 (block 2's sparse_idx)
    assert (lv1.dense_out, lv1.sparse_out, lv1.dense, lv1.sparse) == (False, True, False, True)
    d2s = _with(arch, 2, d2s=True)  # Q(D_2) enters Y_2: the dense side comes alive
    assert arch_hash(d2s) != h
    assert arch_hash(_with(d2s, 2, dense_width=1024)) != arch_hash(d2s)
    assert arch_hash(_with(d2s, 2, fm=True)) == arch_hash(d2s)  # y_2 still unread


def test_dot_product_keeps_sparse_idx_alive() -> None:
    # block 2's S is dead (Y_2 unread, fm off) but Dot-Product reads sparse_idx
    arch = _arch(_b(), _b(dense_ops=("dot_product",), sparse_idx=(0,)), _b(dense_idx=(2,)))
    assert arch_hash(_with(arch, 2, sparse_idx=(0, 1))) != arch_hash(arch)
    assert 1 in live_blocks(_with(arch, 2, sparse_idx=(1,)))
    fc = _with(arch, 2, dense_ops=("fc",))
    assert arch_hash(_with(fc, 2, sparse_idx=(0, 1))) == arch_hash(fc)
    assert arch_hash(_with(fc, 2, sparse_ops=("attention",), sparse_width=16)) == arch_hash(fc)


def test_dead_blocks_do_not_count() -> None:
    stem_only = _with(CHAIN, 3, dense_idx=(0,), sparse_idx=(0,))
    other = _with(
        _with(stem_only, 1, dense_width=1024, fm=True), 2, dense_ops=("sum",), dense_left=1
    )
    assert arch_hash(other) == arch_hash(stem_only)
    c = canonical(other)
    assert c.blocks[0] == c.blocks[1] == _b(dense_width=16, sparse_width=16)
    assert arch_hash(stem_only) != arch_hash(stem_only.with_layernorm(False))


def test_canonical_properties_on_random_architectures() -> None:
    rng = random.Random(0)
    hashes: dict[str, Architecture] = {}
    for _ in range(1500):
        a = sample_arch(FULL, rng)
        c = canonical(a)
        assert canonical(c) == c and arch_hash(c) == arch_hash(a)
        assert live_blocks(c) == live_blocks(a)
        FULL.validate_arch(canonical(a, space=FULL))
        # liveness of block k depends only on later blocks: replacing dead blocks by random
        # blocks must keep the hash
        r = sample_arch(FULL, rng)
        dead = set(dead_blocks(a))
        mixed = Architecture(
            tuple(rb if k in dead else ab for k, (ab, rb) in enumerate(zip(a.blocks, r.blocks), 1))
        )
        assert arch_hash(mixed) == arch_hash(a)
        # the head always reads block 7: its widths are live genes
        wider = _with(a, 7, dense_width=16 if a.blocks[6].dense_width != 16 else 32)
        assert arch_hash(wider) != arch_hash(a)
        h = arch_hash(a)
        assert (
            canonical(hashes.setdefault(h, a)) == c
        )  # equal hashes only for equal canonical forms
    assert len(hashes) > 1400
