"""Typed run configuration: dataclasses with the spec's defaults, validated YAML, dotted overrides.

Defaults follow method.md §4.3 (supernet), §5 (scoring), §6 (evolution), §7 (final) and data.md
(protocol, embedding cap). Style example 8: an unknown key names the file, the line and the nearest
valid key; every error is reported at once.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recnas.errors import ConfigError


def _opt(
    default: Any, *, choices: Sequence[Any] | None = None, min: float | None = None, help: str = ""
) -> Any:
    """A dataclass field with validation metadata (allowed choices, lower bound)."""
    meta = {"choices": tuple(choices) if choices else None, "min": min, "help": help}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class DataConfig:
    """Where the data comes from: synthesized, prepared from a raw file, or an existing cache."""

    source: str = _opt("synth", choices=("synth", "prepare", "cache"))
    format: str = _opt("criteo", choices=("criteo", "avazu", "kdd", "table"))
    input: str | None = _opt(None, help="raw file (prepare) or cache directory (cache)")
    profile: str | None = _opt(None, help="KDD 2012 userid_profile.txt (prepare, format kdd)")
    schema: str | None = _opt(None, help="YAML table schema (prepare, format table)")
    protocol: str = _opt("nasrec", choices=("nasrec", "vocab", "ratio"))
    cap: int | None = _opt(
        500_000, min=2, help="embedding rows per field (data.md; null = uncapped)"
    )
    cache_dir: str | None = _opt(
        None, help="where prepare/synth write the cache (default RUN/data)"
    )
    synth_rows: int = _opt(200_000, min=1)
    synth_seed: int = _opt(0)
    synth_table_cap: int = _opt(20_000, min=2, help="distinct values per field of the generator")


@dataclass
class SupernetConfig:
    """Supernet training (method.md §4)."""

    space: str = _opt(
        "full", choices=("small", "full", "nasrec-small", "nasrec-full", "autoctr", "xlarge")
    )
    num_blocks: int = _opt(7, min=1)
    strategy: str = _opt("default", choices=("default", "single_path", "any_path", "full_path"))
    epochs: int = _opt(1, min=1)
    max_steps: int | None = _opt(
        None, min=1, help="stop after this many steps (null = whole epochs)"
    )
    batch: int | None = _opt(None, min=1, help="null = 512 (Criteo, Avazu) or 1024 (KDD)")
    lr: float = _opt(0.12, min=0.0)
    warmup: int | None = _opt(
        None, min=0, help="full-path warm-up steps T (null = dataset default)"
    )
    coin: str = _opt("path", choices=("path", "block"))
    layernorm: bool = _opt(True)
    ckpt_every: int = _opt(1000, min=1)
    seed: int = _opt(0)


@dataclass
class SearchConfig:
    """Candidate scoring (method.md §5) and the search itself (§6)."""

    algo: str = _opt("evolution", choices=("evolution", "random"))
    population: int = _opt(128, min=1)
    sample: int = _opt(64, min=1)
    generations: int = _opt(240, min=0)
    children: int = _opt(8, min=1)
    budget: int | None = _opt(
        None, min=1, help="candidates (null = population + generations x children)"
    )
    finetune_steps: int = _opt(500, min=1)
    finetune_lr: float = _opt(0.04, min=0.0)
    finetune_batch: int | None = _opt(None, min=1, help="null = the supernet batch")
    val_rows: int | None = _opt(1_228_800, min=1, help="fixed val subset (null = whole val split)")
    workers: int = _opt(1, min=1)
    seed: int = _opt(0)


@dataclass
class FinalConfig:
    """Top-k retraining and the final model (method.md §7)."""

    top_k: int = _opt(15, min=1)
    topk_epochs: int = _opt(1, min=1)
    topk_lr: float = _opt(0.12, min=0.0)
    topk_batch: int | None = _opt(None, min=1, help="null = the supernet batch")
    epochs: int = _opt(1, min=1)
    lr: float | None = _opt(None, min=0.0, help="null = spec: Full 0.16 (Avazu 0.20), Small 0.10")
    batch: int | None = _opt(None, min=1, help="null = spec: 256 (Criteo, Avazu), 512 (KDD)")
    max_steps: int | None = _opt(None, min=1, help="cap per training run (null = whole epochs)")
    layernorm: str = _opt("supernet", choices=("supernet", "reference"))
    random_controls: int = _opt(1, min=0, help="random architectures trained with the same recipe")
    seed: int = _opt(0)


@dataclass
class CoDesignConfig:
    """PIM hardware co-search (pim.md); optional stage."""

    enabled: bool = _opt(False)
    mode: str = _opt("pareto", choices=("pareto", "budget"))
    objectives: list[str] = _opt(["logloss", "energy"])
    budgets: dict[str, float] = _opt({}, help="e.g. {energy: 1.0e-6} in budget mode")
    population: int = _opt(32, min=1)
    sample: int = _opt(16, min=1)
    generations: int = _opt(24, min=0)
    children: int = _opt(8, min=1)
    mp_steps: int | None = _opt(None, min=1, help="mixed-precision supernet steps (null = 1/4)")
    beta: float = _opt(1.0, min=0.0, help="budget mode: penalty per unit of relative excess")
    seed: int = _opt(0)


@dataclass
class BaselinesConfig:
    """Hand-crafted baselines trained on the run's data (recnas compare); optional stage."""

    enabled: bool = _opt(False)
    models: list[str] | None = _opt(None, help="null = recnas compare's defaults")
    preset: str = _opt(
        "small", choices=("small", "paper"), help="hyperparameter preset of every model"
    )
    epochs: int | None = _opt(None, min=1, help="null = the run's final.epochs")
    max_steps: int | None = _opt(None, min=1, help="null = the run's final.max_steps")


@dataclass
class RunConfig:
    """One pipeline run: global settings and one section per stage."""

    name: str = _opt("run")
    seed: int = _opt(0)
    device: str = _opt("cpu")
    threads: int | None = _opt(None, min=1, help="torch CPU threads (null = torch's default)")
    out: str | None = _opt(None, help="run directory (null = runs/<name>; --out overrides)")
    progress: bool = _opt(True)
    data: DataConfig = field(default_factory=DataConfig)
    supernet: SupernetConfig = field(default_factory=SupernetConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    final: FinalConfig = field(default_factory=FinalConfig)
    codesign: CoDesignConfig = field(default_factory=CoDesignConfig)
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)


# Keys that may change between a run and its resume (they do not change results).
RESUME_FREE = frozenset({"device", "threads", "out", "progress", "search.workers"})


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a YAML preset (defaults when `path` is None), apply KEY=VALUE overrides, validate.

    Raises ConfigError listing every problem, each with its file:line (or override) and a hint.
    """
    errors: list[str] = []
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    where = "<defaults>"
    if path is not None:
        where = str(path)
        data, lines = _read_yaml(Path(path))
    for text in overrides:
        _apply_override(data, text, errors)
    cfg = _build(RunConfig, data, prefix="", where=where, lines=lines, errors=errors)
    _cross_checks(cfg, where, errors)
    if errors:
        head = f"{len(errors)} error{'s' if len(errors) > 1 else ''} in config {where}"
        raise ConfigError(head + ":\n  " + "\n  ".join(errors))
    return cfg


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The mapping in `path` and the line (1-based) of every dotted key."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        loc = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{loc}: not valid YAML ({getattr(e, 'problem', None) or e})") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}:1: a config must be a mapping of sections, got {type(data).__name__}"
        )
    lines: dict[str, int] = {}
    _index_lines(node, "", lines)
    return data, lines


def _index_lines(node: yaml.Node, prefix: str, out: dict[str, int]) -> None:
    """Record the line of each key of nested mappings as out['a.b'] = line."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        name = f"{prefix}{key.value}"
        out[name] = key.start_mark.line + 1
        _index_lines(value, name + ".", out)


def _apply_override(data: dict[str, Any], text: str, errors: list[str]) -> None:
    """Set data['a']['b'] from 'a.b=value' (the value parsed as YAML: 50, 0.1, null, [a, b])."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        errors.append(f"override {text!r}: expected KEY=VALUE, e.g. search.generations=50")
        return
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    node = data
    parts = key.split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value
    data.setdefault("__overrides__", {})[key] = text


def _loc(where: str, lines: dict[str, int], key: str, overrides: dict[str, str]) -> str:
    for k, text in overrides.items():
        if k == key or k.startswith(key + "."):
            return f"override {text!r}"
    line = lines.get(key)
    return f"{where}:{line}" if line else where


def _build(
    cls: type,
    data: dict[str, Any],
    *,
    prefix: str,
    where: str,
    lines: dict[str, int],
    errors: list[str],
    overrides: dict[str, str] | None = None,
) -> Any:
    """Instantiate dataclass `cls` from `data`, appending one message per problem to `errors`."""
    if overrides is None:
        overrides = data.pop("__overrides__", {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        loc = _loc(where, lines, dotted, overrides)
        if key not in fields:
            errors.append(f"{loc}: unknown key '{dotted}'{_suggest(key, fields, prefix)}")
            continue
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                errors.append(f"{loc}: '{dotted}' must be a mapping (a section), got {value!r}")
                continue
            kwargs[key] = _build(
                hint,
                value,
                prefix=dotted + ".",
                where=where,
                lines=lines,
                errors=errors,
                overrides=overrides,
            )
            continue
        problem = _check_value(value, hint, fields[key].metadata)
        if problem:
            errors.append(f"{loc}: '{dotted}' {problem}")
        else:
            as_float = (
                _base(hint) is float and isinstance(value, int) and not isinstance(value, bool)
            )
            kwargs[key] = float(value) if as_float else value
    return cls(**kwargs)


def _suggest(key: str, fields: dict[str, Any], prefix: str) -> str:
    near = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if near:
        return f"; did you mean '{prefix}{near[0]}'?"
    return f"; valid keys: {', '.join(prefix + k for k in fields)}"


def _base(hint: Any) -> Any:
    """X for `X | None`, else the hint itself."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _check_value(value: Any, hint: Any, meta: Any) -> str | None:
    """Why `value` does not fit type `hint` and the field's metadata, or None if it does."""
    if value is None and type(None) in typing.get_args(hint):
        return None
    hint = _base(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, args[0]) for v in value):
            return f"must be a list of {args[0].__name__}, got {value!r}"
        return None
    if origin is dict:
        if not isinstance(value, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value.values()
        ):
            return f"must be a mapping of numbers, got {value!r}"
        return None
    if hint is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        return f"must be an integer, got {value!r}"
    if hint is float and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f"must be a number, got {value!r}"
    if hint is str and not isinstance(value, str):
        return f"must be a string, got {value!r}"
    choices, low = meta.get("choices"), meta.get("min")
    if choices and value not in choices:
        near = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint_txt = f"; did you mean '{near[0]}'?" if near else ""
        return f"must be one of {list(choices)}, got {value!r}{hint_txt}"
    if low is not None and value < low:
        return f"must be >= {low:g}, got {value!r}"
    return None


def _cross_checks(cfg: RunConfig, where: str, errors: list[str]) -> None:
    """Checks that involve several keys."""
    d = cfg.data
    if d.source in ("prepare", "cache") and not d.input:
        errors.append(
            f"{where}: data.source={d.source!r} needs data.input (the "
            f"{'raw file' if d.source == 'prepare' else 'cache directory'})"
        )
    if d.source == "prepare" and d.format == "table" and not d.schema:
        errors.append(f"{where}: data.format='table' needs data.schema (a YAML table schema)")
    s = cfg.search
    if s.algo == "evolution" and s.sample > s.population:
        errors.append(f"{where}: search.sample={s.sample} exceeds search.population={s.population}")
    if s.algo == "random" and s.budget is None:
        errors.append(f"{where}: search.algo='random' needs search.budget (number of candidates)")
    if cfg.codesign.enabled and "logloss" not in cfg.codesign.objectives:
        errors.append(
            f"{where}: codesign.objectives must include 'logloss', got {cfg.codesign.objectives}"
        )


# --------------------------------------------------------------------------- saving, comparing


def to_dict(cfg: RunConfig) -> dict[str, Any]:
    """The config as plain nested data."""
    return dataclasses.asdict(cfg)


def dump_config(cfg: RunConfig) -> str:
    """The resolved config as YAML (every key, defaults included)."""
    head = "# resolved recnas run config (every key; written by `recnas run`)\n"
    return head + yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=False)


def _sections() -> set[str]:
    hints = typing.get_type_hints(RunConfig)
    return {
        f.name for f in dataclasses.fields(RunConfig) if dataclasses.is_dataclass(hints[f.name])
    }


def flatten(d: dict[str, Any]) -> dict[str, Any]:
    """{'search': {'generations': 1}, 'seed': 0} -> {'search.generations': 1, 'seed': 0} """
    out: dict[str, Any] = {}
    sections = _sections()
    for k, v in d.items():
        if k in sections and isinstance(v, dict):
            out.update({f"{k}.{kk}": vv for kk, vv in v.items()})
        else:
            out[k] = v
    return out


def config_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """'key: old -> new' for every result-relevant key that differs (RESUME_FREE keys ignored)."""
    a, b = flatten(old), flatten(new)
    changes = []
    for key in sorted(set(a) | set(b)):
        if key in RESUME_FREE or a.get(key) == b.get(key):
            continue
        changes.append(f"{key}: {a.get(key)!r} -> {b.get(key)!r}")
    return changes


def list_presets() -> list[Path]:
    """The YAML presets shipped inside the package (recnas/configs/*.yaml)."""
    return sorted((Path(__file__).parent / "configs").glob("*.yaml"))


def preset_path(name: str) -> Path:
    """A shipped preset by name ('demo', 'criteo', ...) or a path to a YAML file."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") and p.is_file():
        return p
    for cand in list_presets():
        if cand.stem == name:
            return cand
    names = [c.stem for c in list_presets()]
    raise ConfigError(
        f"no config file {name!r} and no preset of that name; presets: {', '.join(names)}"
    )
