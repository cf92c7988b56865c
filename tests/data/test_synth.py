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
