"""Column layouts of the raw formats: Criteo, Avazu, KDD 2012 and YAML-described tables (data.md §1, §2.2).

A `FormatPlan` says which raw columns are read and how each becomes a label, a dense value or a
categorical raw id; `_reader.py` executes it chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import yaml

from recnas.data.schema import AVAZU_FIELDS
from recnas.data.schema import AVAZU_TABLE_SIZES
from recnas.data.schema import CRITEO_TABLE_SIZES
from recnas.data.schema import KDD_DENSE
from recnas.data.schema import KDD_FIELDS
from recnas.data.schema import KDD_TABLE_SIZES
from recnas.errors import ConfigError
from recnas.errors import DataError

FORMATS = ("criteo", "avazu", "kdd", "table")
AVAZU_COLUMNS = ("id", "click", "hour") + AVAZU_FIELDS[2:]
KDD_COLUMNS = ("Click", "Impression", "DisplayURL", "AdID", "AdvertiserID", "Depth", "Position",
               "QueryID", "KeywordID", "TitleID", "DescriptionID", "UserID")


@dataclass(frozen=True)
class SparseCol:
    """One output categorical field: its name, the raw column it comes from and how it is parsed.

    kind: 'hex32' (Criteo 8-hex ids), 'int_mod' (decimal else hex, mod 2^31-1), 'auto' (int_mod,
    other strings hashed), 'hour_of_day' / 'weekday' (from Avazu YYMMDDHH), 'join' (KDD profile).
    """

    name: str
    source: str
    kind: str
    table_size: int


@dataclass
class FormatPlan:
    """Everything the reader needs to turn one raw file into label/dense/categorical columns."""

    name: str
    file_format: str  # 'csv' or 'parquet'
    delimiter: str
    header: bool
    columns: tuple[str, ...] | None  # names when the file has no header
    label: str
    label_kind: str  # '01' or 'count'
    dense: tuple[str, ...]
    sparse: tuple[SparseCol, ...]
    quoted: bool = False
    const_dense: tuple[str, ...] = ()  # dense columns not in the file (Avazu's pseudo-dense -1)
    profile: Path | None = None  # KDD userid_profile.txt
    extra: dict[str, Any] = field(default_factory=dict)
    split_column: str | None = None  # column naming each row's split (train/val/test), if any

    @property
    def dense_names(self) -> tuple[str, ...]:
        """Output dense feature names, file columns first."""
        return self.dense + self.const_dense

    @property
    def needed(self) -> tuple[str, ...]:
        """Raw columns the reader must parse."""
        cols = [self.label, *self.dense] + [s.source for s in self.sparse if s.kind != "join"]
        if self.split_column is not None:
            cols.append(self.split_column)
        return tuple(dict.fromkeys(cols))

    @property
    def label_rule(self) -> str:
        """What a valid label of this format looks like (for error messages)."""
        if self.label_kind == "01":
            return "label must be 0 or 1"
        return "label must be a click count (an integer >= 0)"

    def with_split_column(self, column: str) -> "FormatPlan":
        """This plan, also reading each row's split from `column` (formats with a header only)."""
        if not self.header and self.file_format != "parquet":
            raise ConfigError(f"--split-column: {self.name} files have fixed columns and no header, so they "
                              "cannot carry a split column; give --train/--val/--test files instead")
        if column == self.label or column in self.dense or any(s.source == column for s in self.sparse):
            raise ConfigError(f"--split-column {column!r} is also used as a label or feature column")
        from dataclasses import replace

        return replace(self, split_column=column)


def criteo_plan() -> FormatPlan:
    """Kaggle DAC train.txt: TSV, no header, label, I1-I13, C1-C26 (8-hex)."""
    dense = tuple(f"I{i}" for i in range(1, 14))
    cats = tuple(f"C{i}" for i in range(1, 27))
    sparse = tuple(SparseCol(c, c, "hex32", n) for c, n in zip(cats, CRITEO_TABLE_SIZES))
    return FormatPlan("criteo", "csv", "\t", False, ("label",) + dense + cats, "label", "01",
                      dense, sparse)


def avazu_plan(*, keep_id: bool, hour: str) -> FormatPlan:
    """Kaggle Avazu train.csv: CSV with header; `hour` 'raw' (reference) or 'expand' (hour, weekday)."""
    if hour not in ("raw", "expand"):
        raise ConfigError(f"avazu hour must be 'raw' or 'expand', got {hour!r}")
    sizes = dict(zip(AVAZU_FIELDS, AVAZU_TABLE_SIZES))
    sparse: list[SparseCol] = []
    if keep_id:
        sparse.append(SparseCol("id", "id", "int_mod", sizes["id"]))
    if hour == "raw":
        sparse.append(SparseCol("hour", "hour", "int_mod", sizes["hour"]))
    else:
        sparse += [SparseCol("hour_of_day", "hour", "hour_of_day", 25),
                   SparseCol("weekday", "hour", "weekday", 8)]
    sparse += [SparseCol(c, c, "int_mod", sizes[c]) for c in AVAZU_FIELDS[2:]]
    return FormatPlan("avazu", "csv", ",", True, None, "click", "01", (), tuple(sparse),
                      const_dense=("dense0",), extra={"keep_id": keep_id, "hour": hour})


def kdd_plan(profile: Path | None) -> FormatPlan:
    """KDD Cup 2012 track 2 training.txt joined with userid_profile.txt (Gender, Age)."""
    sizes = dict(zip(KDD_FIELDS, KDD_TABLE_SIZES))
    sparse = [SparseCol(c, c, "int_mod", sizes[c]) for c in KDD_FIELDS[:8]]
    sparse += [SparseCol("Gender", "UserID", "join", sizes["Gender"]),
               SparseCol("Age", "UserID", "join", sizes["Age"])]
    return FormatPlan("kdd12", "csv", "\t", False, KDD_COLUMNS, "Click", "count", KDD_DENSE,
                      tuple(sparse), profile=profile)


def table_plan(schema_path: Path, data_path: Path) -> FormatPlan:
    """A CSV/TSV/Parquet table described by a small YAML schema (see docs/data.md)."""
    spec, lines = _load_schema(schema_path)

    def where(*key: str) -> str:
        return f"{schema_path}:{lines.get(key, lines.get(key[:1], 1))}: {'.'.join(key)}"

    known = {"name", "format", "separator", "header", "columns", "label", "label_kind", "dense",
             "categorical", "table_size", "table_sizes", "quoted"}
    unknown = set(spec) - known
    if unknown:
        k = sorted(unknown)[0]
        raise ConfigError(f"{where(k)}: unknown keys {sorted(unknown)}; valid keys are {sorted(known)}")
    if "label" not in spec:
        raise ConfigError(f"{schema_path}: missing required key 'label'")
    label = _text(spec["label"], where("label"))
    fmt = spec.get("format") or ("parquet" if data_path.suffix in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "tsv", "parquet"):
        raise ConfigError(f"{where('format')}: must be csv, tsv or parquet, got {fmt!r}")
    sep = _text(spec.get("separator", "\t" if fmt == "tsv" else ","), where("separator"))
    if len(sep) != 1:
        raise ConfigError(f"{where('separator')}: must be one character, got {sep!r}")
    default_n = _table_size(spec.get("table_size", 100_000), where("table_size"))
    per = spec.get("table_sizes") or {}
    if not isinstance(per, dict):
        raise ConfigError(f"{where('table_sizes')}: must be a mapping field -> size, got {per!r}")
    sizes = {str(c): _table_size(n, where("table_sizes", str(c))) for c, n in per.items()}
    cats = _names(spec.get("categorical", []), where("categorical"))
    dense = _names(spec.get("dense", []), where("dense"))
    sparse = tuple(SparseCol(c, c, "auto", sizes.get(c, default_n)) for c in cats)
    columns = _names(spec["columns"], where("columns")) if spec.get("columns") is not None else None
    if columns:
        dup = duplicate_names(list(columns))
        if dup:
            raise ConfigError(f"{where('columns')}: {dup}")
    header = _flag(spec.get("header", columns is None), where("header"))
    if not header and not columns and fmt != "parquet":
        raise ConfigError(f"{where('header')}: header: false needs a 'columns' list")
    label_kind = {"binary": "01", "count": "count"}.get(spec.get("label_kind", "binary"))
    if label_kind is None:
        raise ConfigError(f"{where('label_kind')}: must be 'binary' or 'count', got {spec.get('label_kind')!r}")
    return FormatPlan(str(spec.get("name", schema_path.stem)), "parquet" if fmt == "parquet" else "csv",
                      sep, header, columns or None, label, label_kind, dense, sparse,
                      quoted=_flag(spec.get("quoted", True), where("quoted")))


def _load_schema(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    """The schema mapping and the line of every key (top level and one level down)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such schema file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read the schema file: {e.strerror or e}") from None
    try:
        spec = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML: {' '.join(str(e).split())}") from None
    if not isinstance(spec, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}: expected a mapping with keys label, dense, categorical")
    lines: dict[tuple[str, ...], int] = {}
    pairs = [((str(k.value),), k) for k, _ in node.value]
    pairs += [((str(k.value), str(k2.value)), k2) for k, v in node.value if isinstance(v, yaml.MappingNode)
              for k2, _ in v.value]
    for key, knode in pairs:
        line = knode.start_mark.line + 1
        if key in lines:  # YAML would silently keep the last value
            raise ConfigError(f"{path}:{line}: {'.'.join(key)}: duplicate key (first on line {lines[key]})")
        lines[key] = line
    return spec, lines


def _table_size(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ConfigError(f"{where}: table size must be an integer >= 2, got {value!r}")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool)
                                              for v in value):
        raise ConfigError(f"{where}: must be a list of column names, got {value!r}")
    return tuple(str(v) for v in value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ConfigError(f"{where}: must be a column name or text, got {value!r}")
    return str(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {value!r}")
    return value


def duplicate_names(names: list[str]) -> str | None:
    """'column 'x' appears twice (columns 2 and 5)' for the first repeated name, else None."""
    first: dict[str, int] = {}
    for i, n in enumerate(names, start=1):
        if n in first:
            return f"column {n!r} appears twice (columns {first[n]} and {i})"
        first[n] = i
    return None


def make_plan(fmt: str, *, data_path: Path, schema_path: Path | None = None, profile: Path | None = None,
              keep_id: bool = False, hour: str = "raw") -> FormatPlan:
    """The plan for one of FORMATS."""
    if fmt == "criteo":
        return criteo_plan()
    if fmt == "avazu":
        return avazu_plan(keep_id=keep_id, hour=hour)
    if fmt in ("kdd", "kdd12"):
        return kdd_plan(profile)
    if fmt == "table":
        if schema_path is None:
            raise ConfigError("--format table needs --schema FILE.yaml")
        return table_plan(schema_path, data_path)
    raise ConfigError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
