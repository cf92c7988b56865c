"""Supernet training, candidate scoring and from-scratch training on a tiny in-memory cache."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from sklearn.metrics import roc_auc_score

from recnas.data.batch import Batch
from recnas.nn import Supernet
from recnas.space import full_path
from recnas.space import sample_arch
from recnas.train import CandidateScorer
from recnas.train import evaluate
from recnas.train import load_supernet
from recnas.train import train_architecture
from recnas.train import train_supernet
from recnas.train import warmup_path_fn


def test_evaluate_matches_sklearn():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(1000, generator=g) * 3
    y = (torch.rand(1000, generator=g) < torch.sigmoid(z)).float()
    batches = [
        Batch(z[i : i + 128, None], torch.zeros(len(z[i : i + 128]), 0), y[i : i + 128])
        for i in range(0, 1000, 128)
    ]
    m = evaluate(lambda b: b.dense[:, 0], batches)
    p = torch.sigmoid(z.double()).numpy()
    assert m["rows"] == 1000
    assert m["logloss"] == pytest.approx(log_loss(y.numpy(), p), rel=1e-9)
    assert m["auc"] == pytest.approx(roc_auc_score(y.numpy(), z.numpy()), rel=1e-12)
    assert m["accuracy"] == pytest.approx(float(((z > 0).float() == y).float().mean()))


def test_warmup_path_probability(tiny_space):
    full = full_path(tiny_space)
    fn = warmup_path_fn(tiny_space, full_path_steps=100)
    early = sum(fn(s, random.Random(s)) == full for s in range(0, 10))
    late = sum(fn(s, random.Random(s)) == full for s in range(100, 200))
    assert early >= 8 and late == 0
    fb = warmup_path_fn(tiny_space, full_path_steps=100, coin="block")
    mixed = fb(50, random.Random(3))
    assert len(mixed.blocks) == tiny_space.num_blocks


def test_train_supernet_checkpoint_and_reload(tiny_schema, tiny_space, mem_cache, tmp_path):
    net = Supernet(tiny_schema, tiny_space)
    r = train_supernet(
        net,
        mem_cache,
        space=tiny_space,
        batch_size=64,
        ckpt_path=tmp_path / "s.pt",
        metrics_path=tmp_path / "m.jsonl",
        log_every=4,
        progress=False,
    )
    assert r.step == 1024 // 64
    again, cfg = load_supernet(tmp_path / "s.pt")
    assert cfg["full_path_steps"] == int(0.2 * 16) and cfg["batch_size"] == 64
    for (k, a), (_, b) in zip(net.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k
    assert len((tmp_path / "m.jsonl").read_text().splitlines()) == 4


def test_scoring_is_deterministic_and_head_only(tiny_schema, tiny_space, mem_cache):
    torch.manual_seed(0)
    net = Supernet(tiny_schema, tiny_space)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    scorer = CandidateScorer(
        net,
        mem_cache,
        finetune_steps=20,
        warmup=5,
        batch_size=32,
        val_rows=250,
        eval_batch_size=100,
    )
    arch = sample_arch(tiny_space, random.Random(1))
    a, b = scorer.score(arch), scorer.score(arch)
    assert a["logloss"] == b["logloss"] and a["auc"] == b["auc"] and a["val_rows"] == 250
    for k, v in net.state_dict().items():  # the supernet itself is never modified
        assert torch.equal(v, before[k]), k
    head = scorer.finetune(arch)
    w, bias = net.head(arch)
    assert not torch.equal(head.weight.detach(), w.detach())  # the head copy did train
    no_ft = CandidateScorer(net, mem_cache, finetune_steps=1, batch_size=32, val_rows=250)
    assert no_ft.score(arch)["logloss"] != a["logloss"]


def test_train_architecture_writes_metrics(tiny_schema, tiny_space, mem_cache, tmp_path):
    arch = sample_arch(tiny_space, random.Random(2))
    m = train_architecture(arch, mem_cache, out_dir=tmp_path / "a", batch_size=64, progress=False)
    saved = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert saved["logloss"] == m["logloss"] and np.isfinite(m["logloss"]) and "test" not in saved
    assert saved["params"] > 0 and saved["flops"] > 0 and saved["val"]["rows"] == 300
    f = train_architecture(
        arch,
        mem_cache,
        out_dir=tmp_path / "f",
        splits=("train", "val"),
        eval_split=None,
        test=True,
        batch_size=64,
        layernorm="reference",
        progress=False,
    )
    assert f["test"]["rows"] == 200 and f["settings"]["layernorm"] is False
    assert f["evaluated_on"] == "test"


def test_ranking_study(tiny_schema, tiny_space, mem_cache, tmp_path):
    """Ground truth once for every variant, cached and resumed; one interval per variant."""
    from recnas.errors import RecnasError
    from recnas.train import ScoringSettings
    from recnas.train import ranking_study
    from recnas.train import scratch_fit

    net = Supernet(tiny_schema, tiny_space)
    kw = dict(space=tiny_space, batch_size=64, max_steps=6, progress=False)
    train_supernet(net, mem_cache, ckpt_path=tmp_path / "s.pt", **kw)
    fit, recipe = scratch_fit(max_epochs=1, batch_size=64)
    calls = []

    def counted(*a):
        calls.append(a[0])
        return fit(*a)

    study = dict(k=5, settings=ScoringSettings(finetune_steps=5, val_rows=200), progress=False)
    variants = {"a": tmp_path / "s.pt", "b": tmp_path / "s.pt"}
    r = ranking_study(variants, mem_cache, counted, out_dir=tmp_path / "st", recipe=recipe, **study)
    assert len(calls) == 5 and len(r["subnets"]) == 5  # trained once, not once per variant
    a, b = r["variants"]
    assert a["finetuned"] == b["finetuned"] and -1.0 <= a["finetuned"]["tau"] <= 1.0
    assert a["finetuned"]["ci_low"] <= a["finetuned"]["tau"] <= a["finetuned"]["ci_high"]
    saved = json.loads((tmp_path / "st" / "ranking.json").read_text())
    assert saved["variants"][0]["finetuned"] == a["finetuned"]
    assert "95% CI" in (tmp_path / "st" / "ranking.md").read_text()
    # a torn last line (killed writer) is retrained; the rest comes from the cache
    gt = tmp_path / "st" / "ground_truth.jsonl"
    lines = gt.read_text().splitlines()
    gt.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])
    calls.clear()
    again = ranking_study(variants, mem_cache, counted, out_dir=tmp_path / "st", recipe=recipe,
                          **study)
    assert len(calls) == 1
    assert [s["val_logloss"] for s in again["subnets"]] == [s["val_logloss"] for s in r["subnets"]]
    with pytest.raises(RecnasError, match="other settings"):
        ranking_study(variants, mem_cache, fit, out_dir=tmp_path / "st",
                      recipe={**recipe, "max_epochs": 2}, **study)


def test_kendall_interval_and_p_value():
    from recnas.train._study import kendall

    x = [float(i) for i in range(30)]
    same = kendall(x, [v + 0.1 for v in x])
    assert same["tau"] == pytest.approx(1.0) and same["ci_low"] == pytest.approx(1.0)
    assert same["p_value"] < 1e-6
    flip = kendall(x, [-v for v in x])
    assert flip["tau"] == pytest.approx(-1.0)
    rng = np.random.default_rng(0)
    noise = kendall(x, list(rng.normal(size=30)))
    assert noise["ci_low"] < 0.0 < noise["ci_high"] and noise["p_value"] > 0.05


def test_supernet_resume_is_bit_exact(tiny_schema, tiny_space, mem_cache, tmp_path):
    """Sampled paths, sparse embedding rows and the warm-up coin continue exactly after a stop."""
    kw = dict(space=tiny_space, batch_size=64, max_steps=12, full_path_steps=4, progress=False)
    torch.manual_seed(0)
    straight = Supernet(tiny_schema, tiny_space)
    train_supernet(straight, mem_cache, ckpt_path=tmp_path / "a.pt", **kw)
    torch.manual_seed(0)
    first = Supernet(tiny_schema, tiny_space)
    train_supernet(first, mem_cache, ckpt_path=tmp_path / "b.pt", stop_at=5, **kw)
    torch.manual_seed(1)  # other initial weights: all state must come from the checkpoint
    resumed = Supernet(tiny_schema, tiny_space)
    r = train_supernet(resumed, mem_cache, ckpt_path=tmp_path / "b.pt", **kw)
    assert r.step == 12
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k


def test_load_supernet_rejects_other_checkpoints(tiny_space, mem_cache, tmp_path):
    from recnas.errors import CheckpointError

    arch = sample_arch(tiny_space, random.Random(2))
    train_architecture(
        arch, mem_cache, out_dir=tmp_path / "a", batch_size=64, max_steps=2, progress=False
    )
    with pytest.raises(CheckpointError, match="not a supernet checkpoint"):
        load_supernet(tmp_path / "a" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not found"):
        load_supernet(tmp_path / "missing.pt")


def test_full_tables_refuses_a_capped_cache(tiny_space, mem_cache, tmp_path):
    from recnas.errors import ConfigError

    mem_cache.meta = {"options": {"cap": 20}}
    with pytest.raises(ConfigError, match="table cap of 20"):
        train_architecture(
            sample_arch(tiny_space, random.Random(0)),
            mem_cache,
            out_dir=tmp_path,
            full_tables=True,
            progress=False,
        )


def test_scorer_warmup_is_a_share_of_a_short_finetune(tiny_schema, tiny_space, mem_cache, monkeypatch):
    """The spec's 50 warm-up steps of 500 are 10%: a 60-step fine-tune warms up over 6, not 50."""
    import recnas.train._scoring as scoring
    from recnas.train import warmup_steps

    seen = []
    real = scoring.train

    def spy(*args, **kw):
        seen.append(warmup_steps(kw["steps"], kw["warmup"]))
        return real(*args, **kw)

    monkeypatch.setattr(scoring, "train", spy)
    net = Supernet(tiny_schema, tiny_space)
    arch = sample_arch(tiny_space, random.Random(1))
    for steps in (60, 500):
        CandidateScorer(net, mem_cache, finetune_steps=steps, batch_size=2, val_rows=50).finetune(arch)
    CandidateScorer(net, mem_cache, finetune_steps=60, warmup=50, batch_size=2, val_rows=50).finetune(arch)
    assert seen == [6, 50, 50]


def test_adam_supernet_warms_up_over_a_tenth_to_its_rate(tiny_schema, tiny_space, mem_cache, tmp_path):
    net = Supernet(tiny_schema, tiny_space)
    train_supernet(net, mem_cache, space=tiny_space, batch_size=64, optimizer="adam", lr=1e-3,
                   ckpt_path=tmp_path / "s.pt", metrics_path=tmp_path / "m.jsonl", log_every=1,
                   progress=False)
    lrs = [json.loads(line)["lr"] for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert lrs[0] == pytest.approx(1e-3 / 2) and lrs[1] == pytest.approx(1e-3)  # 16 steps: 2 warm
    assert load_supernet(tmp_path / "s.pt")[1]["optimizer"] == "adam"


def test_path_finetune_scores_deterministically_and_leaves_the_supernet(tiny_schema, tiny_space, mem_cache):
    torch.manual_seed(0)
    net = Supernet(tiny_schema, tiny_space)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    kw = dict(finetune_steps=12, batch_size=32, val_rows=250, eval_batch_size=100)
    path = CandidateScorer(net, mem_cache, finetune="path", path_lr=1e-2, **kw)
    head = CandidateScorer(net, mem_cache, **kw)
    arch = sample_arch(tiny_space, random.Random(1))
    a, b = path.score(arch), path.score(arch)
    assert a["logloss"] == b["logloss"] and a["logloss"] != head.score(arch)["logloss"]
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert net.embedding.weight.grad is None and net.embedding.weight.requires_grad
    with pytest.raises(Exception, match="unknown fine-tune mode 'all'"):
        CandidateScorer(net, mem_cache, finetune="all", **kw)
