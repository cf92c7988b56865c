"""Readers on the shared real samples and on written files: counts and values against a pure-Python
reference of the NASRec encoding (data.md §1, §2.2-§2.4)."""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.data.schema import AVAZU_TABLE_SIZES
from recnas.data.schema import CRITEO_TABLE_SIZES
from recnas.data.schema import KDD_TABLE_SIZES

P = 2147483647
FILE_ORDER = PrepareOptions(protocol="ratio", ratios=(1.0, 0.0, 0.0), shuffle=False)


def _row(v: int, n: int) -> int:
    return 0 if v < 0 else math.fmod(v, n - 1) + 1


def _dec_or_hex(s: str) -> int:
    if s == "":
        return -1
    try:
        return int(s) % P
    except ValueError:
        return int(s, 16) % P


def _dense(s: str) -> float:
    return math.log(max(int(s), 0) + 1) if s else 0.0


def test_criteo_sample_values_match_reference_encoding(shared_dir: Path, tmp_path: Path):
    src = shared_dir / "data/criteo/criteo_sample.txt"
    res = prepare_dataset(src, tmp_path / "c", fmt="criteo", options=FILE_ORDER)
    rows = res.summary["rows"]
    assert rows["read"] == rows["kept"] == rows["train"] == 7984 and rows["rejected"] == 0
    tr = res.cache.split("train")
    assert int(tr.label.sum()) == 1723
    lines = [ln.rstrip("\n").split("\t") for ln in open(src)]
    want_sparse = np.array([[_row(int(c, 16) if c else -1, n) for c, n in zip(f[14:], CRITEO_TABLE_SIZES)]
                            for f in lines])
    want_dense = np.array([[_dense(x) for x in f[1:14]] for f in lines])
    assert np.array_equal(tr.sparse, want_sparse)
    assert np.allclose(tr.dense, want_dense, atol=1e-6)
    assert np.array_equal(tr.label, [int(f[0]) for f in lines])


def test_avazu_sample_reference_layout(shared_dir: Path, tmp_path: Path):
    src = shared_dir / "data/avazu/avazu_sample.csv"
    opts = PrepareOptions(protocol="ratio", ratios=(1.0, 0.0, 0.0), shuffle=False, keep_id=True, hour="raw")
    res = prepare_dataset(src, tmp_path / "a", fmt="avazu", options=opts)
    assert res.summary["rows"]["kept"] == 8999
    tr = res.cache.split("train")
    assert int(tr.label.sum()) == 1563
    assert res.cache.schema.num_sparse == 23 and res.cache.schema.num_dense == 1
    assert not tr.dense.any()  # Avazu's one pseudo-dense column is ln(max(-1,0)+1) = 0
    with open(src) as f:
        rows = list(csv.reader(f))[1:]
    fields = [0, 2] + list(range(3, 24))  # id, hour, then the 21 other columns
    want = np.array([[_row(_dec_or_hex(r[i]), n) for i, n in zip(fields, AVAZU_TABLE_SIZES)] for r in rows])
    assert np.array_equal(tr.sparse, want)


def test_avazu_default_vocab_layout_drops_id_and_expands_hour(shared_dir: Path, tmp_path: Path):
    res = prepare_dataset(shared_dir / "data/avazu/avazu_sample.csv", tmp_path / "a", fmt="avazu",
                          options=PrepareOptions(protocol="vocab"))
    names = res.cache.schema.sparse
    assert "id" not in names and names[:2] == ("hour_of_day", "weekday")
    sp = np.concatenate([res.cache.split(s).sparse for s in ("train", "val", "test")])
    # one hour (14102100 = Tuesday 21 Oct 2014, 00h): a single value in each, index 2
    assert set(sp[:, 0].tolist()) == {2} and set(sp[:, 1].tolist()) == {2}


def test_avazu_hour_expansion_values(tmp_path: Path):
    from recnas.data._reader import _hour_feature

    h = pa.array(["14102100", "14102523", "14102615", ""])
    assert _hour_feature(h, "hour_of_day")[0].tolist() == [0, 23, 15, -1]
    assert _hour_feature(h, "weekday")[0].tolist() == [1, 5, 6, -1]  # Tue, Sat, Sun


def test_kdd_sample_join_missing_user(shared_dir: Path, tmp_path: Path):
    d = shared_dir / "data/kdd12"
    res = prepare_dataset(d / "training.txt", tmp_path / "k", fmt="kdd", profile=d / "userid_profile.txt",
                          options=FILE_ORDER)
    assert res.summary["rows"]["kept"] == 11
    tr = res.cache.split("train")
    assert res.cache.schema.sparse[-2:] == ("Gender", "Age")
    assert (tr.sparse[:, -2:] == 1).all()  # unknown user -> "0" -> row 0 mod (N-1) + 1 = 1
    assert not tr.label.any()
    lines = [ln.rstrip("\n").split("\t") for ln in open(d / "training.txt")]
    cat_idx = [2, 3, 4, 7, 8, 9, 10, 11]
    want = np.array([[_row(int(f[i]) % P, n) for i, n in zip(cat_idx, KDD_TABLE_SIZES)] for f in lines])
    assert np.array_equal(tr.sparse[:, :8], want)
    assert np.allclose(tr.dense, [[_dense(f[i]) for i in (1, 5, 6)] for f in lines], atol=1e-6)


def test_kdd_join_hit_and_count_label(tmp_path: Path):
    (tmp_path / "training.txt").write_text("2\t3\t1\t2\t3\t1\t1\t4\t5\t6\t7\t42\n0\t1\t1\t2\t3\t1\t1\t4\t5\t6\t7\t9\n" * 6)
    (tmp_path / "prof.txt").write_text("42\t2\t5\n")
    res = prepare_dataset(tmp_path / "training.txt", tmp_path / "k", fmt="kdd", profile=tmp_path / "prof.txt",
                          options=FILE_ORDER)
    tr = res.cache.split("train")
    assert tr.label.tolist() == [1, 0] * 6
    assert tr.sparse[0, -2:].tolist() == [2 % 3 + 1, 5 % 7 + 1] and tr.sparse[1, -2:].tolist() == [1, 1]


def test_gzip_and_crlf_give_identical_caches(shared_dir: Path, tmp_path: Path):
    src = shared_dir / "data/criteo/criteo_sample.txt"
    data = src.read_bytes()
    gz = tmp_path / "train.txt.whatever"
    gz.write_bytes(gzip.compress(data))
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(data.replace(b"\n", b"\r\n"))
    caches = [prepare_dataset(p, tmp_path / f"c{i}", options=FILE_ORDER).cache for i, p in enumerate([src, gz, crlf])]
    base = caches[0].split("train")
    for c in caches[1:]:
        s = c.split("train")
        assert np.array_equal(s.sparse, base.sparse) and np.array_equal(s.dense, base.dense)
        assert c.meta["rows"]["rejected"] == 0
    assert caches[1].meta["source"]["sha256"] != caches[0].meta["source"]["sha256"]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_yaml_table(kind: str, tmp_path: Path):
    n = 200
    rng = np.random.default_rng(0)
    tab = pa.table({"y": rng.integers(0, 2, n), "age": rng.integers(0, 90, n).astype(float),
                    "city": rng.choice(["tokyo", "paris", "lima"], n), "item": rng.integers(0, 1000, n)})
    if kind == "csv":
        import pyarrow.csv as pcsv

        data = tmp_path / "t.csv"
        pcsv.write_csv(tab, data)
    else:
        data = tmp_path / "t.parquet"
        pq.write_table(tab, data)
    (tmp_path / "s.yaml").write_text("label: y\ndense: [age]\ncategorical: [city, item]\n"
                                     "table_sizes: {city: 11, item: 101}\n")
    res = prepare_dataset(data, tmp_path / "c", fmt="table", schema=tmp_path / "s.yaml", options=FILE_ORDER)
    tr = res.cache.split("train")
    assert res.summary["rows"]["kept"] == n and res.cache.schema.table_sizes == (11, 101)
    assert np.array_equal(tr.label, tab.column("y").to_numpy())
    assert np.array_equal(tr.sparse[:, 1], tab.column("item").to_numpy() % 100 + 1)
    city = tab.column("city").to_numpy()
    assert len(set(tr.sparse[:, 0].tolist())) <= 3 and len({(c, r) for c, r in zip(city, tr.sparse[:, 0])}) == 3
    assert np.allclose(tr.dense[:, 0], np.log1p(tab.column("age").to_numpy()), atol=1e-5)
