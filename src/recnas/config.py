"""Typed run configuration: dataclasses with the spec's defaults, validated YAML, dotted overrides.

Defaults follow method.md §4.3 (supernet), §5 (scoring), §6 (evolution), §7 (final) and data.md
(protocol, embedding cap). Style example 8: an unknown key names the file, the line and the nearest
valid key; every error is reported at once. Every value is checked when the file is read (types,
finite numbers, bounds, choices, duplicate keys); relative paths are made absolute; keys that the
run would ignore are listed in `RunConfig.notices`.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recnas.errors import ConfigError, RecnasError


def _opt(
    default: Any,
    *,
    choices: Sequence[Any] | None = None,
    min: float | None = None,
    max: float | None = None,
    gt: float | None = None,
    finite: bool = True,
    path: bool = False,
    check: Callable[[Any], str | None] | None = None,
    help: str = "",
) -> Any:
    """A dataclass field with validation metadata, checked by `load_config` at load time.

    `choices` (for a list: of every element), `min`/`max` inclusive bounds, `gt` an exclusive lower
    bound, `finite` refuses nan/inf, `path` resolves a relative path (see `relative_to`), and
    `check(value)` returns why a value is invalid (or None).
    """
    meta = {
        "choices": tuple(choices) if choices else None,
        "min": min,
        "max": max,
        "gt": gt,
        "finite": finite,
        "path": path,
        "check": check,
        "help": help,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SPLITS = ("train", "val", "test")
# co-design objectives (recnas.search.cosearch.OBJECTIVES; a test keeps the two equal)
OBJECTIVES = ("logloss", "flops", "energy", "latency", "area")


def _device(value: Any) -> str | None:
    """Why `value` is not a torch device recnas accepts (cpu, cuda, cuda:N, auto), or None."""
    if DEVICE_RE.match(value):
        return None
    low = value.strip().lower()
    near = (
        re.sub(r"^(gpu|cuda)", "cuda", low)
        if re.match(r"^(gpu|cuda)(:\d+)?$", low)
        else next(iter(difflib.get_close_matches(low, ["cpu", "cuda", "auto"], n=1)), None)
    )
    hint = f"; did you mean '{near}'?" if near else ""
    return f"must be cpu, cuda, cuda:N or auto, got {value!r}{hint}"


def _name(value: Any) -> str | None:
    """Why `value` cannot name a run directory (runs/<name>), or None."""
    if NAME_RE.match(value):
        return None
    return f"must be letters, digits, '.', '_' or '-' (it names runs/<name>), got {value!r}"


def _baselines(value: Any) -> str | None:
    """Why a list of baseline names has an unknown one (checked against the registry), or None."""
    from recnas.nn.baselines import get_baseline  # torch: imported only when the key is set

    for name in value:
        try:
            get_baseline(name)
        except RecnasError as e:
            return str(e)
    return None


def _files(value: Any) -> str | None:
    """Why `value` is not a {train, val, test} mapping of file names, or None."""
    missing = [k for k in SPLITS if k not in value]
    extra = [k for k in value if k not in SPLITS]
    if missing or extra:
        return f"needs exactly the keys train, val and test (missing {missing}, unknown {extra})"
    return None


@dataclass
class DataConfig:
    """Where the data comes from: synthesized, prepared from a raw file, or an existing cache."""

    source: str = _opt("synth", choices=("synth", "prepare", "cache"))
    format: str = _opt("criteo", choices=("criteo", "avazu", "kdd", "table"))
    input: str | None = _opt(None, path=True, help="raw file (prepare) or cache directory (cache)")
    files: dict[str, str] | None = _opt(
        None, path=True, check=_files, help="pre-split raw files {train, val, test} (prepare)"
    )
    profile: str | None = _opt(
        None, path=True, help="KDD 2012 userid_profile.txt (prepare, format kdd)"
    )
    schema: str | None = _opt(None, path=True, help="YAML table schema (prepare, format table)")
    protocol: str = _opt("nasrec", choices=("nasrec", "vocab", "ratio"))
    cap: int | None = _opt(
        500_000, min=2, help="embedding rows per field (data.md; null = uncapped)"
    )
    cache_dir: str | None = _opt(
        None, path=True, help="where prepare/synth write the cache (default RUN/data)"
    )
    # the remaining `recnas prepare` options (PrepareOptions; split_seed is its `seed`)
    split_column: str | None = _opt(
        None, help="column of data.input naming each row's split (train/val/test)"
    )
    ratios: list[float] = _opt(
        [0.8, 0.1, 0.1], min=0.0, help="protocol ratio: train, val, test fractions"
    )
    split_rows: list[int] | None = _opt(
        None, min=-1, help="protocol ratio: exact train, val, test rows (one may be -1: the rest)"
    )
    shuffle: bool = _opt(True, help="protocol ratio: shuffle before splitting")
    split_seed: int = _opt(2018, min=0, help="seed of the split (data.md: 2018)")
    min_count: int = _opt(1, min=1, help="protocol vocab: minimum count to get an index")
    dense_buckets: bool = _opt(False, help="protocol vocab: add bucketed dense fields")
    reference_offbyone: bool = _opt(
        False, help="protocol nasrec: the reference split scripts' one-row shift"
    )
    keep_id: bool | None = _opt(None, help="Avazu: keep the id column (null = no)")
    hour: str | None = _opt(None, choices=("raw", "expand"), help="Avazu: hour column handling")
    max_bad_fraction: float = _opt(0.001, min=0.0, max=1.0, help="fail above this bad-row share")
    on_bad_row: str = _opt("skip", choices=("skip", "fail"))
    synth_rows: int = _opt(200_000, min=1)
    synth_seed: int = _opt(0, min=0)
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
    optimizer: str = _opt(
        "adagrad", choices=("adagrad", "adam"),
        help="adagrad = method.md §4.3; adam = dense Adam + SparseAdam tables, 10% warm-up (set lr)",
    )
    lr: float = _opt(0.12, gt=0.0)
    warmup_slope: float | None = _opt(
        0.12 / 7162, gt=0.0, help="lr gained per warm-up step at most (null = the spec's 10%)"
    )
    warmup: int | None = _opt(
        None, min=0, help="full-path warm-up steps T (null = dataset default)"
    )
    coin: str = _opt("path", choices=("path", "block"))
    layernorm: bool = _opt(True)
    ckpt_every: int = _opt(1000, min=1)
    seed: int = _opt(0, min=0)


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
    finetune_lr: float = _opt(0.04, gt=0.0)
    finetune: str = _opt(
        "head", choices=("head", "path"),
        help="head = method.md §5 (head only, Adagrad finetune_lr); path = blocks and head "
        "(Adam path_lr, embeddings frozen)",
    )
    path_lr: float = _opt(1e-3, gt=0.0, help="Adam rate of finetune: path")
    finetune_batch: int | None = _opt(None, min=1, help="null = the supernet batch")
    val_rows: int | None = _opt(1_228_800, min=1, help="fixed val subset (null = whole val split)")
    workers: int = _opt(1, min=1)
    seed: int = _opt(0, min=0)


@dataclass
class FinalConfig:
    """Top-k retraining and the final model (method.md §7)."""

    top_k: int = _opt(15, min=1)
    topk_epochs: int = _opt(1, min=1)
    topk_lr: float = _opt(0.12, gt=0.0)
    topk_batch: int | None = _opt(None, min=1, help="null = the supernet batch")
    epochs: int = _opt(1, min=1, help="epochs of the nasrec protocol (fair: max_epochs)")
    lr: float | None = _opt(None, gt=0.0, help="null = spec: Full 0.16 (Avazu 0.20), Small 0.10")
    batch: int | None = _opt(None, min=1, help="null = spec: 256 (Criteo, Avazu), 512 (KDD)")
    max_steps: int | None = _opt(None, min=1, help="cap per training run (null = whole epochs)")
    layernorm: str = _opt("supernet", choices=("supernet", "reference"))
    random_controls: int = _opt(1, min=0, help="random architectures trained with the same recipe")
    seed: int = _opt(0, min=0)
    protocol: str = _opt(
        "fair",
        choices=("fair", "nasrec"),
        help="fair: train, best epoch on val, lr decay on plateau, early stopping, test once (BARS); "
        "nasrec: method.md §7 (top-k 1 epoch on train, winner retrained on train+val)",
    )
    max_epochs: int = _opt(50, min=1, help="fair protocol: epoch cap")
    patience: int = _opt(2, min=1, help="fair protocol: epochs without improvement before stopping")
    seeds: int = _opt(1, min=1, help="fair protocol: seeds of the final model and each control")
    recipe: str = _opt(
        "auto",
        choices=("auto", "nasrec", "adam"),
        help="fair protocol: the searched model's recipe; nasrec = method.md §7.3 Adagrad, adam = "
        "the BARS deep-model recipe; auto = nasrec at paper scale, adam on small data "
        "(docs/baselines.md)",
    )


@dataclass
class CoDesignConfig:
    """PIM hardware co-search (pim.md); optional stage."""

    enabled: bool = _opt(False)
    mode: str = _opt("pareto", choices=("pareto", "budget"))
    objectives: list[str] = _opt(["logloss", "energy"], choices=OBJECTIVES)
    budgets: dict[str, float] = _opt(
        {},
        gt=0.0,
        choices=OBJECTIVES,
        help="e.g. {energy: 1.0e-6} in budget mode (keys: objectives)",
    )
    population: int = _opt(32, min=1)
    sample: int = _opt(16, min=1)
    generations: int = _opt(24, min=0)
    children: int = _opt(8, min=1)
    mp_steps: int | None = _opt(None, min=1, help="mixed-precision supernet steps (null = 1/2)")
    beta: float = _opt(
        1.0,
        min=0.0,
        finite=False,
        help="budget mode: penalty per unit of relative excess (.inf: reject)",
    )
    chip_factor: float = _opt(2.0, min=1.0, help="iso-area chip as a multiple of the reference's area")
    retrain_seeds: int = _opt(3, min=0, help="standalone retraining seeds of pick and reference (0: skip)")
    retrain_epochs: int = _opt(1, min=1, help="epochs of each standalone retraining")
    seed: int = _opt(0, min=0)


@dataclass
class BaselinesConfig:
    """Hand-crafted baselines trained on the run's data (recnas compare); optional stage."""

    enabled: bool = _opt(False)
    models: list[str] | None = _opt(
        None, check=_baselines, help="null = recnas compare's defaults"
    )
    preset: str = _opt(
        "small", choices=("small", "paper"), help="hyperparameter preset of every model"
    )
    seeds: int | None = _opt(None, min=1, help="seeds per model (null = final.seeds)")


@dataclass
class RunConfig:
    """One pipeline run: global settings and one section per stage."""

    name: str = _opt("run", check=_name)
    seed: int = _opt(0, min=0)
    device: str = _opt("cpu", check=_device, help="cpu, cuda, cuda:N or auto (cuda if available)")
    threads: int | None = _opt(None, min=1, help="torch CPU threads (null = torch's default)")
    out: str | None = _opt(
        None, path=True, help="run directory (null = runs/<name>; --out overrides)"
    )
    relative_to: str = _opt(
        "config",
        choices=("config", "cwd"),
        help="relative paths in the file: from the config file's folder, or the current one",
    )
    progress: bool = _opt(True)
    data: DataConfig = field(default_factory=DataConfig)
    supernet: SupernetConfig = field(default_factory=SupernetConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    final: FinalConfig = field(default_factory=FinalConfig)
    codesign: CoDesignConfig = field(default_factory=CoDesignConfig)
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)
    # one line per set key that this run ignores (filled by load_config; not a YAML key)
    notices: list[str] = field(default_factory=list, init=False, compare=False, repr=False)


# Keys that may change between a run and its resume (they do not change results).
RESUME_FREE = frozenset(
    {"device", "threads", "out", "progress", "search.workers", "relative_to"}
)


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a YAML preset (defaults when `path` is None), apply KEY=VALUE overrides, validate.

    Raises ConfigError listing every problem, each with its file:line (or override) and a hint.
    Relative paths are made absolute (see `relative_to`); `cfg.notices` lists set keys this run
    ignores.
    """
    errors: list[str] = []
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    where = "<defaults>"
    if path is not None:
        where = str(path)
        data, lines = _read_yaml(Path(path))
    explicit = set(lines)
    given: dict[str, str] = {}
    repeated: list[str] = []  # a key overridden twice: the last value wins, with a notice
    for text in overrides:
        _apply_override(data, text, errors, given, repeated)
    explicit |= set(given)
    cfg = _build(
        RunConfig, data, prefix="", where=where, lines=lines, errors=errors, overrides=given
    )
    from_file = Path(path).resolve().parent if path is not None else Path.cwd()
    _resolve_paths(cfg, "", from_file if cfg.relative_to == "config" else Path.cwd(), given)
    _cross_checks(cfg, where, errors)
    if errors:
        head = f"{len(errors)} error{'s' if len(errors) > 1 else ''} in config {where}"
        raise ConfigError(head + ":\n  " + "\n  ".join(errors))
    cfg.notices = repeated + config_notices(cfg, explicit)
    return cfg


def _read_yaml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The mapping in `path` and the line (1-based) of every dotted key; duplicate keys refused."""
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
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
    dups: list[str] = []
    _index_lines(node, "", lines, dups)
    if dups:
        plural = "s" if len(dups) > 1 else ""
        raise ConfigError(f"{path}: duplicate key{plural}: " + "; ".join(dups))
    return data, lines


def _index_lines(node: yaml.Node, prefix: str, out: dict[str, int], dups: list[str]) -> None:
    """Record the line of each key of nested mappings as out['a.b'] = line; note duplicates."""
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for key, value in node.value:
        name = f"{prefix}{key.value}"
        line = key.start_mark.line + 1
        if name in seen:
            # YAML would silently keep the last value
            dups.append(f"'{name}' on lines {seen[name]} and {line}")
        seen[name] = line
        out[name] = line
        _index_lines(value, name + ".", out, dups)


def _apply_override(
    data: dict[str, Any],
    text: str,
    errors: list[str],
    given: dict[str, str],
    repeated: list[str],
) -> None:
    """Set data['a']['b'] from 'a.b=value' (the value parsed as YAML: 50, 0.1, null, [a, b])."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        errors.append(f"override {text!r}: expected KEY=VALUE, e.g. search.generations=50")
        return
    if key in given:
        repeated.append(f"{key} is overridden twice ({given[key]!r}, then {text!r}): the last wins")
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
    given[key] = text


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
    overrides: dict[str, str],
) -> Any:
    """Instantiate dataclass `cls` from `data`, appending one message per problem to `errors`."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        loc = _loc(where, lines, dotted, overrides)
        if key not in fields:
            errors.append(f"{loc}: unknown key '{dotted}'{_suggest(str(key), fields, prefix)}")
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
            kwargs[key] = _as_hint(value, _base(hint))
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


def _as_hint(value: Any, hint: Any) -> Any:
    """An int given for a float field (or list/dict element) as a float; lists copied."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if value is None:
        return None
    if origin is list:
        return [_as_hint(v, args[0]) for v in value]
    if origin is dict:
        return {k: _as_hint(v, args[1]) for k, v in value.items()}
    return float(value) if hint is float else value


def _check_value(value: Any, hint: Any, meta: Any) -> str | None:
    """Why `value` does not fit type `hint` and the field's metadata, or None if it does."""
    if value is None and type(None) in typing.get_args(hint):
        return None
    hint = _base(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list:
        if not isinstance(value, list):
            return f"must be a list of {args[0].__name__}, got {value!r}"
        for v in value:
            problem = _check_scalar(v, args[0], meta)
            if problem:
                return f"item {v!r}: {problem}"
    elif origin is dict:
        if not isinstance(value, dict):
            return f"must be a mapping of {args[1].__name__}, got {value!r}"
        for k, v in value.items():
            problem = _check_scalar(v, args[1], {**meta, "choices": None})
            if problem:
                return f"entry {k!r}: {problem}"
            if meta.get("choices") and k not in meta["choices"]:
                return f"entry {k!r}: not one of {list(meta['choices'])}"
    else:
        problem = _check_scalar(value, hint, meta)
        if problem:
            return problem
    check = meta.get("check")
    return check(value) if check is not None else None


def _check_scalar(value: Any, hint: Any, meta: Any) -> str | None:
    """Why one scalar does not fit `hint` (int, float, str, bool) and the bounds in `meta`."""
    if hint is bool:
        return None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        return f"must be an integer, got {value!r}"
    if hint is float and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        return f"must be a number, got {value!r}"
    if hint is str and not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if hint is float and meta.get("finite", True) and not math.isfinite(value):
        return f"must be a finite number, got {value!r}"
    if hint is float and math.isnan(value):  # finite=False allows inf, never nan
        return f"must be a number, got {value!r}"
    choices = meta.get("choices")
    if choices and value not in choices:
        near = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint_txt = f"; did you mean '{near[0]}'?" if near else ""
        return f"must be one of {list(choices)}, got {value!r}{hint_txt}"
    if hint in (int, float):
        low, high, gt = meta.get("min"), meta.get("max"), meta.get("gt")
        if low is not None and value < low:
            return f"must be >= {low:g}, got {value!r}"
        if high is not None and value > high:
            return f"must be <= {high:g}, got {value!r}"
        if gt is not None and not value > gt:
            return f"must be > {gt:g}, got {value!r}"
    return None


def _resolve_paths(obj: Any, prefix: str, base: Path, given: dict[str, str]) -> None:
    """Make the relative paths of `path` fields absolute: overrides from the current directory,
    keys of the file from `base` (the config file's folder, or the cwd with relative_to: cwd)."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        dotted = prefix + f.name
        if dataclasses.is_dataclass(value):
            _resolve_paths(value, dotted + ".", base, given)
        elif f.metadata.get("path") and value is not None:
            root = Path.cwd() if any(k.startswith(dotted) for k in given) else base
            setattr(obj, f.name, _absolute(value, root))


def _absolute(value: Any, root: Path) -> Any:
    """`value` (a path, or a mapping of paths) joined to `root` unless already absolute."""
    if isinstance(value, dict):
        return {k: _absolute(v, root) for k, v in value.items()}
    return os.path.normpath(root / Path(value).expanduser())


def _cross_checks(cfg: RunConfig, where: str, errors: list[str]) -> None:
    """Checks that involve several keys."""
    d = cfg.data
    if d.source == "cache" and not d.input:
        errors.append(f"{where}: data.source='cache' needs data.input (the cache directory)")
    if d.source == "prepare" and not d.input and not d.files:
        errors.append(
            f"{where}: data.source='prepare' needs data.input (one raw file) or data.files "
            f"(pre-split train, val and test files)"
        )
    if d.source == "prepare" and d.input and d.files:
        errors.append(f"{where}: data.input and data.files are both set; give one of them")
    if d.source == "prepare" and d.format == "table" and not d.schema:
        errors.append(f"{where}: data.format='table' needs data.schema (a YAML table schema)")
    if d.files and d.split_column:
        errors.append(f"{where}: data.split_column names the split inside data.input; "
                      "pre-split data.files already have theirs")
    if len(d.ratios) != 3 or abs(sum(d.ratios) - 1.0) > 1e-9:
        errors.append(
            f"{where}: data.ratios must be three fractions (train, val, test) summing to 1, "
            f"got {d.ratios}; give exact rows in data.split_rows instead"
        )
    if d.split_rows is not None and (len(d.split_rows) != 3 or d.split_rows.count(-1) > 1):
        errors.append(
            f"{where}: data.split_rows must be three row counts (train, val, test), at most one "
            f"of them -1 (the rest), got {d.split_rows}"
        )
    errors.extend(f"{where}: {e}" for e in _resplit_errors(d))
    sn = cfg.supernet
    if sn.optimizer == "adam" and sn.lr > 0.01:
        errors.append(f"{where}: supernet.lr={sn.lr} is an Adagrad rate; supernet.optimizer='adam' "
                      f"needs an Adam rate such as 0.001")
    s = cfg.search
    if s.algo == "evolution" and s.sample > s.population:
        errors.append(f"{where}: search.sample={s.sample} exceeds search.population={s.population}")
    if s.algo == "random" and s.budget is None:
        errors.append(f"{where}: search.algo='random' needs search.budget (number of candidates)")
    c = cfg.codesign
    if c.objectives[:1] != ["logloss"] or len(set(c.objectives)) != len(c.objectives):
        errors.append(
            f"{where}: codesign.objectives must start with 'logloss' and name each objective "
            f"once, got {c.objectives}"
        )
    if "logloss" in c.budgets:
        errors.append(f"{where}: codesign.budgets cannot bound 'logloss' (the objective it trades)")
    if c.mode == "budget" and not c.budgets:
        errors.append(
            f"{where}: codesign.mode='budget' needs codesign.budgets, e.g. {{energy: 1.0e-6}}"
        )


def _resplit_errors(d: DataConfig) -> list[str]:
    """Split settings that would re-split data that came pre-split (data.files or split_column)."""
    if not (d.files or d.split_column):
        return []
    default = DataConfig()
    bad = [
        f"data.{k}={getattr(d, k)!r}"
        for k in ("ratios", "shuffle", "split_seed", "split_rows", "reference_offbyone")
        if getattr(d, k) != getattr(default, k)
    ]
    if not bad:
        return []
    given = "data.files" if d.files else "data.split_column"
    return [f"{', '.join(bad)} would re-split data that came pre-split ({given}); remove it"]


def _prepare(c: RunConfig) -> bool:
    return c.data.source == "prepare"


def _prepare_with(key: str, value: str) -> Callable[[RunConfig], bool]:
    """Used when the data is prepared from raw files and data.<key> is `value`."""
    return lambda c: _prepare(c) and getattr(c.data, key) == value


# key -> (is it used by this config?, why not); a key set but unused gets a notice
_USED: dict[str, tuple[Callable[[RunConfig], bool], str]] = {
    "data.protocol": (
        lambda c: c.data.source != "cache", "a cache keeps the protocol it was prepared with"
    ),
    "data.cap": (lambda c: c.data.source != "cache", "a cache keeps the cap it was prepared with"),
    "data.input": (lambda c: c.data.source != "synth", "data.source 'synth' generates its data"),
    "data.cache_dir": (
        lambda c: c.data.source != "cache", "data.source 'cache' reads the cache in data.input"
    ),
    "data.profile": (_prepare_with("format", "kdd"), "only prepared KDD data joins a profile"),
    "data.schema": (_prepare_with("format", "table"), "only prepared tables read a schema"),
    "data.ratios": (_prepare_with("protocol", "ratio"), "only protocol 'ratio' splits by share"),
    "data.min_count": (_prepare_with("protocol", "vocab"), "only protocol 'vocab' counts ids"),
    "data.keep_id": (_prepare_with("format", "avazu"), "only Avazu data has these columns"),
    "data.files": (_prepare, "only data.source 'prepare' reads raw files"),
    "data.synth_rows": (lambda c: c.data.source == "synth", "data.source is not 'synth'"),
    "search.population": (lambda c: c.search.algo == "evolution", "search.algo is 'random'"),
    "final.epochs": (
        lambda c: c.final.protocol == "nasrec",
        "final.protocol 'fair' trains up to final.max_epochs with early stopping",
    ),
    "final.max_epochs": (
        lambda c: c.final.protocol == "fair" or c.baselines.enabled,
        "final.protocol is 'nasrec' and no baselines run",
    ),
    "codesign.budgets": (
        lambda c: c.codesign.enabled and c.codesign.mode == "budget",
        "codesign is not enabled in mode 'budget'",
    ),
}
for _key, _like in (
    ("data.shuffle", "data.ratios"),
    ("data.split_rows", "data.ratios"),
    ("data.dense_buckets", "data.min_count"),
    ("data.hour", "data.keep_id"),
    ("data.split_column", "data.files"),
    ("data.split_seed", "data.files"),
    ("data.reference_offbyone", "data.files"),
    ("data.max_bad_fraction", "data.files"),
    ("data.on_bad_row", "data.files"),
    ("data.synth_seed", "data.synth_rows"),
    ("data.synth_table_cap", "data.synth_rows"),
    ("search.sample", "search.population"),
    ("search.generations", "search.population"),
    ("search.children", "search.population"),
    ("codesign.beta", "codesign.budgets"),
    ("final.topk_epochs", "final.epochs"),
    ("final.topk_lr", "final.epochs"),
    ("final.topk_batch", "final.epochs"),
    ("final.max_steps", "final.epochs"),
    ("final.patience", "final.max_epochs"),
    ("final.seeds", "final.max_epochs"),
):
    _USED[_key] = _USED[_like]


def _enabled(section: str) -> Callable[[RunConfig], bool]:
    return lambda c: bool(getattr(c, section).enabled)


for _section in ("codesign", "baselines"):
    for _f in dataclasses.fields(typing.get_type_hints(RunConfig)[_section]):
        if _f.name != "enabled":
            _USED.setdefault(
                f"{_section}.{_f.name}", (_enabled(_section), f"{_section}.enabled is false")
            )


def config_notices(cfg: RunConfig, explicit: set[str]) -> list[str]:
    """One line per reason: the keys the config sets (`explicit`) that this run does not use."""
    by_reason: dict[str, list[str]] = {}
    for key in sorted(explicit):
        used = _USED.get(key)
        if used is not None and not used[0](cfg):
            by_reason.setdefault(used[1], []).append(key)
    notes = [
        f"{', '.join(keys)} {'is' if len(keys) == 1 else 'are'} ignored: {reason}"
        for reason, keys in by_reason.items()
    ]
    if cfg.data.protocol == "ratio" and (cfg.data.files or cfg.data.split_column):
        notes.append(
            "data.protocol 'ratio' keeps the given split of pre-split data; only its hashing "
            "encoding applies"
        )
    return notes


# --------------------------------------------------------------------------- saving, comparing


def to_dict(cfg: RunConfig) -> dict[str, Any]:
    """The config as plain nested data (the YAML keys; `notices` is not one)."""
    d = dataclasses.asdict(cfg)
    d.pop("notices", None)
    return d


def dump_config(cfg: RunConfig) -> str:
    """The resolved config as YAML (every key, defaults included; notices as comments on top)."""
    head = "# resolved recnas run config (every key; written by `recnas run`)\n"
    head += "".join(f"# notice: {n}\n" for n in cfg.notices)
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
    """'key: old -> new' for every result-relevant key that differs (RESUME_FREE keys ignored).

    A key missing from `old` (a config saved before the key existed) counts as its default."""
    defaults = flatten(to_dict(RunConfig()))
    a, b = {**defaults, **flatten(old)}, flatten(new)
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
