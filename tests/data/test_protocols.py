"""Protocols: NASRec folds equal scikit-learn's, split sizes, hashing, cap, vocab, ratio (data.md §2, §3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.data import _protocols as proto


def _labels(n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random(n) < 0.23).astype(np.int8)


def test_folds_equal_sklearn_and_split_mapping():
    y = _labels(5003)
    skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=2018)
    want = np.empty(len(y), int)
    for k, (_, test) in enumerate(skf.split(np.zeros(len(y)), y)):
        want[test] = k
    assert np.array_equal(proto.nasrec_folds(y), want)
    split = proto.assign_splits(y, protocol="nasrec")
    assert np.array_equal(split, np.select([want <= 7, want == 8], [0, 1], 2))


def test_split_sizes_and_stratification():
    y = _labels(20000)
    split = proto.assign_splits(y, protocol="nasrec")
    counts = np.bincount(split)
    assert abs(counts[0] - 16000) <= 2 and abs(counts[1] - 2000) <= 1 and abs(counts[2] - 2000) <= 1
    rates = [y[split == k].mean() for k in range(3)]
    assert max(rates) - min(rates) < 0.002  # stratified: same positive rate in every split


def test_reference_offbyone_shifts_rows():
    y = _labels(1000)
    good = proto.assign_splits(y, protocol="nasrec")
    ref = proto.assign_splits(y, protocol="nasrec", reference_offbyone=True)
    assert ref[0] == -1 and np.array_equal(ref[1:], good[:-1])


def test_ratio_split_exact_sizes_seeded_and_file_order():
    y = _labels(1000)
    a = proto.assign_splits(y, protocol="ratio", ratios=(0.7, 0.2, 0.1), seed=3)
    b = proto.assign_splits(y, protocol="ratio", ratios=(0.7, 0.2, 0.1), seed=3)
    c = proto.assign_splits(y, protocol="ratio", ratios=(0.7, 0.2, 0.1), seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.bincount(a).tolist() == [700, 200, 100]
    o = proto.assign_splits(y, protocol="ratio", ratios=(0.7, 0.2, 0.1), shuffle=False)
    assert o[:700].max() == 0 and (o[700:900] == 1).all() and (o[900:] == 2).all()


def test_hashing_hand_checked():
    sizes = np.array([1461, 584, 10131227, 4])
    cats = np.array([[0x68FD1E64, 0xFFFFFFFF, -1, 7], [0, 1460, 10131226, 3]])
    rows = proto.hash_rows(cats, sizes)
    assert rows.tolist() == [[0x68FD1E64 % 1460 + 1, 0xFFFFFFFF % 583 + 1, 0, 7 % 3 + 1],
                             [1, 1460 % 583 + 1, 10131226 % 10131226 + 1, 1]]
    assert rows.dtype == np.int32 and (rows[:, 2] < 10131227).all()


def test_dense_transform_and_buckets():
    x = np.array([[np.nan, -3.0, 0.0, 1.0, 2.0, 3.0, 100.0]])
    assert np.allclose(proto.log_dense(x), np.log1p([0, 0, 0, 1, 2, 3, 100]))
    # ln^2 buckets: x > 2 -> floor(ln(x)^2), else x; missing -> 0 (then shifted by +8 to be a key)
    assert (proto.ln2_buckets(x) - 8).tolist() == [[0, -3, 0, 1, 2, 1, 21]]


def test_vocab_min_count_oov_and_padding():
    vb = proto.VocabBuilder(2)
    vb.add(np.array([[5, -1], [5, 9], [7, 9], [5, 9]]))
    vb.add(np.array([[8, 9]]))
    voc = vb.finalize(min_count=2)
    assert [v.tolist() for v in voc] == [[5], [9]]
    enc = proto.vocab_rows(np.array([[5, 9], [7, -1], [123, 9]]), voc)
    assert enc.tolist() == [[2, 2], [1, 0], [1, 2]]  # 0 padding/missing, 1 OOV, 2.. vocabulary
    top = proto.VocabBuilder(1)
    top.add(np.array([[1], [1], [1], [2], [2], [3]]))
    assert top.finalize(min_count=1, max_size=4)[0].tolist() == [1, 2]  # cap keeps the most frequent


def test_vocab_fitted_on_train_only(tmp_path: Path, criteo_file):
    from _data_lines import criteo_line

    lines = [criteo_line(cat0=f"{i:08x}") for i in range(200)]
    res = prepare_dataset(criteo_file(lines), tmp_path / "v",
                          options=PrepareOptions(protocol="vocab", min_count=1))
    c = res.cache
    assert c.schema.table_sizes[0] == c.meta["rows"]["train"] + 2  # one value per train row, + pad + OOV
    assert (c.split("val").sparse[:, 0] == 1).all() and (c.split("test").sparse[:, 0] == 1).all()
    assert sorted(c.split("train").sparse[:, 0].tolist()) == list(range(2, c.meta["rows"]["train"] + 2))


def test_cap_limits_tables(tmp_path: Path, shared_dir: Path):
    res = prepare_dataset(shared_dir / "data/criteo/criteo_sample.txt", tmp_path / "c",
                          options=PrepareOptions(cap=1000))
    sizes = res.cache.schema.table_sizes
    assert max(sizes) == 1000 and sizes[0] == 1000 and sizes[8] == 4
    for s in ("train", "val", "test"):
        assert (res.cache.split(s).sparse < np.array(sizes)).all()
    assert res.cache.meta["options"]["cap"] == 1000


@pytest.mark.parametrize("bad", [dict(protocol="nope"), dict(protocol="ratio", ratios=(0.5, 0.2, 0.1))])
def test_bad_protocol_options(bad, tmp_path, shared_dir):
    from recnas.errors import ConfigError

    with pytest.raises(ConfigError):
        prepare_dataset(shared_dir / "data/kdd12/training.txt", tmp_path / "x", fmt="kdd",
                        options=PrepareOptions(**bad))


@pytest.mark.parametrize("n, rate, first", [(37, 0.3, 1), (10007, 0.02, 0), (2000, 0.5, 1), (15, 0.0, 0)])
def test_folds_equal_sklearn_edge_cases(n, rate, first):
    import warnings

    y = (np.random.default_rng(n).random(n) < rate).astype(np.int8)
    y[0] = first  # class numbering follows first appearance in sklearn
    skf = StratifiedKFold(n_splits=10, shuffle=True, random_state=2018)
    want = np.empty(n, int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, (_, test) in enumerate(skf.split(np.zeros(n), y)):
            want[test] = k
    assert np.array_equal(proto.nasrec_folds(y), want)
