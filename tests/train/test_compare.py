"""Baselines under the fair protocol (BARS recipes), seed statistics, and compare_run's table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.nn.baselines import flop_count
from recnas.nn.baselines import list_baselines
from recnas.runs import RunDir
from recnas.train import BASELINE_RECIPES
from recnas.train import Protocol
from recnas.train import baseline_recipe
from recnas.train import compare_run
from recnas.train import comparison_table
from recnas.train import seed_stats
from recnas.train import train_baseline
from recnas.train._compare import significance

QUICK = Protocol(max_epochs=2, batch_size=256)


def test_every_baseline_has_a_sourced_recipe() -> None:
    assert sorted(BASELINE_RECIPES) == list_baselines()
    for name, r in BASELINE_RECIPES.items():
        assert r.optimizer == "adam" and r.lr == 1e-3 and "reczoo/BARS" in r.source, name
        assert r.embedding_init_std is None  # every model keeps its own initialisation
    assert BASELINE_RECIPES["lr"].embedding_l2 == 0.0 and BASELINE_RECIPES["dlrm"].embedding_l2 == 1e-5
    assert baseline_recipe("DCN-V2", lr=0.01).lr == 0.01 and baseline_recipe("dcnv2").lr == 1e-3


def test_train_baseline_metrics_and_cost(mem_cache, tmp_path: Path) -> None:
    m = train_baseline("dlrm", mem_cache, out_dir=tmp_path, preset="small", protocol=QUICK, progress=False)
    cost = flop_count("dlrm", mem_cache.schema, "small")
    assert (m["flops"], m["params"], m["model"], m["preset"]) == (cost.flops, cost.params, "dlrm", "small")
    assert m["settings"]["recipe"]["source"] == BASELINE_RECIPES["dlrm"].source
    assert m["test"]["rows"] == 200 and m["evaluated_on"] == "test" and len(m["val_by_epoch"]) == m["epochs_run"]
    assert json.loads((tmp_path / "metrics.json").read_text())["wall_seconds"] == m["wall_seconds"]


def test_seed_stats_and_significance() -> None:
    s = seed_stats([1.0, 2.0, 3.0])
    assert (s["n"], s["mean"], s["std"]) == (3, 2.0, 1.0) and s["se"] == pytest.approx(1 / math.sqrt(3))
    assert seed_stats([0.4]) == {"n": 1, "mean": 0.4, "std": None, "se": None}
    a = {"test_logloss": 0.40, "test_logloss_se": 0.002}
    assert significance(a, {"test_logloss": 0.41, "test_logloss_se": 0.002}) == "better"  # 0.01 > 2 * 0.0028
    assert significance(a, {"test_logloss": 0.404, "test_logloss_se": 0.002}) == "tie"
    assert significance(a, {"test_logloss": 0.39, "test_logloss_se": 0.001}) == "worse"
    assert significance(a, {"test_logloss": 0.5, "test_logloss_se": None}) == "n/a"


def _run_dir(tmp_path: Path, *, searched: bool) -> RunDir:
    rd = RunDir(tmp_path / "run")
    rd.root.mkdir()
    rd.data_ref.write_text(json.dumps({"cache": str(tmp_path / "cache")}))
    if searched:
        rd.metrics.write_text(json.dumps({"searched": {
            "test_logloss": 0.30, "test_logloss_std": 0.01, "test_logloss_se": 0.005, "test_auc": 0.95,
            "test_auc_std": 0.002, "regret": 0.05, "seeds": 3, "flops": 123456, "params": 4321,
            "train_seconds": 9.5, "protocol": {"max_epochs": 2, "patience": 1, "batch_size": 256},
            "recipe_source": "BARS deep-model recipe (Adam 1e-3)"}}))
    return rd


def test_compare_run_seeds_table_and_json(mem_cache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import recnas.data

    monkeypatch.setattr(recnas.data, "open_cache", lambda path: mem_cache, raising=False)
    mem_cache.meta = {"oracle": {"test": {"logloss": 0.25, "auc": 0.9, "base_logloss": 0.6}}}
    rd = _run_dir(tmp_path, searched=True)
    out = compare_run(rd.root, models=["lr", "FM"], seeds=2, protocol=QUICK, progress=False)
    assert out["models"] == ["lr", "fm"] and out["rows"] == 3
    for name in ("lr", "fm"):
        row = json.loads((rd.baselines / f"{name}.json").read_text())
        per = [json.loads((rd.baselines / name / f"seed-{s}" / "metrics.json").read_text()) for s in (0, 1)]
        lls = [p["test"]["logloss"] for p in per]
        assert row["seeds"] == 2 and row["test_logloss"] == pytest.approx(sum(lls) / 2)
        assert row["test_logloss_std"] == pytest.approx(abs(lls[0] - lls[1]) / math.sqrt(2))
        assert row["regret"] == pytest.approx(row["test_logloss"] - 0.25)
    text = (rd.report_sections / "50_baselines.md").read_text()
    assert "| **NASRec searched (this run)** | - | 3 | 0.3000 ± 0.0100 | 0.0050 | 0.0500 | 0.9500 ± 0.0020 |" in text
    assert text.count("\n| ") == 4 and "Bayes-optimal 0.2500" in text and "BARS" in text  # Criteo-named
    assert "the searched model: BARS deep-model recipe (Adam 1e-3))" in text  # the recipe it ran
    doc = json.loads((rd.baselines / "comparison.json").read_text())
    assert doc["seeds"] == 2 and [r["name"] for r in doc["rows"]] == ["searched", "lr", "fm"]


def test_compare_run_without_data_ref_or_with_unknown_model(
    tmp_path: Path, mem_cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import recnas.data

    with pytest.raises(RecnasError, match="data.json"):
        compare_run(tmp_path, models=["lr"])
    monkeypatch.setattr(recnas.data, "open_cache", lambda path: mem_cache, raising=False)
    rd = _run_dir(tmp_path, searched=False)
    with pytest.raises(ConfigError, match="valid names"):
        compare_run(rd.root, models=["lr", "nope"])
    assert not rd.baselines.exists()  # nothing trained before the names were checked


def test_comparison_table_sorts_and_marks_2se_wins() -> None:
    base = {"preset": "small", "flops": 26, "params": 5, "train_seconds": 1.0, "seeds": 3, "regret": 0.1}
    rows = [
        {**base, "name": "dlrm", "title": "DLRM", "test_logloss": 0.45, "test_logloss_std": 0.002,
         "test_logloss_se": 0.001, "test_auc": 0.78},
        {**base, "name": "searched", "title": "S", "preset": "-", "test_logloss": 0.44, "test_logloss_std": 0.002,
         "test_logloss_se": 0.001, "test_auc": 0.79, "flops": None, "params": None},
        {**base, "name": "lr", "title": "LR", "test_logloss": 0.441, "test_logloss_std": 0.002,
         "test_logloss_se": 0.001, "test_auc": 0.75},
    ]
    lines = comparison_table(rows, bars=True).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| **S**", "| LR", "| DLRM"]
    assert "-0.0010 (tie)" in lines[3] and "-0.0100 (better)" in lines[4] and "n/a" in lines[2]
    assert lines[3].endswith("0.7934 / 0.4568 |") and lines[4].endswith("- |")


def test_run_protocol_follows_the_searched_model(tmp_path: Path) -> None:
    from recnas.train._compare import run_protocol

    rd = _run_dir(tmp_path, searched=True)
    proto, seeds = run_protocol(rd.root)
    assert (proto.max_epochs, proto.patience, proto.batch_size, seeds) == (2, 1, 256, 1)
    proto, seeds = run_protocol(rd.root, max_epochs=7, seeds=3)
    assert (proto.max_epochs, seeds) == (7, 3)
