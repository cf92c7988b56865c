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

    @property
    def dense_names(self) -> tuple[str, ...]:
        """Output dense feature names, file columns first."""
        return self.dense + self.const_dense

    @property
    def needed(self) -> tuple[str, ...]:
        """Raw columns the reader must parse."""
        cols = [self.label, *self.dense] + [s.source for s in self.sparse if s.kind != "join"]
        return tuple(dict.fromkeys(cols))


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
    try:
        spec = yaml.safe_load(schema_path.read_text())
    except FileNotFoundError:
        raise DataError(f"{schema_path}: no such schema file") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{schema_path}: invalid YAML: {e}") from None
    if not isinstance(spec, dict):
        raise ConfigError(f"{schema_path}: expected a mapping with keys label, dense, categorical")
    known = {"name", "format", "separator", "header", "columns", "label", "label_kind", "dense",
             "categorical", "table_size", "table_sizes", "quoted"}
    unknown = set(spec) - known
    if unknown:
        raise ConfigError(f"{schema_path}: unknown keys {sorted(unknown)}; valid keys are {sorted(known)}")
    if "label" not in spec:
        raise ConfigError(f"{schema_path}: missing required key 'label'")
    fmt = spec.get("format") or ("parquet" if data_path.suffix in (".parquet", ".pq") else "csv")
    if fmt not in ("csv", "tsv", "parquet"):
        raise ConfigError(f"{schema_path}: format must be csv, tsv or parquet, got {fmt!r}")
    sep = spec.get("separator", "\t" if fmt == "tsv" else ",")
    default_n = int(spec.get("table_size", 100_000))
    per = spec.get("table_sizes") or {}
    cats = tuple(str(c) for c in spec.get("categorical", []))
    sparse = tuple(SparseCol(c, c, "auto", int(per.get(c, default_n))) for c in cats)
    columns = spec.get("columns")
    header = bool(spec.get("header", columns is None))
    if not header and not columns and fmt != "parquet":
        raise ConfigError(f"{schema_path}: header: false needs a 'columns' list")
    label_kind = {"binary": "01", "count": "count"}.get(spec.get("label_kind", "binary"))
    if label_kind is None:
        raise ConfigError(f"{schema_path}: label_kind must be 'binary' or 'count'")
    return FormatPlan(str(spec.get("name", schema_path.stem)), "parquet" if fmt == "parquet" else "csv",
                      sep, header, tuple(columns) if columns else None, str(spec["label"]), label_kind,
                      tuple(str(c) for c in spec.get("dense", [])), sparse,
                      quoted=bool(spec.get("quoted", True)))


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
