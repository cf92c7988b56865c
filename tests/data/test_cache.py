"""Cache: meta.json keys, reuse, invalidation, atomic replacement, synth_cache == prepare(raw synth)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from recnas.data import FeatureSchema
from recnas.data import PrepareOptions
from recnas.data import open_cache
from recnas.data import prepare_dataset
from recnas.data import synth_cache
from recnas.data import write_synth
from recnas.errors import DataError


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    return write_synth(tmp_path / "raw.txt", rows=3000, seed=1, table_cap=500)[0]


def test_meta_contents_and_mmap_columns(raw: Path, tmp_path: Path):
    c = prepare_dataset(raw, tmp_path / "c").cache
    meta = json.loads((tmp_path / "c/meta.json").read_text())
    assert set(meta["rows"]) >= {"read", "kept", "rejected", "train", "val", "test"}
    assert meta["rows"]["read"] == meta["rows"]["kept"] + meta["rows"]["rejected"] == 3000
    assert meta["rejected_by_reason"] == {} and meta["protocol"] == "nasrec"
    assert len(meta["source"]["sha256"]) == 64 and meta["source"]["size"] == raw.stat().st_size
    assert FeatureSchema.from_dict(meta["schema"]) == c.schema and meta["table_sizes"] == list(c.schema.table_sizes)
    tr = c.split("train")
    assert isinstance(tr.sparse, np.memmap) and tr.sparse.dtype == np.int32 and tr.dense.dtype == np.float32
    assert tr.label.dtype == np.int8 and tr.dense.shape == (c.num_rows("train"), 13)
    assert c.num_rows("trainval") == 2700
    import hashlib

    assert meta["source"]["sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()


def test_reuse_and_invalidation(raw: Path, tmp_path: Path):
    out = tmp_path / "c"
    first = prepare_dataset(raw, out)
    assert not first.reused
    assert prepare_dataset(raw, out).reused
    changed = prepare_dataset(raw, out, options=PrepareOptions(cap=100))
    assert not changed.reused and max(changed.cache.schema.table_sizes) == 100
    assert prepare_dataset(raw, out, options=PrepareOptions(cap=100)).reused
    with open(raw, "a") as f:  # new content (size and mtime change)
        f.write(open(raw).readline())
    again = prepare_dataset(raw, out, options=PrepareOptions(cap=100))
    assert not again.reused and again.summary["rows"]["read"] == 3001
    assert prepare_dataset(raw, out, options=PrepareOptions(cap=100), force=True).reused is False
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".c.")]
    assert leftovers == []


def test_failed_rebuild_keeps_old_cache(raw: Path, tmp_path: Path):
    out = tmp_path / "c"
    prepare_dataset(raw, out)
    bad = tmp_path / "bad.txt"
    bad.write_text("x\ty\n" * 10)
    with pytest.raises(DataError):
        prepare_dataset(bad, out)
    assert open_cache(out).meta["rows"]["read"] == 3000
    assert sorted(os.listdir(tmp_path)) == ["bad.txt", "c", "raw.txt"]


def test_synth_cache_equals_prepare_of_synth_raw(tmp_path: Path):
    raw = write_synth(tmp_path / "s.txt", rows=4000, seed=5, table_cap=300)[0]
    a = open_cache(synth_cache(tmp_path / "direct", rows=4000, seed=5, table_cap=300))
    b = prepare_dataset(raw, tmp_path / "prepared", options=PrepareOptions(cap=300)).cache
    assert a.schema == b.schema
    for s in ("train", "val", "test"):
        x, y = a.split(s), b.split(s)
        assert np.array_equal(x.label, y.label) and np.array_equal(x.sparse, y.sparse)
        assert np.array_equal(x.dense, y.dense)


@pytest.mark.parametrize("fmt, name", [("avazu", "train.csv"), ("kdd", "training.txt")])
def test_synth_cache_other_formats_equal_prepare(fmt: str, name: str, tmp_path: Path):
    files = write_synth(tmp_path / "raw" / name, fmt=fmt, rows=2000, seed=0, table_cap=200)
    c = open_cache(synth_cache(tmp_path / fmt, rows=2000, seed=0, fmt=fmt, table_cap=200))
    assert c.meta["rows"]["kept"] == 2000 and max(c.schema.table_sizes) <= 200
    assert c.schema.num_sparse == {"avazu": 22, "kdd": 10}[fmt]  # Avazu id dropped by default
    p = prepare_dataset(files[0], tmp_path / "p", fmt=fmt, profile=files[1] if fmt == "kdd" else None,
                        options=PrepareOptions(cap=200)).cache
    for s in ("train", "val", "test"):
        assert np.array_equal(c.split(s).sparse, p.split(s).sparse)
        assert np.array_equal(c.split(s).label, p.split(s).label)


def test_open_cache_errors(tmp_path: Path):
    with pytest.raises(DataError, match="not a recnas data cache"):
        open_cache(tmp_path)


def test_synth_cache_reuses_same_parameters(tmp_path: Path):
    out = synth_cache(tmp_path / "s", rows=1000, seed=1, table_cap=100)
    stamp = (out / "train" / "sparse.npy").stat().st_mtime_ns
    synth_cache(tmp_path / "s", rows=1000, seed=1, table_cap=100)
    assert (out / "train" / "sparse.npy").stat().st_mtime_ns == stamp
    synth_cache(tmp_path / "s", rows=1000, seed=2, table_cap=100)
    assert open_cache(out).meta["source"]["synthetic"]["seed"] == 2
