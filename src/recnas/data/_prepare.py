"""`prepare_dataset`: raw file -> split, encoded, cached columns in two streaming passes (data.md §2-§4).

Pass 1 parses and validates the file once, writing encoded rows (or raw ids for `vocab`) to temporary
column files and keeping only the labels whole; folds are then drawn on the labels; pass 2 routes the
temporary rows to their splits. The cache is built in a temporary directory and renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterator

import numpy as np
from tqdm import tqdm

from recnas.data import _protocols as proto
from recnas.data._bad import BadRows
from recnas.data._cache import CACHE_VERSION
from recnas.data._cache import Cache
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
from recnas.runs import atomic_write_json

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

    def resolved(self, fmt: str) -> "PrepareOptions":
        """Fill protocol-dependent defaults: Avazu's raw hour under nasrec; its row id is always dropped
        unless asked for (keeping it is reference defect 3: 10,000 buckets of noise)."""
        if self.protocol not in proto.PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose from {', '.join(proto.PROTOCOLS)}")
        ref = self.protocol == "nasrec"
        keep_id = False if self.keep_id is None else self.keep_id
        hour = ("raw" if ref else "expand") if self.hour is None else self.hour
        if fmt != "avazu":
            keep_id, hour = False, "raw"
        from dataclasses import replace

        return replace(self, keep_id=keep_id, hour=hour, ratios=tuple(float(r) for r in self.ratios))


@dataclass
class PrepareResult:
    """What `prepare_dataset` returns: the opened cache, whether it was reused, and the summary."""

    cache: Cache
    reused: bool
    summary: dict[str, Any]


def prepare_dataset(input: str | os.PathLike[str], out: str | os.PathLike[str], *, fmt: str = "criteo",
                    profile: str | os.PathLike[str] | None = None, schema: str | os.PathLike[str] | None = None,
                    options: PrepareOptions | None = None, force: bool = False,
                    progress: bool = False) -> PrepareResult:
    """Prepare `input` (format `fmt`) into the cache directory `out`, or reuse a matching cache."""
    src = check_input(input)
    opts = (options or PrepareOptions()).resolved(fmt)
    prof = check_input(profile) if profile is not None else None
    schema_path = Path(schema) if schema is not None else None
    plan = make_plan(fmt, data_path=src, schema_path=schema_path, profile=prof,
                     keep_id=bool(opts.keep_id), hour=str(opts.hour))
    out = Path(out)
    key = _fingerprint(fmt, opts, [src, prof, schema_path])
    if not force and (out / "meta.json").is_file():
        try:
            old = Cache(out)
            if old.meta.get("fingerprint") == key:
                return PrepareResult(old, True, _summary(old.meta))
        except (DataError, ConfigError, KeyError):
            pass  # unreadable: rebuild
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        bad = BadRows(str(src), opts.on_bad_row)
        meta = build_cache(RawReader(src, plan, bad), bad, plan, opts, tmp, progress=progress)
        meta.update(fingerprint=key, format=fmt, source=_sources(src, prof, schema_path, meta.pop("sha256")))
        atomic_write_json(tmp / "meta.json", meta)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return PrepareResult(Cache(out), False, _summary(meta))


def _fingerprint(fmt: str, opts: PrepareOptions, paths: list[Path | None]) -> str:
    ident = [source_identity(p) if p is not None else None for p in paths]
    blob = json.dumps({"v": CACHE_VERSION, "fmt": fmt, "opts": asdict(opts), "src": ident}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _sources(src: Path, prof: Path | None, schema: Path | None, sha: str) -> dict[str, Any]:
    from recnas.data._io import file_sha256

    d: dict[str, Any] = {**source_identity(src), "sha256": sha}
    if prof is not None:
        d["profile"] = {**source_identity(prof), "sha256": file_sha256(prof)}
    if schema is not None:
        d["schema"] = {**source_identity(schema), "sha256": file_sha256(schema)}
    return d


def _swap_in(tmp: Path, out: Path) -> None:
    """Atomically replace `out` by `tmp` (the old cache, if any, is moved aside then deleted)."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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

    def reset(self) -> None:
        """Forget everything appended so far."""
        for f in self.files.values():
            f.seek(0)
            f.truncate()
        self.rows = 0

    def remove(self) -> None:
        """Delete the temporary files."""
        for k in self.dtypes:
            (self.root / f"all.{k}.bin").unlink(missing_ok=True)


def build_cache(reader: Any, bad: BadRows, plan: FormatPlan, opts: PrepareOptions, tmp: Path, *,
                progress: bool) -> dict[str, Any]:
    """Both passes over `reader` (RawChunks; then .rows_read, .sha256) into `tmp`; returns meta."""
    t0 = time.perf_counter()
    src = bad.path
    hashing = opts.protocol != "vocab"
    sizes = np.array([min(s.table_size, opts.cap) if opts.cap else s.table_size for s in plan.sparse],
                     np.int64)
    nd, nf = len(plan.dense_names), len(plan.sparse)
    nb = nd if opts.dense_buckets else 0
    store = _TempRows(tmp, {"dense": (np.float32, nd), "sparse": (np.int32, nf)} if hashing else
                      {"dense": (np.float32, nd), "raw": (np.int64, nf + nb)})
    label = _pass1(reader, bad, store, sizes=sizes if hashing else None, nb=nb, progress=progress)
    t_read = time.perf_counter() - t0
    if reader.rows_read == 0 or (len(label) == 0 and bad.total == 0):
        raise DataError(f"{src}: no data rows")
    bad.check_fraction(reader.rows_read, opts.max_bad_fraction)
    if len(label) == 0:
        raise DataError(f"{src}: all {reader.rows_read} rows were rejected; "
                        f"first: {bad.first_examples()[:3]}")
    split = proto.assign_splits(label, protocol=opts.protocol, ratios=opts.ratios, shuffle=opts.shuffle,
                                seed=opts.seed, reference_offbyone=opts.reference_offbyone)
    if opts.reference_offbyone and opts.protocol in ("nasrec", "vocab"):
        bad.counts["reference_offbyone"] = int((split < 0).sum())
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
    rejected = bad.total
    return {
        "cache_version": CACHE_VERSION, "schema": schema.to_dict(), "table_sizes": [int(s) for s in sizes],
        "protocol": opts.protocol, "options": asdict(opts),
        "rows": {"read": reader.rows_read, "kept": reader.rows_read - rejected, "rejected": rejected, **counts},
        "rejected_by_reason": dict(sorted(bad.counts.items())), "bad_examples": bad.first_examples(),
        "positives": {s: int(label[split == k].sum()) for k, s in enumerate(proto.SPLITS)},
        "seconds": round(seconds, 3), "read_seconds": round(t_read, 3),
        "rows_per_s": round(reader.rows_read / max(seconds, 1e-9), 1), "sha256": reader.sha256,
    }


def _pass1(reader: Any, bad: BadRows, store: _TempRows, *, sizes: np.ndarray | None, nb: int,
           progress: bool) -> np.ndarray:
    """Parse every chunk into the temporary store (hashing when `sizes`); return all kept labels.

    The reader first lets Arrow convert dense columns itself; if a dense value is not a number
    it raises SafeModeRetry and the pass restarts with string columns that locate the bad rows.
    """
    while True:
        labels: list[np.ndarray] = []
        bar = tqdm(unit=" rows", unit_scale=True, desc="prepare", disable=not progress, mininterval=1.0)
        try:
            for chunk in reader:
                labels.append(chunk.label)
                dense = proto.log_dense(chunk.dense)
                if sizes is not None:
                    store.append(dense=dense, sparse=proto.hash_rows(chunk.cats, sizes))
                else:
                    raw = np.concatenate([chunk.cats, proto.ln2_buckets(chunk.dense)], 1) if nb else chunk.cats
                    store.append(dense=dense, raw=raw)
                bar.update(len(chunk))
            return np.concatenate(labels) if labels else np.zeros(0, np.int8)
        except SafeModeRetry:
            reader.safe = True
            bad.reset()
            store.reset()
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
    keys = ("format", "protocol", "rows", "rejected_by_reason", "bad_examples", "table_sizes", "seconds",
            "rows_per_s")
    return {k: meta.get(k) for k in keys}
