"""`prepare_dataset`: raw file(s) -> split, encoded, cached columns in two streaming passes (data.md §2-§4).

Pass 1 parses and validates each file once, writing encoded rows (or raw ids for `vocab`) to temporary
column files and keeping only the labels whole; the split is then taken from the files or a split
column, or drawn on the labels by the protocol; pass 2 routes the temporary rows to their splits. The
cache is built in a marked temporary directory and renamed into place over nothing but a cache recnas
made.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any
from typing import Iterator
from typing import Mapping

import numpy as np
from tqdm import tqdm

from recnas.data import _protocols as proto
from recnas.data._bad import BadRows
from recnas.data._cache import CACHE_VERSION
from recnas.data._cache import COLUMNS
from recnas.data._cache import Cache
from recnas.data._cache import cache_file_records
from recnas.data._cache import SplitWriter
from recnas.data._formats import FormatPlan
from recnas.data._formats import make_plan
from recnas.data._io import check_input
from recnas.data._io import source_identity
from recnas.data._reader import RawReader
from recnas.data._reader import SafeModeRetry
from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.errors import DataError
from recnas.errors import write_failure
from recnas.runs import atomic_write_json
from recnas.runs import check_replaceable
from recnas.runs import is_owned
from recnas.runs import mark_owned
from recnas.runs import new_temp_dir
from recnas.runs import replace_owned_dir

PASS2_ROWS = 1 << 18


@dataclass(frozen=True)
class PrepareOptions:
    """Every option that changes a cache's content (all of them key the cache)."""

    protocol: str = "nasrec"
    cap: int | None = None
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    shuffle: bool = True
    seed: int = proto.NASREC_SEED
    min_count: int = 1
    dense_buckets: bool = False
    reference_offbyone: bool = False
    keep_id: bool | None = None
    hour: str | None = None
    max_bad_fraction: float = 0.001
    on_bad_row: str = "skip"
    split_column: str | None = None  # each row's split comes from this column (train/val/test)
    split_rows: tuple[int, int, int] | None = None  # ratio protocol: exact row counts (-1 = the rest)

    def resolved(self, fmt: str) -> "PrepareOptions":
        """Fill protocol-dependent defaults: Avazu's raw hour under nasrec; its row id is always dropped
        unless asked for (keeping it is reference defect 3: 10,000 buckets of noise)."""
        if self.protocol not in proto.PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose from {', '.join(proto.PROTOCOLS)}")
        if self.split_rows is not None and self.protocol != "ratio":
            raise ConfigError(f"split rows are a setting of the ratio protocol, not of {self.protocol!r}")
        ref = self.protocol == "nasrec"
        keep_id = False if self.keep_id is None else self.keep_id
        hour = ("raw" if ref else "expand") if self.hour is None else self.hour
        if fmt != "avazu":
            keep_id, hour = False, "raw"
        rows = None if self.split_rows is None else tuple(int(r) for r in self.split_rows)
        return replace(self, keep_id=keep_id, hour=hour, ratios=tuple(float(r) for r in self.ratios),
                       split_rows=rows)

    def presplit_notice(self, given_by: str) -> str:
        """The notice recorded for data that came pre-split; a ConfigError when a split option is set
        that would re-split it."""
        d = PrepareOptions()
        resplit = [name for name, changed in (
            ("ratios", tuple(self.ratios) != d.ratios), ("no-shuffle", not self.shuffle),
            ("split rows", self.split_rows is not None), ("seed", self.seed != d.seed),
            ("reference off-by-one", self.reference_offbyone)) if changed]
        if resplit:
            raise ConfigError(f"the split is given by {given_by}; {', '.join(resplit)} would re-split the "
                              "data: drop them (the protocol then only chooses the encoding)")
        if self.protocol == "vocab":
            return f"split kept as given by {given_by}; vocabularies fitted on the train rows only"
        return (f"split kept as given by {given_by}, not re-drawn by protocol {self.protocol}; "
                "categorical ids hashed as under that protocol")


@dataclass
class PrepareResult:
    """What `prepare_dataset` returns: the opened cache, whether it was reused, and the summary."""

    cache: Cache
    reused: bool
    summary: dict[str, Any]


@dataclass
class Source:
    """One raw input of a cache: its name (a split, or 'input'), reader, bad-row account and split."""

    name: str
    reader: Any  # iterates RawChunks; afterwards has rows_read and sha256
    bad: BadRows
    split: int | None = None  # every row goes to this split (pre-split files); None: column or protocol


def prepare_dataset(input: str | os.PathLike[str] | None, out: str | os.PathLike[str], *, fmt: str = "criteo",
                    files: Mapping[str, str | os.PathLike[str]] | None = None,
                    profile: str | os.PathLike[str] | None = None, schema: str | os.PathLike[str] | None = None,
                    options: PrepareOptions | None = None, force: bool = False,
                    progress: bool = False) -> PrepareResult:
    """Prepare `input` (or pre-split `files` {train, val, test}) of format `fmt` into the cache
    directory `out`, or reuse a matching, undamaged cache."""
    inputs = _inputs(input, files)
    opts = (options or PrepareOptions()).resolved(fmt)
    notices = []
    if files is not None:
        if opts.split_column is not None:
            raise ConfigError("give either --train/--val/--test files or a split column, not both")
        notices.append(opts.presplit_notice("the pre-split files (train, val, test)"))
    elif opts.split_column is not None:
        notices.append(opts.presplit_notice(f"the split column {opts.split_column!r}"))
    prof = check_input(profile) if profile is not None else None
    schema_path = Path(schema) if schema is not None else None
    plan = make_plan(fmt, data_path=next(iter(inputs.values())), schema_path=schema_path, profile=prof,
                     keep_id=bool(opts.keep_id), hour=str(opts.hour))
    if opts.split_column is not None:
        plan = plan.with_split_column(opts.split_column)
    out = _out_dir(out, [*inputs.values(), prof, schema_path])
    key = _fingerprint(fmt, opts, inputs, [prof, schema_path])
    if not force and (out / "meta.json").is_file():
        try:
            old = Cache(out)
            if old.meta.get("fingerprint") == key:
                old.verify(deep=True)
                return PrepareResult(old, True, _summary(old.meta))
        except (DataError, ConfigError, KeyError, TypeError, ValueError) as e:
            notices.append(f"rebuilt the damaged or unreadable cache found at {out}: {e}")
    _adopt_legacy_cache(out)
    check_replaceable(out, "cache directory")  # before the work, not only at the final swap
    try:
        tmp = new_temp_dir(out, "data-cache")
    except OSError as e:
        raise DataError(write_failure(out, e, "data cache")) from None
    try:
        sources = []
        for name, path in inputs.items():
            bad = BadRows(str(path), opts.on_bad_row)
            split = proto.SPLITS.index(name) if files is not None else None
            sources.append(Source(name, RawReader(path, plan, bad), bad, split))
        meta = build_cache_from(sources, plan, opts, tmp, progress=progress)
        meta["split"]["notices"] = notices + meta["split"]["notices"]
        sha = meta.pop("sha256")
        meta.update(fingerprint=key, format=fmt, source=_sources(inputs, prof, schema_path, sha, meta["inputs"]))
        atomic_write_json(tmp / "meta.json", meta)
        _swap_in(tmp, out)
    except OSError as e:  # disk full, quota, permissions: one line, the old cache stays
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(write_failure(e.filename or out, e, "data cache")) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PrepareResult(Cache(out), False, _summary(meta))


def _inputs(input: str | os.PathLike[str] | None,
            files: Mapping[str, str | os.PathLike[str]] | None) -> dict[str, Path]:
    """The raw files by source name: {'input': F} or {'train': F, 'val': F, 'test': F}, all checked."""
    if (input is None) == (files is None):
        raise ConfigError("give either one input file or pre-split files {train, val, test}, not "
                          f"{'both' if input is not None else 'neither'}")
    if files is None:
        return {"input": check_input(input)}  # type: ignore[arg-type]
    if set(files) != set(proto.SPLITS):
        raise ConfigError(f"pre-split files need exactly the keys train, val, test; got {sorted(files)}")
    paths = {s: check_input(files[s]) for s in proto.SPLITS}
    seen: dict[Path, str] = {}
    for s, p in paths.items():
        if p.resolve() in seen:
            raise ConfigError(f"--{seen[p.resolve()]} and --{s} name the same file {p}; each split needs "
                              "its own file")
        seen[p.resolve()] = s
    return paths


def _out_dir(out: str | os.PathLike[str], inputs: list[Path | None]) -> Path:
    """The absolute cache path; refused when replacing it would delete one of the inputs."""
    path = Path(os.path.abspath(out))
    if path.parent == path:
        raise ConfigError(f"--out {out}: cannot write a cache at the file-system root")
    for p in inputs:
        if p is not None and (path == p.resolve() or path in p.resolve().parents):
            raise ConfigError(f"--out {out}: contains the input {p}; rebuilding the cache there would delete "
                              "it, choose another --out")
    return path


def _fingerprint(fmt: str, opts: PrepareOptions, inputs: dict[str, Path], extra: list[Path | None]) -> str:
    od = {k: v for k, v in asdict(opts).items() if v is not None or k not in ("split_column", "split_rows")}
    if list(inputs) == ["input"]:  # single-file caches keep the key they always had
        src: Any = [source_identity(inputs["input"])]
    else:
        src = [{k: source_identity(p) for k, p in inputs.items()}]
    src += [source_identity(p) if p is not None else None for p in extra]
    blob = json.dumps({"v": CACHE_VERSION, "fmt": fmt, "opts": od, "src": src}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _sources(inputs: dict[str, Path], prof: Path | None, schema: Path | None, sha: str | None,
             per_input: dict[str, Any]) -> dict[str, Any]:
    from recnas.data._io import file_sha256

    if list(inputs) == ["input"]:
        d: dict[str, Any] = {**source_identity(inputs["input"]), "sha256": sha}
    else:
        d = {"files": {k: {**source_identity(p), "sha256": per_input[k]["sha256"]} for k, p in inputs.items()}}
    if prof is not None:
        d["profile"] = {**source_identity(prof), "sha256": file_sha256(prof)}
    if schema is not None:
        d["schema"] = {**source_identity(schema), "sha256": file_sha256(schema)}
    return d


def _adopt_legacy_cache(out: Path) -> None:
    """Mark a cache written before ownership markers existed, when it holds nothing but cache files."""
    if not out.is_dir() or out.is_symlink() or is_owned(out) or not (out / "meta.json").is_file():
        return
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return
    if not isinstance(meta, dict) or "cache_version" not in meta or "fingerprint" not in meta:
        return
    for entry in out.iterdir():
        if entry.name == "meta.json":
            continue
        if entry.name not in proto.SPLITS or not entry.is_dir() or entry.is_symlink() or \
                any(f.name not in {f"{c}.npy" for c in COLUMNS} for f in entry.iterdir()):
            return
    mark_owned(out, "data-cache")


def _swap_in(tmp: Path, out: Path) -> None:
    """Atomically replace `out` by `tmp`; an existing `out` must be a cache recnas wrote (else a
    one-line error and nothing is touched)."""
    _adopt_legacy_cache(Path(os.path.abspath(out)))
    replace_owned_dir(tmp, out, "data-cache", "cache directory")


class _TempRows:
    """Pass-1 row store: append chunks of fixed-width columns to .bin files, read them back in order."""

    def __init__(self, root: Path, dtypes: dict[str, tuple[Any, int]]) -> None:
        self.root, self.dtypes = root, dtypes
        self.files = {k: open(root / f"all.{k}.bin", "wb") for k in dtypes}
        self.rows = 0

    def append(self, **cols: np.ndarray) -> None:
        """Append one chunk (same rows in every column)."""
        for k, a in cols.items():
            np.ascontiguousarray(a, dtype=self.dtypes[k][0]).tofile(self.files[k])
        self.rows += len(next(iter(cols.values())))

    def chunks(self, rows: int = PASS2_ROWS) -> Iterator[dict[str, np.ndarray]]:
        """Read the stored rows back, `rows` at a time, without memory-mapping (bounded RSS)."""
        for f in self.files.values():
            f.close()
        handles = {k: open(self.root / f"all.{k}.bin", "rb") for k in self.dtypes}
        try:
            for start in range(0, self.rows, rows):
                n = min(rows, self.rows - start)
                yield {k: np.fromfile(handles[k], dtype=dt, count=n * w).reshape(n, w)
                       for k, (dt, w) in self.dtypes.items()}
        finally:
            for h in handles.values():
                h.close()

    def truncate(self, rows: int = 0) -> None:
        """Forget every row after the first `rows` (a source's pass restarts)."""
        for k, f in self.files.items():
            dt, w = self.dtypes[k]
            f.flush()
            f.seek(rows * w * np.dtype(dt).itemsize)
            f.truncate()
        self.rows = rows

    def remove(self) -> None:
        """Delete the temporary files."""
        for k in self.dtypes:
            (self.root / f"all.{k}.bin").unlink(missing_ok=True)


def build_cache(reader: Any, bad: BadRows, plan: FormatPlan, opts: PrepareOptions, tmp: Path, *,
                progress: bool) -> dict[str, Any]:
    """Both passes over one `reader` (RawChunks; then .rows_read, .sha256) into `tmp`; returns meta."""
    return build_cache_from([Source("input", reader, bad)], plan, opts, tmp, progress=progress)


def build_cache_from(sources: list[Source], plan: FormatPlan, opts: PrepareOptions, tmp: Path, *,
                     progress: bool) -> dict[str, Any]:
    """Both passes over every source, in order, into `tmp`; returns meta (with 'sha256' of a single
    source, for the caller to place). The split comes from the sources, a split column or the protocol."""
    t0 = time.perf_counter()
    hashing = opts.protocol != "vocab"
    sizes = np.array([min(s.table_size, opts.cap) if opts.cap else s.table_size for s in plan.sparse],
                     np.int64)
    nd, nf = len(plan.dense_names), len(plan.sparse)
    nb = nd if opts.dense_buckets else 0
    store = _TempRows(tmp, {"dense": (np.float32, nd), "sparse": (np.int32, nf)} if hashing else
                      {"dense": (np.float32, nd), "raw": (np.int64, nf + nb)})
    labels, given = [], []
    for src in sources:
        lab, col_split = _pass1(src.reader, src.bad, store, sizes=sizes if hashing else None, nb=nb,
                                progress=progress)
        _check_source(src, lab, opts)
        labels.append(lab)
        given.append(np.full(len(lab), src.split, np.int8) if src.split is not None else col_split)
    t_read = time.perf_counter() - t0
    label = np.concatenate(labels)
    notices: list[str] = []
    if plan.split_column is not None or sources[0].split is not None:
        split = np.concatenate(given)
        how = "files" if sources[0].split is not None else "column"
        empty = [s for k, s in enumerate(proto.SPLITS) if not (split == k).any()]
        if empty:
            raise DataError(f"{sources[0].bad.path}: split column {plan.split_column!r} names no {empty[0]} "
                            "rows; every split needs rows")
    else:
        how = "protocol"
        ratio_rows = None
        if opts.protocol == "ratio":
            ratio_rows, note = proto.ratio_sizes(len(label), opts.ratios, opts.split_rows)
            notices += [note] if note else []
        split = proto.assign_splits(label, protocol=opts.protocol, ratios=opts.ratios, shuffle=opts.shuffle,
                                    seed=opts.seed, reference_offbyone=opts.reference_offbyone,
                                    sizes=ratio_rows)
        if opts.reference_offbyone and opts.protocol in ("nasrec", "vocab"):
            sources[0].bad.counts["reference_offbyone"] = int((split < 0).sum())
    counts = {s: int((split == k).sum()) for k, s in enumerate(proto.SPLITS)}
    names = [s.name for s in plan.sparse] + [f"{d}_bucket" for d in plan.dense_names[:nb]]
    vocabs = None
    if not hashing:
        vocabs = _fit_vocab(store, split, nf + nb, opts)
        sizes = np.array([len(v) + 2 for v in vocabs], np.int64)
    writer = SplitWriter(tmp, counts, num_dense=nd, num_sparse=len(names))
    start = 0
    for cols in store.chunks():
        n = len(cols["dense"])
        ids = split[start:start + n]
        sparse = cols["sparse"] if hashing else proto.vocab_rows(cols["raw"], vocabs or [])
        writer.write(ids, label[start:start + n], cols["dense"], sparse)
        start += n
    writer.close()
    store.remove()
    schema = FeatureSchema(plan.dense_names, tuple(names), tuple(int(s) for s in sizes), name=plan.name,
                           label=plan.label)
    seconds = time.perf_counter() - t0
    read = sum(s.reader.rows_read for s in sources)
    rejected = sum(s.bad.total for s in sources)
    by_reason: dict[str, int] = {}
    for src in sources:
        for r, c in src.bad.counts.items():
            by_reason[r] = by_reason.get(r, 0) + c
    return {
        "cache_version": CACHE_VERSION, "schema": schema.to_dict(), "table_sizes": [int(s) for s in sizes],
        "protocol": opts.protocol, "options": asdict(opts),
        "rows": {"read": read, "kept": read - rejected, "rejected": rejected, **counts},
        "rejected_by_reason": dict(sorted(by_reason.items())),
        "bad_examples": [e for src in sources for e in src.bad.first_examples()],
        "dense_nan_as_missing": sum(s.bad.notes.get("dense_nan_as_missing", 0) for s in sources),
        "inputs": {s.name: _input_record(s) for s in sources},
        "split": {"source": how, "column": plan.split_column, "notices": notices,
                  "rows": _rows_by_split(sources, counts) if how != "protocol" else None},
        "positives": {s: int(label[split == k].sum()) for k, s in enumerate(proto.SPLITS)},
        "cache_files": cache_file_records(tmp),
        "seconds": round(seconds, 3), "read_seconds": round(t_read, 3),
        "rows_per_s": round(read / max(seconds, 1e-9), 1),
        "sha256": sources[0].reader.sha256 if len(sources) == 1 else None,
    }


def _check_source(src: Source, label: np.ndarray, opts: PrepareOptions) -> None:
    """One-line errors for a source with no rows, all rows rejected, or too many rejected."""
    path, read = src.bad.path, src.reader.rows_read
    if read == 0 or (len(label) == 0 and src.bad.total == 0):
        raise DataError(f"{path}: no data rows")
    src.bad.check_fraction(read, opts.max_bad_fraction)
    if len(label) == 0:
        raise DataError(f"{path}: all {read} rows were rejected; first: {src.bad.first_examples()[:3]}")


def _input_record(src: Source) -> dict[str, Any]:
    """Per-input accounting for meta.json: read = kept + rejected, by reason."""
    read, rej = src.reader.rows_read, src.bad.total
    return {"path": src.bad.path, "sha256": src.reader.sha256 or None,
            "rows": {"read": read, "kept": read - rej, "rejected": rej},
            "rejected_by_reason": dict(sorted(src.bad.counts.items())),
            "dense_nan_as_missing": src.bad.notes.get("dense_nan_as_missing", 0)}


def _rows_by_split(sources: list[Source], kept: dict[str, int]) -> dict[str, Any]:
    """Kept and rejected rows per split of pre-split data; rejected rows whose split could not be read
    (a wrong field count, a bad split value) are counted under 'unknown'."""
    out: dict[str, Any] = {s: {"kept": kept[s], "rejected": 0} for s in proto.SPLITS}
    unknown = 0
    for src in sources:
        if src.split is not None:
            out[proto.SPLITS[src.split]]["rejected"] += src.bad.total
            continue
        known = 0
        for s in proto.SPLITS:
            n = src.bad.notes.get(f"rejected_in_{s}", 0)
            out[s]["rejected"] += n
            known += n
        unknown += src.bad.total - known
    return {**out, "unknown_rejected": unknown}


def _pass1(reader: Any, bad: BadRows, store: _TempRows, *, sizes: np.ndarray | None, nb: int,
           progress: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Parse every chunk into the temporary store (hashing when `sizes`); return the kept labels and,
    when the file has a split column, the kept rows' split ids.

    The reader first lets Arrow convert dense columns itself; if a dense value is not a number
    it raises SafeModeRetry and this source's pass restarts with string columns that locate the bad rows.
    """
    base = store.rows
    while True:
        labels: list[np.ndarray] = []
        splits: list[np.ndarray] = []
        bar = tqdm(unit=" rows", unit_scale=True, desc="prepare", disable=not progress, mininterval=1.0)
        try:
            for chunk in reader:
                labels.append(chunk.label)
                if chunk.split is not None:
                    splits.append(chunk.split)
                dense = proto.log_dense(chunk.dense)
                if sizes is not None:
                    store.append(dense=dense, sparse=proto.hash_rows(chunk.cats, sizes))
                else:
                    raw = np.concatenate([chunk.cats, proto.ln2_buckets(chunk.dense)], 1) if nb else chunk.cats
                    store.append(dense=dense, raw=raw)
                bar.update(len(chunk))
            label = np.concatenate(labels) if labels else np.zeros(0, np.int8)
            split = np.concatenate(splits) if splits else np.zeros(0, np.int8)
            return label, split
        except SafeModeRetry:
            reader.safe = True
            bad.reset()
            store.truncate(base)
        finally:
            bar.close()


def _fit_vocab(store: _TempRows, split: np.ndarray, nf: int,
               opts: PrepareOptions) -> list[np.ndarray]:
    """Vocabulary per field, fitted on train rows only (data.md §3)."""
    vb = proto.VocabBuilder(nf)
    start = 0
    for cols in store.chunks():
        n = len(cols["raw"])
        vb.add(cols["raw"][split[start:start + n] == 0])
        start += n
    return vb.finalize(min_count=opts.min_count, max_size=opts.cap)


def _summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The part of meta.json a person reads after `recnas prepare`."""
    keys = ("format", "protocol", "rows", "rejected_by_reason", "bad_examples", "dense_nan_as_missing", "inputs",
            "split", "table_sizes", "seconds", "rows_per_s")
    return {k: meta.get(k) for k in keys}
