"""BatchLoader: file order, seeded per-epoch shuffle, disjoint equal DDP shards, multi-split, limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from recnas.data import Batch
from recnas.data import BatchLoader
from recnas.data import open_cache
from recnas.data import synth_cache


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    return open_cache(synth_cache(tmp_path_factory.mktemp("ld") / "c", rows=5000, seed=2, table_cap=300))


def _rows(loader: BatchLoader) -> np.ndarray:
    """Identify rows by (sparse ids, dense) bytes, in yielded order."""
    return np.concatenate([torch.cat([b.sparse.float(), b.dense], 1).numpy() for b in loader])


def _ids(cache, splits=("train",)) -> dict[bytes, int]:
    rows = np.concatenate([np.concatenate([cache.split(s).sparse.astype(np.float32), cache.split(s).dense], 1)
                           for s in splits])
    return {r.tobytes(): i for i, r in enumerate(rows)}


def test_file_order_without_shuffle(cache):
    ld = BatchLoader(cache, "train", 512, shuffle=False, drop_last=False)
    batches = list(ld)
    assert len(batches) == len(ld) == -(-cache.num_rows("train") // 512)
    b = batches[0]
    assert isinstance(b, Batch) and b.label.dtype == torch.float32 and b.dense.dtype == torch.float32
    assert b.sparse.dtype in (torch.int32, torch.int64)
    tr = cache.split("train")
    assert np.array_equal(np.concatenate([x.sparse.numpy() for x in batches]), tr.sparse)
    assert np.array_equal(np.concatenate([x.label.numpy() for x in batches]), tr.label)


def test_shuffle_is_seeded_per_epoch_and_a_permutation(cache):
    ld = BatchLoader(cache, "train", 500, seed=7, drop_last=False, block_rows=64)
    e0 = _rows(ld)
    assert np.array_equal(e0, _rows(BatchLoader(cache, "train", 500, seed=7, drop_last=False, block_rows=64)))
    ld.set_epoch(1)
    e1 = _rows(ld)
    assert not np.array_equal(e0, e1)
    ids = _ids(cache)
    for e in (e0, e1):
        assert sorted(ids[r.tobytes()] for r in e) == list(range(len(ids)))


@pytest.mark.parametrize("world, drop_last", [(2, True), (3, True), (3, False)])
def test_sharding_disjoint_and_equal(cache, world, drop_last):
    loaders = [BatchLoader(cache, "train", 256, rank=r, world_size=world, seed=3, drop_last=drop_last)
               for r in range(world)]
    lens = {len(ld) for ld in loaders}
    assert len(lens) == 1  # equal number of batches on every rank: DDP never waits forever
    ids = _ids(cache)
    seen = [[ids[r.tobytes()] for r in _rows(ld)] for ld in loaders]
    assert all(len(s) == len(ld) * 256 or not drop_last for s, ld in zip(seen, loaders))
    if drop_last:
        flat = sum(seen, [])
        assert len(flat) == len(set(flat))  # disjoint
    else:
        assert set(sum(seen, [])) == set(range(len(ids)))  # everything covered (a few rows repeat)


def test_trainval_and_limit_rows(cache):
    n_tr, n_va = cache.num_rows("train"), cache.num_rows("val")
    ld = BatchLoader(cache, "trainval", 1000, shuffle=False, drop_last=False)
    lab = np.concatenate([b.label.numpy() for b in ld])
    assert len(lab) == n_tr + n_va
    assert np.array_equal(lab[n_tr:], cache.split("val").label)
    lim = BatchLoader(cache, ["train", "val"], 100, limit_rows=450, shuffle=True, drop_last=True)
    assert len(lim) == 4 and sum(len(b) for b in lim) == 400


def test_bad_arguments(cache):
    from recnas.errors import ConfigError

    with pytest.raises(ConfigError):
        BatchLoader(cache, "train", 0)
    with pytest.raises(ConfigError):
        BatchLoader(cache, "train", 10, rank=2, world_size=2)
