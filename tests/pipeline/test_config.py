"""Typed config: spec defaults, file:line errors, hints, all errors at once, overrides, presets."""

from __future__ import annotations

from pathlib import Path

import pytest

from recnas.config import (
    RunConfig,
    config_changes,
    dump_config,
    list_presets,
    load_config,
    preset_path,
    to_dict,
)
from recnas.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return p


def test_defaults_are_the_spec_settings() -> None:
    c = load_config(None)
    assert (c.search.population, c.search.sample, c.search.generations, c.search.children) == (
        128,
        64,
        240,
        8,
    )
    assert (c.search.finetune_steps, c.search.finetune_lr, c.search.val_rows) == (
        500,
        0.04,
        1_228_800,
    )
    assert (c.supernet.lr, c.supernet.epochs, c.final.top_k, c.data.cap) == (0.12, 1, 15, 500_000)


def test_unknown_key_names_file_line_and_nearest_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "seed: 1\nsearch:\n  population: 10\n  generatons: 5\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert (
        f"{p}:4" in msg
        and "search.generatons" in msg
        and "did you mean 'search.generations'" in msg
    )


def test_unknown_section_suggests_section(tmp_path: Path) -> None:
    p = _write(tmp_path, "supernett:\n  lr: 0.1\n")
    with pytest.raises(
        ConfigError, match=r"cfg.yaml:1: unknown key 'supernett'; did you mean 'supernet'"
    ):
        load_config(p)


def test_every_error_reported_at_once(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "search:\n  population: -3\n  algo: evolutoin\nsupernet:\n  batch: 0\n"
        "  strategy: 7\nfinal:\n  layernorm: maybe\nbogus: 1\n",
    )
    with pytest.raises(ConfigError) as e:
        load_config(p, ["data.cap=-1"])
    msg = str(e.value)
    assert msg.startswith(f"7 errors in config {p}")
    for needle in (
        f"{p}:2: 'search.population' must be >= 1, got -3",
        f"{p}:3: 'search.algo' must be one of ['evolution', 'random'], got 'evolutoin'; "
        "did you mean 'evolution'?",
        f"{p}:5: 'supernet.batch' must be >= 1, got 0",
        f"{p}:6: 'supernet.strategy' must be a string, got 7",
        f"{p}:8: 'final.layernorm' must be one of",
        "override 'data.cap=-1': 'data.cap' must be >= 2",
    ):
        assert needle in msg, (needle, msg)
    assert f"{p}:9: unknown key 'bogus'; valid keys: name, seed" in msg


def test_cross_field_checks(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(None, ["data.source=prepare", "search.sample=200", "search.algo=random"])
    msg = str(e.value)
    assert "data.source='prepare' needs data.input" in msg
    assert "search.algo='random' needs search.budget" in msg


def test_overrides_are_typed_and_validated() -> None:
    c = load_config(
        None,
        [
            "search.generations=50",
            "supernet.lr=1",
            "data.cap=null",
            "codesign.objectives=[logloss, latency]",
        ],
    )
    assert c.search.generations == 50 and c.supernet.lr == 1.0 and isinstance(c.supernet.lr, float)
    assert c.data.cap is None and c.codesign.objectives == ["logloss", "latency"]
    with pytest.raises(
        ConfigError,
        match=r"override 'search.generatons=5': unknown key "
        r"'search.generatons'; did you mean 'search.generations'",
    ):
        load_config(None, ["search.generatons=5"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(None, ["search.generations"])


def test_override_beats_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "search:\n  generations: 5\n")
    assert load_config(p, ["search.generations=7"]).search.generations == 7


def test_yaml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cfg.yaml:\d+: not valid YAML"):
        load_config(_write(tmp_path, "search:\n  - [unclosed\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_dump_round_trips(tmp_path: Path) -> None:
    c = load_config(None, ["search.generations=3", "final.lr=0.2"])
    p = tmp_path / "resolved.yaml"
    p.write_text(dump_config(c))
    assert load_config(p) == c


def test_config_changes_ignores_resume_free_keys() -> None:
    a = to_dict(RunConfig())
    b = to_dict(load_config(None, ["device=cuda", "search.workers=4", "search.generations=9"]))
    assert config_changes(a, b) == ["search.generations: 240 -> 9"]


def test_every_shipped_preset_loads_and_packaged_copies_match() -> None:
    presets = list_presets()
    names = {p.stem for p in presets}
    assert {"demo", "criteo", "avazu", "kdd", "criteo_sample", "avazu_sample"} <= names
    for p in presets:
        load_config(p)
        repo_copy = REPO / "configs" / p.name
        assert repo_copy.read_text() == p.read_text(), (
            f"configs/{p.name} differs from the packaged copy"
        )
    assert {p.name for p in (REPO / "configs").glob("*.yaml")} == {p.name for p in presets}
    assert preset_path("demo").stem == "demo"
    with pytest.raises(ConfigError, match="no preset"):
        preset_path("nonexistent")


def test_paper_presets_hold_the_paper_settings() -> None:
    kdd = load_config(preset_path("kdd"))
    assert (kdd.supernet.batch, kdd.supernet.warmup, kdd.final.batch) == (1024, 20000, 512)
    avazu = load_config(preset_path("avazu"))
    assert (avazu.final.lr, avazu.supernet.warmup, avazu.search.val_rows) == (
        0.20,
        12500,
        125 * 8192,
    )
