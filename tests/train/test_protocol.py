"""The fair training protocol: best epoch kept and restored, plateau decay, early stopping, test once,
resume at epoch boundaries, determinism per seed, recipes (Adam + embedding L2, Adagrad warm-up)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from recnas.errors import ConfigError
from recnas.train import Protocol
from recnas.train import Recipe
from recnas.train import fit
from recnas.train import _protocol

from ._standins import TinyModel

ADAM = Recipe("adam", 1e-2)


def _model(seed: int = 0) -> TinyModel:
    return TinyModel(dense=3, fields=4, rows=50, dim=4, seed=seed)


class Scripted:
    """Replaces the protocol's evaluation: val returns scripted log losses; records the weights seen."""

    def __init__(self, val: list[float]) -> None:
        self.val, self.states, self.test_calls = list(val), [], 0

    def __call__(self, model, cache, split, batch, device) -> dict[str, Any]:
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if split == "test":
            self.test_calls += 1
            self.test_state = state
            return {"logloss": 0.5, "auc": 0.7, "accuracy": 0.8, "rows": 200}
        self.states.append(state)
        ll = self.val.pop(0)
        return {"logloss": ll, "auc": 1.0 - ll, "accuracy": 0.8, "rows": 300}


def test_best_epoch_restored_plateau_decay_early_stop_test_once(mem_cache, tmp_path: Path, monkeypatch) -> None:
    script = Scripted([0.50, 0.40, 0.45, 0.46, 0.30])
    monkeypatch.setattr(_protocol, "_evaluate", script)
    m = fit(_model(), mem_cache, recipe=ADAM, protocol=Protocol(max_epochs=10, patience=2, batch_size=256),
            out_dir=tmp_path, progress=False)
    # epochs 3 and 4 do not improve on epoch 2: two plateaus in a row stop training after epoch 4
    assert m["epochs_run"] == 4 and m["stopped_early"] and m["best_epoch"] == 2
    assert [r["lr"] for r in m["val_by_epoch"]] == pytest.approx([1e-2, 1e-2, 1e-2, 1e-3])
    assert m["val"]["logloss"] == 0.40 and script.test_calls == 1 and m["logloss"] == 0.5
    for k, v in script.states[1].items():  # the test saw the weights of epoch 2, not of epoch 4
        assert torch.equal(script.test_state[k], v)
    assert not all(torch.equal(script.states[3][k], v) for k, v in script.states[1].items())
    assert json.loads((tmp_path / "metrics.json").read_text())["best_epoch"] == 2


def test_improvement_resets_patience_and_lr_decays_to_floor(mem_cache, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_protocol, "_evaluate", Scripted([0.5, 0.6, 0.4, 0.7, 0.8]))
    m = fit(_model(), mem_cache, recipe=ADAM,
            protocol=Protocol(max_epochs=10, patience=2, lr_decay=0.01, min_lr=5e-5, batch_size=256),
            out_dir=tmp_path, progress=False)
    assert m["epochs_run"] == 5 and m["best_epoch"] == 3
    assert [r["lr"] for r in m["val_by_epoch"]] == pytest.approx([1e-2, 1e-2, 1e-4, 1e-4, 5e-5])


def test_same_seed_same_result_other_seed_differs(mem_cache, tmp_path: Path) -> None:
    proto = Protocol(max_epochs=2, batch_size=256)
    runs = [fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path / f"r{i}", seed=s,
                progress=False) for i, s in enumerate((3, 3, 4))]
    assert runs[0]["val_by_epoch"] == runs[1]["val_by_epoch"] and runs[0]["test"] == runs[1]["test"]
    assert runs[0]["val_by_epoch"] != runs[2]["val_by_epoch"]  # the shuffle follows the seed


def test_interrupted_run_resumes_at_the_epoch_boundary(mem_cache, tmp_path: Path, monkeypatch) -> None:
    proto = Protocol(max_epochs=3, patience=3, batch_size=256)
    whole = fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path / "whole", progress=False)
    real, calls = _protocol._train_epoch, []

    def crash_in_third(*a, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(_protocol, "_train_epoch", crash_in_third)
    with pytest.raises(KeyboardInterrupt):
        fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path / "cut", progress=False)
    monkeypatch.setattr(_protocol, "_train_epoch", real)
    resumed = fit(_model(seed=9), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path / "cut",
                  progress=False)  # other initial weights: the saved state must replace them
    assert resumed["val_by_epoch"] == whole["val_by_epoch"] and resumed["test"] == whole["test"]


def test_finished_run_is_reused_and_other_settings_retrain(mem_cache, tmp_path: Path, monkeypatch) -> None:
    proto = Protocol(max_epochs=1, batch_size=256)
    a = fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path, progress=False)

    def boom(*a, **kw):
        raise AssertionError("trained again")

    monkeypatch.setattr(_protocol, "_train_epoch", boom)
    assert fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path, progress=False) == a
    with pytest.raises(AssertionError, match="trained again"):
        fit(_model(), mem_cache, recipe=Recipe("adam", 2e-2), protocol=proto, out_dir=tmp_path, progress=False)


def test_embedding_l2_shrinks_the_tables_and_adam_uses_dense_grads(mem_cache, tmp_path: Path) -> None:
    proto = Protocol(max_epochs=1, batch_size=64)
    norms = []
    for l2 in (0.0, 1.0):
        model = _model()
        fit(model, mem_cache, recipe=Recipe("adam", 1e-2, embedding_l2=l2), protocol=proto,
            out_dir=tmp_path / str(l2), progress=False)
        assert model.emb.sparse is False
        norms.append(float(model.emb.weight.detach().norm()))
    assert norms[1] < 0.8 * norms[0]


def test_embedding_init_std_redraws_the_tables(mem_cache, tmp_path: Path, monkeypatch) -> None:
    seen = Scripted([0.5])
    monkeypatch.setattr(_protocol, "_evaluate", seen)
    fit(_model(), mem_cache, recipe=Recipe("adam", 1e-12, embedding_init_std=1e-4),
        protocol=Protocol(max_epochs=1, batch_size=256), out_dir=tmp_path, progress=False)
    assert float(seen.states[0]["emb.weight"].std()) < 2e-4  # tiny lr: still the re-drawn scale


def test_adagrad_recipe_warms_up_in_epoch_one(mem_cache, tmp_path: Path, monkeypatch) -> None:
    lrs: list[float] = []
    real_step = torch.optim.Adagrad.step

    def spy(self, *a, **kw):
        lrs.append(self.param_groups[0]["lr"])
        return real_step(self, *a, **kw)

    monkeypatch.setattr(torch.optim.Adagrad, "step", spy)
    fit(_model(), mem_cache, recipe=Recipe("adagrad", 0.1, warmup=0.5, clip=5.0),
        protocol=Protocol(max_epochs=2, patience=5, batch_size=128), out_dir=tmp_path, progress=False)
    per_epoch = 1024 // 128
    assert lrs[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1]) and lrs[4:per_epoch] == [0.1] * 4
    assert len(lrs) == 2 * per_epoch and lrs[per_epoch] in (0.1, pytest.approx(0.01))  # no warm-up in epoch 2


def test_regret_against_the_cache_oracle(mem_cache, tmp_path: Path) -> None:
    mem_cache.meta = {"oracle": {"test": {"logloss": 0.25, "auc": 0.9}}}
    m = fit(_model(), mem_cache, recipe=ADAM, protocol=Protocol(max_epochs=1, batch_size=256), out_dir=tmp_path,
            progress=False)
    assert m["regret"] == pytest.approx(m["test"]["logloss"] - 0.25) and m["oracle_test_logloss"] == 0.25


def test_bad_settings_are_one_line_errors(mem_cache, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must not include"):
        fit(_model(), mem_cache, recipe=ADAM, out_dir=tmp_path, splits=("train", "val"))
    with pytest.raises(ConfigError, match="must not include"):
        fit(_model(), mem_cache, recipe=ADAM, out_dir=tmp_path, splits=("train", "test"))
    with pytest.raises(ConfigError, match="optimizer"):
        Recipe("sgd")
    with pytest.raises(ConfigError, match="monitor"):
        Protocol(monitor="accuracy")
    with pytest.raises(ConfigError, match="patience"):
        Protocol(patience=0)


def test_a_run_trained_without_test_is_tested_later_without_retraining(mem_cache, tmp_path: Path,
                                                                       monkeypatch) -> None:
    proto = Protocol(max_epochs=2, batch_size=256)
    a = fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path, test=False, progress=False)
    assert "test" not in a and a["evaluated_on"] == "val"
    real = _protocol._train_epoch

    def boom(*a, **kw):
        raise AssertionError("trained again")

    monkeypatch.setattr(_protocol, "_train_epoch", boom)
    b = fit(_model(seed=5), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path, progress=False)
    assert b["val_by_epoch"] == a["val_by_epoch"] and b["evaluated_on"] == "test" and b["test"]["rows"] == 200
    monkeypatch.setattr(_protocol, "_train_epoch", real)
    whole = fit(_model(), mem_cache, recipe=ADAM, protocol=proto, out_dir=tmp_path / "whole", progress=False)
    assert b["test"] == whole["test"]  # the best weights were restored before the late test


def test_auto_recipe_is_nasrec_at_paper_scale_and_adam_on_small_data() -> None:
    from recnas.train import resolve_recipe

    # full Criteo (36.7M train rows, batch 256) and Avazu (32.3M, lr 0.20): the paper's regime
    assert resolve_recipe("auto", 0.16, 36_672_494, 256) == "nasrec"
    assert resolve_recipe("auto", 0.20, 32_343_174, 256) == "nasrec"
    # the demo (64k rows) and a 100k-row sample: a warm-up of a few dozen steps
    assert resolve_recipe("auto", 0.16, 64_000, 512) == "adam"
    assert resolve_recipe("auto", 0.16, 100_000, 256) == "adam"
    assert resolve_recipe("nasrec", 0.16, 64_000, 512) == "nasrec"  # an explicit choice stands
    with pytest.raises(ConfigError, match="unknown searched-model recipe 'sgd'"):
        resolve_recipe("sgd", 0.16, 64_000, 512)


def test_searched_recipes_are_named_and_sourced() -> None:
    from recnas.space import get_space
    from recnas.space import sample_arch
    from recnas.train import searched_recipe

    import random

    class Schema:
        name = "criteo"

    arch = sample_arch(get_space("full"), random.Random(0))
    a, n = searched_recipe(arch, Schema(), kind="adam"), searched_recipe(arch, Schema())
    assert (a.optimizer, a.lr, a.embedding_l2) == ("adam", 1e-3, 1e-5) and "BARS" in a.source
    assert (n.optimizer, n.lr, n.warmup, n.clip) == ("adagrad", 0.16, 0.1, 5.0)
