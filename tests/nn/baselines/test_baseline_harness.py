"""train_baseline (epoch selection on val, test once, metrics.json) and compare_run's table, on an
in-memory cache stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.nn.baselines import comparison_table
from recnas.nn.baselines import compare_run
from recnas.nn.baselines import flop_count
from recnas.nn.baselines import train_baseline
from recnas.nn.baselines import _harness
from recnas.runs import RunDir

from _baseline_data import MemCache
from _baseline_data import mem_loader


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> MemCache:
    monkeypatch.setattr(_harness, "make_loader", mem_loader)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield MemCache({"train": 1024, "val": 512, "test": 512})
    torch.set_num_threads(n)


def test_train_baseline_selects_on_val_and_tests_once(cache: MemCache, tmp_path: Path) -> None:
    m = train_baseline(
        "dlrm", cache, out_dir=tmp_path, preset="small", epochs=3, batch_size=64, progress=False
    )
    assert len(m["val_by_epoch"]) == 3 and m["steps"] == 48
    best = min(m["val_by_epoch"], key=lambda r: r["logloss"])
    assert m["best_epoch"] == best["epoch"] and m["val"]["logloss"] == best["logloss"]
    assert (
        m["evaluated_on"] == "val" and m["logloss"] == best["logloss"] and m["test"]["rows"] == 512
    )
    cost = flop_count("dlrm", cache.schema, "small")
    assert (m["flops"], m["params"]) == (cost.flops, cost.params)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    for key in (
        "logloss",
        "auc",
        "flops",
        "macs",
        "params",
        "train_seconds",
        "wall_seconds",
        "samples_per_s",
        "settings",
        "test",
        "val",
    ):
        assert key in saved
    assert m["test"]["auc"] > 0.7  # the planted interaction is learnt within three short epochs


def test_finished_run_is_reused_and_changed_settings_retrain(
    cache: MemCache, tmp_path: Path
) -> None:
    kw = {"out_dir": tmp_path, "preset": "small", "batch_size": 256, "progress": False}
    a = train_baseline("fm", cache, **kw)
    b = train_baseline("fm", cache, **kw)
    assert a == b  # returned from metrics.json, no retraining
    c = train_baseline("fm", cache, lr=0.05, **kw)
    assert c["settings"]["lr"] == 0.05 and c["wall_seconds"] != a["wall_seconds"]


def test_same_seed_same_result(cache: MemCache, tmp_path: Path) -> None:
    kw = {"preset": "small", "batch_size": 128, "max_steps": 5, "progress": False}
    a = train_baseline("deepfm", cache, out_dir=tmp_path / "a", **kw)
    b = train_baseline("deepfm", cache, out_dir=tmp_path / "b", **kw)
    assert a["test"] == b["test"] and a["val"] == b["val"]


def test_bad_splits_are_errors(cache: MemCache, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="also a training split"):
        train_baseline("lr", cache, out_dir=tmp_path, splits=("train", "val"), eval_split="val")
    with pytest.raises(ConfigError, match="test split"):
        train_baseline("lr", cache, out_dir=tmp_path, splits=("train", "test"), eval_split="val")


def _run_dir(tmp_path: Path, *, searched: bool) -> RunDir:
    rd = RunDir(tmp_path / "run")
    rd.root.mkdir()
    rd.data_ref.write_text(json.dumps({"cache": str(tmp_path / "cache")}))
    if searched:
        rd.metrics.write_text(
            json.dumps(
                {
                    "searched": {
                        "test_logloss": 0.30,
                        "test_auc": 0.95,
                        "flops": 123456,
                        "params": 4321,
                        "train_seconds": 9.5,
                        "lr": 0.1,
                        "batch": 128,
                    }
                }
            )
        )
    return rd


def test_compare_run_writes_table_and_json(
    cache: MemCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recnas.data

    monkeypatch.setattr(recnas.data, "open_cache", lambda path: cache, raising=False)
    rd = _run_dir(tmp_path, searched=True)
    out = compare_run(rd.root, models=["lr", "FM"], max_steps=4, progress=False)
    assert out["models"] == ["lr", "fm"]
    for name in ("lr", "fm"):
        m = json.loads((rd.baselines / f"{name}.json").read_text())
        # the searched model's recipe: train+val, its lr and batch, tested once
        assert m["settings"]["splits"] == ["train", "val"] and m["settings"]["lr"] == 0.1
        assert m["settings"]["batch_size"] == 128 and m["evaluated_on"] == "test"
    text = (rd.root / "report_sections" / "50_baselines.md").read_text()
    assert (
        "| **NASRec searched (this run)** | - | 0.3000 | 0.9500 | 0.123 | 4,321 | 9.5 | - |" in text
    )
    assert text.count("\n| ") == 4  # header + searched + two baselines
    assert "BARS" not in text  # the dataset is not Criteo


def test_compare_run_without_data_ref_or_with_unknown_model(
    tmp_path: Path, cache: MemCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recnas.data

    with pytest.raises(RecnasError, match="data.json"):
        compare_run(tmp_path, models=["lr"])
    monkeypatch.setattr(recnas.data, "open_cache", lambda path: cache, raising=False)
    rd = _run_dir(tmp_path, searched=False)
    with pytest.raises(ConfigError, match="valid names"):
        compare_run(rd.root, models=["lr", "nope"])
    assert not rd.baselines.exists()  # nothing trained before the names were checked


def test_comparison_table_sorts_and_computes_gaps() -> None:
    rows = [
        {
            "name": "dlrm",
            "title": "DLRM",
            "preset": "small",
            "test_logloss": 0.45,
            "test_auc": 0.78,
            "flops": 2_000_000,
            "params": 10,
            "seconds": 3.0,
        },
        {
            "name": "searched",
            "title": "S",
            "preset": "-",
            "test_logloss": 0.44,
            "test_auc": 0.79,
            "flops": None,
            "params": None,
            "seconds": None,
        },
        {
            "name": "lr",
            "title": "LR",
            "preset": "small",
            "test_logloss": 0.47,
            "test_auc": 0.75,
            "flops": 26,
            "params": 5,
            "seconds": 1.0,
        },
    ]
    lines = comparison_table(rows, bars=True).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| **S**", "| DLRM", "| LR"]
    assert "+0.0100" in lines[3] and "+0.0300" in lines[4] and "n/a" in lines[2]
    assert lines[4].endswith("0.7934 / 0.4568 |") and lines[3].endswith("- |")
