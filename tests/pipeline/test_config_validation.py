"""Config values validated at load time (issue 12): numbers, devices, objectives, duplicate keys,
relative paths, pre-split data keys and notices for keys a run ignores."""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from pathlib import Path

import pytest
import yaml

from recnas.config import (
    OBJECTIVES,
    DataConfig,
    RunConfig,
    dump_config,
    list_presets,
    load_config,
)
from recnas.errors import ConfigError


def _error(overrides: list[str], path: Path | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        load_config(path, overrides)
    return str(e.value)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "-0.1", "0"])
def test_learning_rate_must_be_finite_and_positive(value: str) -> None:
    msg = _error([f"supernet.lr={value}"])
    assert f"override 'supernet.lr={value}': 'supernet.lr' must be" in msg


def _float_keys(cls: type = RunConfig, prefix: str = "") -> list[str]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        h = hints[f.name]
        if dataclasses.is_dataclass(h):
            out += _float_keys(h, f"{f.name}.")
        elif float in (h, *typing.get_args(h)):
            out.append(prefix + f.name)
    return out


def test_every_float_key_refuses_nan() -> None:
    keys = _float_keys()
    assert len(keys) >= 6  # lrs, beta, max_bad_fraction...
    for key in keys:
        assert f"'{key}' must be" in _error([f"{key}=.nan"]), key


def test_beta_may_be_infinite_but_budgets_may_not() -> None:
    assert math.isinf(load_config(None, ["codesign.beta=.inf"]).codesign.beta)
    msg = _error(["codesign.budgets={energy: .inf}"])
    assert "'codesign.budgets' entry 'energy': must be a finite number" in msg


@pytest.mark.parametrize(
    ("value", "hint"), [("gpu", "cuda"), ("gpu:1", "cuda:1"), ("cpuu", "cpu"), ("CUDA", "cuda")]
)
def test_device_is_validated_with_the_nearest_valid_value(value: str, hint: str) -> None:
    msg = _error([f"device={value}"])
    assert f"must be cpu, cuda, cuda:N or auto, got '{value}'; did you mean '{hint}'?" in msg


@pytest.mark.parametrize("value", ["cpu", "cuda", "cuda:3", "auto"])
def test_valid_devices_load(value: str) -> None:
    assert load_config(None, [f"device={value}"]).device == value


def test_unknown_codesign_objective_is_caught_at_load() -> None:
    msg = _error(["codesign.objectives=[logloss, energi]"])
    assert "'codesign.objectives' item 'energi'" in msg and "did you mean 'energy'?" in msg
    assert "must start with 'logloss'" in _error(["codesign.objectives=[energy, logloss]"])
    assert "budgets' entry 'power': not one of" in _error(["codesign.budgets={power: 1.0}"])


def test_config_objectives_are_the_cosearch_objectives() -> None:
    from recnas.search.cosearch import OBJECTIVES as COSEARCH

    assert tuple(COSEARCH) == OBJECTIVES


def test_duplicate_yaml_keys_name_file_and_both_lines(tmp_path: Path) -> None:
    p = tmp_path / "dup.yaml"
    p.write_text("seed: 1\nsearch:\n  population: 4\n  sample: 2\n  population: 8\nseed: 2\n")
    msg = _error([], p)
    assert f"{p}: duplicate keys:" in msg
    assert "'search.population' on lines 3 and 5" in msg and "'seed' on lines 1 and 6" in msg


def test_an_override_given_twice_keeps_the_last_with_a_notice() -> None:
    c = load_config(None, ["seed=1", "seed=2"])
    assert c.seed == 2
    assert c.notices == ["seed is overridden twice ('seed=1', then 'seed=2'): the last wins"]


def test_negative_seed_and_bad_run_name_are_refused() -> None:
    msg = _error(["search.seed=-1", "name=a/b"])
    assert "'search.seed' must be >= 0, got -1" in msg
    assert "'name' must be letters, digits" in msg


def test_relative_paths_resolve_against_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "proj" / "conf"
    conf.mkdir(parents=True)
    p = conf / "run.yaml"
    p.write_text(
        "data:\n  source: prepare\n  format: table\n  schema: ../schema.yaml\n"
        "  files: {train: ../d/train.csv, val: ../d/val.csv, test: /abs/test.csv}\n"
    )
    monkeypatch.chdir(tmp_path)
    c = load_config(p, ["data.cache_dir=cache"])
    assert c.data.schema == str(tmp_path / "proj" / "schema.yaml")
    assert c.data.files == {
        "train": str(tmp_path / "proj" / "d" / "train.csv"),
        "val": str(tmp_path / "proj" / "d" / "val.csv"),
        "test": "/abs/test.csv",
    }
    assert c.data.cache_dir == str(tmp_path / "cache")  # an override: from the current directory
    assert load_config(p, ["relative_to=cwd"]).data.schema == str(tmp_path.parent / "schema.yaml")


def test_shipped_presets_resolve_from_the_cwd_and_raise_no_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for p in list_presets():
        c = load_config(p)
        assert c.notices == [], (p.name, c.notices)
        raw = (yaml.safe_load(p.read_text()).get("data") or {}).get("input")
        if raw:
            assert c.data.input == os.path.normpath(tmp_path / raw), (p.name, c.data.input)


def test_pre_split_files_need_train_val_and_test() -> None:
    msg = _error(["data.source=prepare", "data.files={train: a.csv, valid: b.csv}"])
    assert "'data.files' needs exactly the keys train, val and test" in msg
    both = ["data.source=prepare", "data.input=x.csv", "data.files={train: a, val: b, test: c}"]
    msg = _error(both)
    assert "data.input and data.files are both set" in msg


def test_resplitting_pre_split_data_is_an_error() -> None:
    files = "data.files={train: a.csv, val: b.csv, test: c.csv}"
    msg = _error(["data.source=prepare", files, "data.ratios=[0.5, 0.25, 0.25]"])
    assert "data.ratios=[0.5, 0.25, 0.25] would re-split data that came pre-split" in msg
    column = ["data.source=prepare", "data.input=x", "data.split_column=s"]
    msg = _error([*column, "data.shuffle=false"])
    assert "data.shuffle=False would re-split data that came pre-split (data.split_column)" in msg
    seeded = ["data.source=prepare", files, "data.split_seed=7"]
    assert "data.split_seed=7 would re-split" in _error(seeded)
    c = load_config(None, ["data.source=prepare", files, "data.protocol=ratio"])
    assert any("keeps the given split of pre-split data" in n for n in c.notices)


def test_ratios_and_split_rows_are_checked() -> None:
    assert "summing to 1" in _error(["data.ratios=[0.8, 0.1, 0.05]"])
    assert "at most one of them -1" in _error(["data.split_rows=[-1, -1, 10]"])
    assert "'data.split_rows' item -2: must be >= -1" in _error(["data.split_rows=[-2, 1, 1]"])


def test_keys_the_source_ignores_give_one_notice_each(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("data:\n  source: cache\n  input: cache\n  protocol: vocab\n  cap: 100\n")
    c = load_config(p, ["search.algo=random", "search.budget=4", "search.generations=3"])
    assert c.notices == [
        "data.cap is ignored: a cache keeps the cap it was prepared with",
        "data.protocol is ignored: a cache keeps the protocol it was prepared with",
        "search.generations is ignored: search.algo is 'random'",
    ]
    text = dump_config(c)
    assert "# notice: data.cap is ignored" in text
    back = tmp_path / "resolved.yaml"
    back.write_text(text)
    assert load_config(back).data.cap == 100  # the resolved config loads again
    assert load_config(None, ["data.cap=100"]).notices == []  # a synth run uses the cap


def test_every_prepare_option_is_reachable_from_a_run_config() -> None:
    from recnas.data import PrepareOptions
    from recnas.pipeline.stages import prepare_options

    d = DataConfig(protocol="vocab", cap=77, min_count=3, split_seed=5, on_bad_row="fail")
    opts = prepare_options(d)
    assert isinstance(opts, PrepareOptions)
    assert (opts.protocol, opts.cap, opts.min_count, opts.seed, opts.on_bad_row) == (
        "vocab",
        77,
        3,
        5,
        "fail",
    )
    assert prepare_options(DataConfig()) == PrepareOptions(cap=DataConfig().cap)


def test_a_run_prints_and_records_notices_and_refuses_a_missing_gpu(tmp_path: Path) -> None:
    from recnas.pipeline import Stage, run_pipeline

    ran: list[str] = []
    stages = (Stage("data", lambda ctx: ran.append("data") or {}),)
    logged: list[str] = []
    cfg = load_config(None, ["data.source=cache", "data.input=c", "data.protocol=vocab"])
    run_pipeline(cfg, out=tmp_path / "run", stages=stages, log=logged.append, report=False)
    note = "data.protocol is ignored: a cache keeps the protocol it was prepared with"
    assert f"notice: {note}" in logged and ran == ["data"]
    assert f"# notice: {note}\n" in (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(ConfigError, match=r"device='cuda:7', but this machine has \d CUDA"):
        run_pipeline(
            load_config(None, ["device=cuda:7"]), out=tmp_path / "r2", stages=stages, report=False
        )
    assert ran == ["data"]


def test_a_saved_config_without_newer_keys_still_resumes() -> None:
    from recnas.config import config_changes, to_dict

    new = to_dict(load_config(None, ["seed=3"]))
    old = {k: v for k, v in new.items() if k != "relative_to"}
    old["data"] = {k: v for k, v in new["data"].items() if k not in ("files", "ratios")}
    assert config_changes(old, new) == []
    old["data"]["cap"] = 7
    assert config_changes(old, new) == ["data.cap: 7 -> 500000"]


def test_an_unknown_baseline_is_caught_at_load() -> None:
    msg = _error(["baselines.models=[dlrm, dcn_v3]"])
    assert "'baselines.models' unknown baseline 'dcn_v3'; valid names:" in msg
    assert load_config(None, ["baselines.models=[DLRM, dcn-v2]"]).baselines.models == [
        "DLRM",
        "dcn-v2",
    ]


def test_final_keys_the_chosen_protocol_does_not_use_get_a_notice() -> None:
    c = load_config(None, ["final.protocol=fair", "final.topk_epochs=2"])
    assert c.notices == [
        "final.topk_epochs is ignored: final.protocol 'fair' trains up to final.max_epochs "
        "with early stopping"
    ]
    c = load_config(None, ["final.protocol=nasrec", "final.patience=3"])
    assert c.notices == ["final.patience is ignored: final.protocol is 'nasrec' and no baselines run"]
    with_baselines = ["final.protocol=nasrec", "baselines.enabled=true", "final.patience=3"]
    assert load_config(None, with_baselines).notices == []  # the baselines train under it


def test_adam_supernet_refuses_an_adagrad_rate_and_recipes_are_named() -> None:
    assert "supernet.lr=0.12 is an Adagrad rate" in _error(["supernet.optimizer=adam"])
    cfg = load_config(None, ["supernet.optimizer=adam", "supernet.lr=0.001", "final.recipe=adam"])
    assert (cfg.supernet.optimizer, cfg.final.recipe) == ("adam", "adam")
    assert "final.recipe" in _error(["final.recipe=sgd"])
