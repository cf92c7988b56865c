"""Synthetic generator: seeded, streaming, calibrated, and with interactions a linear model misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recnas.data import SynthSource
from recnas.data import write_synth


def test_seeded_and_chunk_independent(tmp_path: Path):
    a = write_synth(tmp_path / "a.txt", rows=3000, seed=4, table_cap=1000)[0].read_bytes()
    b = write_synth(tmp_path / "b.txt.gz", rows=3000, seed=4, table_cap=1000)[0]
    import gzip

    assert gzip.decompress(b.read_bytes()) == a
    assert write_synth(tmp_path / "c.txt", rows=3000, seed=5, table_cap=1000)[0].read_bytes() != a
    lines = a.decode().split("\n")
    assert len(lines) == 3001 and lines[-1] == "" and all(len(ln.split("\t")) == 40 for ln in lines[:-1])


def test_formats_have_the_raw_layout(tmp_path: Path):
    av = write_synth(tmp_path / "train.csv", fmt="avazu", rows=500, table_cap=100)[0].read_text().splitlines()
    assert av[0].startswith("id,click,hour,C1,banner_pos,site_id") and len(av) == 501
    assert all(len(r.split(",")) == 24 for r in av)
    files = write_synth(tmp_path / "kdd" / "training.txt", fmt="kdd", rows=500, table_cap=100)
    assert [f.name for f in files] == ["training.txt", "userid_profile.txt"]
    assert all(len(r.split("\t")) == 12 for r in files[0].read_text().splitlines())


def test_positive_rate_and_skew():
    src = SynthSource("criteo", rows=40000, seed=0, table_cap=5000)
    import pyarrow.compute as pc

    labels = np.concatenate([np.asarray(pc.equal(b.column("label"), "1")) for b in src.chunks()])
    assert 0.20 <= labels.mean() <= 0.26
    ranks = src.model.ranks(np.random.default_rng(0), 40000)
    col = ranks[:, 2][ranks[:, 2] >= 0]
    top = np.bincount(col).max() / len(col)
    assert top > 0.05 and len(np.unique(col)) > 500  # a heavy head and a long tail


def test_interactions_are_real_and_learnable():
    """A linear (one-hot LR) model is beaten by one that also sees the hidden model's field pairs."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    src = SynthSource("criteo", rows=1, seed=3, table_cap=16)
    m = src.model
    rng = np.random.default_rng(1)
    n = 12000
    r = m.ranks(rng, n)
    x, t = src._dense(rng, r)
    p = 1 / (1 + np.exp(-m.logits(r, t)))
    y = (rng.random(n) < p).astype(int)
    cols = [r[:, j] + 1 for j in range(r.shape[1])]
    pair_cols = [(r[:, a] + 1) * 64 + r[:, c] + 1 for a, c in m.pairs]

    def onehot(columns):
        mats = [sparse.csr_matrix((np.ones(n), (np.arange(n), np.unique(c, return_inverse=True)[1].ravel())))
                for c in columns]
        return sparse.hstack(mats + [sparse.csr_matrix(t)]).tocsr()

    tr, te = slice(0, 9000), slice(9000, n)
    scores = []
    for X in (onehot(cols), onehot(cols + pair_cols)):
        lr = LogisticRegression(C=0.5, max_iter=100, solver="liblinear").fit(X[tr], y[tr])
        scores.append(log_loss(y[te], lr.predict_proba(X[te])[:, 1]))
    oracle = log_loss(y[te], p[te])
    print("synth logloss: linear %.4f, +pairs %.4f, oracle %.4f" % (scores[0], scores[1], oracle))
    assert scores[1] < scores[0] - 0.01  # the pairwise terms carry signal a linear model misses
    assert oracle < scores[1]  # and there is more (3rd order, dense x categorical) to find


def test_oracle_scores_hand_computed():
    """Known logits and labels: log loss and AUC by hand (one tied pair counts one half)."""
    from recnas.data._synth_out import oracle_scores

    z = np.array([0.0, 0.0, np.log(3.0), -np.log(3.0)])
    y = np.array([1, 0, 1, 0])
    s = oracle_scores(z, y)
    assert s["logloss"] == pytest.approx((2 * np.log(2.0) + 2 * np.log(4.0 / 3.0)) / 4, abs=1e-12)
    assert s["auc"] == pytest.approx(3.5 / 4)  # pos {0, ln3} vs neg {0, -ln3}: 1 tie, 3 wins
    assert s["base_logloss"] == pytest.approx(np.log(2.0))
    assert s["rows"] == 4


def test_cache_records_the_oracle_of_each_split(tmp_path: Path):
    """meta.json's oracle covers every row once, and no fitted model beats it on test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    from recnas.data import open_cache
    from recnas.data import synth_cache

    cache = open_cache(synth_cache(tmp_path / "c", rows=6000, seed=2, table_cap=50, cap=64))
    orc = cache.meta["oracle"]
    assert {k: orc[k]["rows"] for k in orc} == {s: cache.num_rows(s) for s in ("train", "val", "test")}
    src = SynthSource("criteo", rows=6000, seed=2, table_cap=50)
    z = np.concatenate([d.z for d in src.draws()])
    y = np.concatenate([d.y for d in src.draws()])
    overall = float(np.mean(np.logaddexp(0.0, z) - y * z))
    pooled = sum(orc[k]["logloss"] * orc[k]["rows"] for k in orc) / len(y)
    assert pooled == pytest.approx(overall, rel=1e-9)
    for k in orc:
        assert orc[k]["logloss"] < orc[k]["base_logloss"] and orc[k]["auc"] > 0.5

    def feats(split: str) -> np.ndarray:
        sp, de = np.asarray(cache.split(split).sparse), np.asarray(cache.split(split).dense)
        onehot = np.zeros((len(sp), sp.shape[1] * 64))
        onehot[np.arange(len(sp))[:, None], np.arange(sp.shape[1]) * 64 + sp] = 1.0
        return np.hstack([onehot, de])

    fit = LogisticRegression(C=0.5, max_iter=300).fit(feats("train"), np.asarray(cache.split("train").label))
    test_y = np.asarray(cache.split("test").label)
    assert log_loss(test_y, fit.predict_proba(feats("test"))[:, 1]) > orc["test"]["logloss"]
