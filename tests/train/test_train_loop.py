"""The training loop: bit-exact resume, the schedule, sparse-aware clipping, checkpoint errors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from recnas.errors import CheckpointError
from recnas.train import clip_grad_norm
from recnas.train import lr_at
from recnas.train import train
from recnas.train import warmup_steps

from ._standins import ListLoader
from ._standins import TinyModel


def _params(m: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def test_resume_is_bit_exact(tmp_path):
    loader = ListLoader(batches=5)
    straight = TinyModel()
    train(
        straight,
        loader,
        lr=0.1,
        steps=12,
        progress=False,
        log_every=4,
        ckpt_path=tmp_path / "a.pt",
        metrics_path=tmp_path / "a.jsonl",
    )
    first = TinyModel()
    r = train(
        first,
        loader,
        lr=0.1,
        steps=12,
        stop_at=7,
        progress=False,
        log_every=4,
        ckpt_path=tmp_path / "b.pt",
        metrics_path=tmp_path / "b.jsonl",
    )
    assert r.step == 7
    resumed = TinyModel(seed=123)  # different init: everything must come from the checkpoint
    r = train(
        resumed,
        loader,
        lr=0.1,
        steps=12,
        progress=False,
        log_every=4,
        ckpt_path=tmp_path / "b.pt",
        metrics_path=tmp_path / "b.jsonl",
    )
    assert r.step == 12
    for a, b in zip(_params(straight), _params(resumed)):
        assert torch.equal(a, b)
    # the resumed run's metrics log ends like the straight one, with no step logged twice
    rows_a = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    rows_b = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert rows_a[-1]["loss"] == rows_b[-1]["loss"] and rows_b[-1]["step"] == 12
    steps = [r["step"] for r in rows_b]
    assert steps == sorted(set(steps))


def test_training_lowers_the_loss():
    loader = ListLoader(batches=4)
    m = TinyModel()
    r1 = train(m, loader, lr=0.1, steps=4, warmup=0, progress=False, log_every=4)
    r2 = train(m, loader, lr=0.1, steps=40, warmup=0, progress=False, log_every=40)
    assert r2.loss < r1.loss


def test_lr_schedule_values():
    assert (
        warmup_steps(1000, 0.1) == 100 and warmup_steps(1000, 50) == 50 and warmup_steps(3, 50) == 3
    )
    kw = dict(total=1000, base_lr=0.12, warmup=100)
    assert lr_at(0, **kw) == pytest.approx(0.12 / 100)
    assert lr_at(99, **kw) == pytest.approx(0.12)
    assert lr_at(100, **kw) == pytest.approx(0.12)
    assert lr_at(550, **kw) == pytest.approx(1e-8 + 0.5 * (0.12 - 1e-8))
    assert lr_at(1000, **kw) == pytest.approx(1e-8)
    assert lr_at(0, total=1, base_lr=0.04, warmup=1) == pytest.approx(0.04)
    lrs = [lr_at(s, **kw) for s in range(100, 1000)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


@pytest.mark.parametrize("max_norm", [0.05, 100.0])
def test_sparse_clip_matches_dense(max_norm):
    loader = ListLoader(batches=1, batch_size=32, rows=10)  # few rows: duplicates must be summed
    batch = next(iter(loader))
    sp, de = TinyModel(sparse=True), TinyModel(sparse=False)
    for m in (sp, de):
        torch.nn.functional.binary_cross_entropy_with_logits(
            m(batch.dense, batch.sparse), batch.label
        ).backward()
    assert sp.emb.weight.grad.is_sparse
    n_sp = clip_grad_norm(list(sp.parameters()), max_norm)
    n_de = clip_grad_norm(list(de.parameters()), max_norm)
    assert n_sp.item() == pytest.approx(n_de.item(), rel=1e-5)
    for a, b in zip(sp.parameters(), de.parameters()):
        ga = a.grad.to_dense() if a.grad.is_sparse else a.grad
        torch.testing.assert_close(ga, b.grad, rtol=1e-5, atol=1e-7)
    total = math.sqrt(
        sum(
            float((p.grad.to_dense() if p.grad.is_sparse else p.grad).pow(2).sum())
            for p in sp.parameters()
        )
    )
    assert total == pytest.approx(min(max_norm, n_de.item()), rel=1e-4)


def test_sparse_update_touches_only_batch_rows():
    loader = ListLoader(batches=1, rows=50)
    m = TinyModel(rows=50)
    before = m.emb.weight.detach().clone()
    train(m, loader, lr=0.1, steps=1, warmup=0, progress=False)
    used = torch.unique(next(iter(loader)).sparse.long())
    changed = (m.emb.weight.detach() != before).any(1).nonzero().flatten()
    assert set(changed.tolist()) <= set(used.tolist()) and len(changed) > 0


def test_corrupted_checkpoint_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupted"):
        train(TinyModel(), ListLoader(), lr=0.1, steps=2, ckpt_path=bad, progress=False)


def test_mismatched_checkpoint(tmp_path):
    ck = tmp_path / "c.pt"
    train(TinyModel(), ListLoader(), lr=0.1, steps=2, ckpt_path=ck, progress=False)
    with pytest.raises(CheckpointError, match="does not match the model"):
        train(TinyModel(dim=5), ListLoader(), lr=0.1, steps=2, ckpt_path=ck, progress=False)
    with pytest.raises(CheckpointError, match="different config"):
        train(TinyModel(), ListLoader(), lr=0.2, steps=2, ckpt_path=ck, progress=False)


def test_adam_resume_is_bit_exact_and_moves_only_batch_rows(tmp_path):
    """Adam: dense parameters by Adam, the sparse table by SparseAdam, both restored on resume."""
    loader = ListLoader(batches=5)
    kw = dict(lr=1e-2, optimizer="adam", steps=10, progress=False, log_every=5)
    straight = TinyModel()
    before = straight.emb.weight.detach().clone()
    train(straight, loader, ckpt_path=tmp_path / "a.pt", **kw)
    first = TinyModel()
    train(first, loader, ckpt_path=tmp_path / "b.pt", stop_at=6, **kw)
    resumed = TinyModel(seed=123)
    train(resumed, loader, ckpt_path=tmp_path / "b.pt", **kw)
    for a, b in zip(_params(straight), _params(resumed)):
        assert torch.equal(a, b)
    seen = torch.unique(torch.cat([b.sparse.reshape(-1) for b in loader]))
    moved = (straight.emb.weight.detach() != before).any(dim=1).nonzero().reshape(-1)
    assert set(moved.tolist()) <= set(seen.tolist()) and len(moved) > 0
    # an Adagrad checkpoint does not resume an Adam run (the configs differ)
    train(TinyModel(), loader, ckpt_path=tmp_path / "c.pt", stop_at=3, **{**kw, "optimizer": "adagrad"})
    with pytest.raises(CheckpointError):
        train(TinyModel(), loader, ckpt_path=tmp_path / "c.pt", **kw)


def test_unknown_optimizer_is_refused():
    from recnas.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown optimizer 'sgd'"):
        train(TinyModel(), ListLoader(batches=2), lr=0.1, steps=2, optimizer="sgd", progress=False)
