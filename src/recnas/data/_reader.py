"""Streaming reader: raw CSV/TSV/Parquet -> validated chunks of label/dense/categorical raw values.

Arrow parses blocks of `block_size` bytes on a background thread while numpy converts the previous
block (data.md §4 R1/R2); bad rows are counted by reason with file:line:field (§4 R5).
"""

from __future__ import annotations

import bisect
import gzip
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from recnas._threads import consume
from recnas.data import _textcol as tc
from recnas.data._bad import BadRows
from recnas.data._formats import FormatPlan
from recnas.data._formats import duplicate_names
from recnas.data._io import HashingReader
from recnas.data._io import check_input
from recnas.data._io import is_gzip
from recnas.errors import DataError


@dataclass
class RawChunk:
    """Kept rows of one block: label int8 [n], dense raw float64 [n, D] (NaN = missing),
    categorical raw ids int64 [n, F] (-1 = missing), and the split ids read from a split column."""

    label: np.ndarray
    dense: np.ndarray
    cats: np.ndarray
    split: np.ndarray | None = None  # int8 split id per row when the file has a split column

    def __len__(self) -> int:
        return int(self.label.shape[0])


def _prefetch(it: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Run `it` on a background thread (Arrow releases the GIL while parsing)."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in it:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as e:  # re-raised in the consumer
            q.put(("error", e))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    yield from consume(q, stop)


def read_header(path: Path, delimiter: str) -> list[str]:
    """The first line of a (possibly gzip) text file split on `delimiter`."""
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rb") as f:
            raw = f.readline()
    except (EOFError, OSError) as e:
        raise DataError(f"{path}: line 1: cannot read the header: {e}") from None
    # utf-8-sig: a byte-order mark (spreadsheet exports) is not part of the first column's name
    line = raw.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    return [c.strip().strip('"') for c in line.split(delimiter)]


class SafeModeRetry(Exception):
    """Arrow's fast numeric conversion met a non-number: read again with string columns."""


class RawReader:
    """Iterates RawChunks of one file under a FormatPlan; afterwards holds rows_read and sha256."""

    def __init__(self, path: str | Path, plan: FormatPlan, bad: BadRows, *,
                 block_size: int = 8 << 20) -> None:
        self.path = check_input(path)
        self.plan = plan
        self.bad = bad
        self.block_size = block_size
        self.rows_read = 0
        self.sha256 = ""
        self.safe = False  # True: dense columns as strings (slower; locates non-numeric values)
        self._reported = 0
        self.converter = ChunkConverter(plan, bad, _load_profile(plan.profile))
        self._convert = self.converter.convert

    def __iter__(self) -> Iterator[RawChunk]:
        if self.plan.file_format == "parquet":
            yield from self._iter_parquet()
        else:
            yield from self._iter_csv()

    # -- CSV / TSV -------------------------------------------------------------------------
    def _iter_csv(self) -> Iterator[RawChunk]:
        plan = self.plan
        names = list(plan.columns) if plan.columns else read_header(self.path, plan.delimiter)
        dup = duplicate_names(names)
        if dup:
            raise DataError(f"{self.path}: line 1: {dup} in the header; rename one of them")
        missing = [c for c in plan.needed if c not in names]
        if missing:
            raise DataError(f"{self.path}: line 1: missing columns {missing}; header has {names}")
        hdr = 1 if plan.header else 0
        self._reported = 0
        self._num_columns = len(names)
        invalid: list[tuple[int, int]] = []  # (line, fields) of rows with the wrong field count

        def on_invalid(row: Any) -> str:
            invalid.append((int(row.number) if row.number is not None else -1, int(row.actual_columns)))
            return "skip"

        ropts = pcsv.ReadOptions(column_names=names, skip_rows=hdr, block_size=self.block_size,
                                 use_threads=False)
        popts = pcsv.ParseOptions(delimiter=plan.delimiter, quote_char='"' if plan.quoted else False,
                                  ignore_empty_lines=False, invalid_row_handler=on_invalid)
        types = {c: pa.string() for c in plan.needed}
        if not self.safe:
            types.update({c: pa.float64() for c in plan.dense})
        copts = pcsv.ConvertOptions(column_types=types, include_columns=list(plan.needed),
                                    strings_can_be_null=False, null_values=[""], check_utf8=False)
        src = HashingReader(self.path)
        try:
            reader = pcsv.open_csv(src, read_options=ropts, parse_options=popts, convert_options=copts)
        except pa.ArrowInvalid as e:
            src.close()
            if not self.safe and "conversion error" in str(e):
                raise SafeModeRetry(str(e)) from None
            raise DataError(f"{self.path}: cannot parse: {e}") from None
        seen = 0
        done_invalid = 0
        inv_lines: list[int] = []
        try:
            for batch in _prefetch(iter(reader)):
                n = batch.num_rows
                while done_invalid < len(invalid):  # invalid rows up to here are final
                    inv_lines.append(invalid[done_invalid][0])  # Arrow counts the header line too
                    done_invalid += 1
                first_line = _line_of(seen, hdr, inv_lines)
                last_line = _line_of(seen + n - 1, hdr, inv_lines) if n else first_line
                extra = self._invalid_events(invalid, inv_lines, upto=last_line)
                chunk = self._convert(batch, lambda j: _line_of(seen + j, hdr, inv_lines), extra)
                seen += n
                if len(chunk):
                    yield chunk
        except pa.ArrowInvalid as e:
            if not self.safe and "conversion error" in str(e):
                raise SafeModeRetry(str(e)) from None
            raise DataError(f"{self.path}: cannot parse: {e}") from None
        finally:
            src.close()
        if src.error is not None:
            raise src.error
        while done_invalid < len(invalid):
            inv_lines.append(invalid[done_invalid][0])  # Arrow counts the header line too
            done_invalid += 1
        for ev in self._invalid_events(invalid, inv_lines, upto=None):
            self.bad.add(*ev)
        self.rows_read = seen + len(invalid)
        last = hdr + self.rows_read
        if invalid and inv_lines[-1] == last and src.last_byte not in (b"\n", b"\r"):
            self.bad.relabel_last("wrong_field_count", "truncated_last_line", last)
        self.sha256 = src.finish_hash() if not src.closed else src.sha256.hexdigest()

    def _invalid_events(self, invalid: list[tuple[int, int]], lines: list[int], *,
                        upto: int | None) -> list[tuple[str, int, str]]:
        """Wrong-field-count rows up to line `upto`, as (reason, line, what) not yet reported."""
        want = self._num_columns
        out = []
        while self._reported < len(lines) and (upto is None or lines[self._reported] <= upto):
            i = self._reported
            out.append(("wrong_field_count", lines[i], f"{invalid[i][1]} fields (expected {want})"))
            self._reported += 1
        return out

    # -- Parquet ----------------------------------------------------------------------------
    def _iter_parquet(self) -> Iterator[RawChunk]:
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(self.path)
        except (pa.ArrowInvalid, OSError) as e:
            raise DataError(f"{self.path}: not a readable Parquet file: {e}") from None
        dup = duplicate_names(list(pf.schema_arrow.names))
        if dup:
            raise DataError(f"{self.path}: {dup} in the Parquet schema; rename one of them")
        missing = [c for c in self.plan.needed if c not in pf.schema_arrow.names]
        if missing:
            raise DataError(f"{self.path}: missing columns {missing}; file has {pf.schema_arrow.names}")
        seen = 0
        for batch in _prefetch(pf.iter_batches(batch_size=65536, columns=list(self.plan.needed))):
            base = seen
            chunk = self._convert(batch, lambda j: base + j + 1)
            seen += batch.num_rows
            if len(chunk):
                yield chunk
        self.rows_read = seen
        self.sha256 = _sha256_file(self.path)



class ChunkConverter:
    """Turns one Arrow batch of raw columns into a RawChunk, rejecting and counting bad rows."""

    def __init__(self, plan: FormatPlan, bad: BadRows, profile: Any = None) -> None:
        self.plan, self.bad, self.profile = plan, bad, profile

    def convert(self, batch: pa.RecordBatch, line_of: Any,
                extra: list[tuple[str, int, str]] | None = None) -> RawChunk:
        """Parse, validate and filter one batch; `extra` are other bad-row events to report in line order."""
        plan, n = self.plan, batch.num_rows
        col = batch.column
        utf8 = np.stack([tc.invalid_utf8(col(c)) for c in plan.needed], 1)
        if plan.label_kind == "01":
            label, bad_label = tc.parse_label01(col(plan.label))
        else:
            label, bad_label = tc.parse_count_positive(col(plan.label))
        dense = np.empty((n, len(plan.dense_names)), dtype=np.float64)
        bad_dense = np.zeros((n, len(plan.dense_names)), dtype=bool)
        nan_given = np.zeros((n, len(plan.dense)), dtype=bool)
        for j, name in enumerate(plan.dense):
            dense[:, j], bad_dense[:, j] = tc.parse_float(col(name))
            nan_given[:, j] = np.isnan(dense[:, j]) & ~bad_dense[:, j] & tc.nonempty(col(name))
        dense[:, len(plan.dense):] = -1.0  # Avazu's constant pseudo-dense value (data.md §2.2)
        cats = np.empty((n, len(plan.sparse)), dtype=np.int64)
        bad_cat = np.zeros((n, len(plan.sparse)), dtype=bool)
        for j, s in enumerate(plan.sparse):
            cats[:, j], bad_cat[:, j] = self._parse_sparse(s, batch, cats, j)
        split, bad_split = (parse_split(col(plan.split_column)) if plan.split_column is not None
                            else (None, np.zeros(n, dtype=bool)))
        blank = _blank_rows(batch, plan)
        bad_label &= ~blank
        reasons = [("blank_line", blank[:, None], ("",)), ("invalid_utf8", utf8, plan.needed),
                   ("bad_label", bad_label[:, None], (plan.label,)),
                   ("bad_dense", bad_dense, plan.dense_names),
                   ("bad_categorical", bad_cat, tuple(s.source for s in plan.sparse)),
                   ("bad_split", bad_split[:, None], (plan.split_column or "",))]
        rejected = self._account(batch, reasons, line_of, extra or [])
        # a literal NaN is kept as a missing value (like an empty field) and counted, never silent
        self.bad.note("dense_nan_as_missing", int(nan_given[~rejected].sum()))
        if split is not None:  # rejected rows whose split is known, for the per-split accounting
            for k, name in enumerate(SPLIT_NAMES):
                self.bad.note(f"rejected_in_{name}", int((split[rejected] == k).sum()))
        if not rejected.any():
            return RawChunk(label, dense, cats, split)
        keep = ~rejected
        return RawChunk(label[keep], dense[keep], cats[keep], None if split is None else split[keep])

    def _parse_sparse(self, s: Any, batch: pa.RecordBatch, cats: np.ndarray,
                      j: int) -> tuple[np.ndarray, np.ndarray]:
        if s.kind == "hex32":
            return tc.parse_hex32(batch.column(s.source))
        if s.kind in ("int_mod", "auto"):
            col = batch.column(s.source)
            if pa.types.is_integer(col.type):
                v = np.asarray(pc.fill_null(col, 0).to_numpy(), dtype=np.int64) % tc.MOD_P
                null = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
                return np.where(null, -1, v), np.zeros(len(v), bool)  # Python-style %; null = missing
            return tc.parse_int_mod(col, hash_strings=s.kind == "auto")
        if s.kind in ("hour_of_day", "weekday"):
            return _hour_feature(batch.column(s.source), s.kind)
        if s.kind == "join":
            uid_j = [k for k, t in enumerate(self.plan.sparse) if t.name == s.source][0]
            return _join_profile(self.profile, cats[:, uid_j], s.name), np.zeros(len(cats), bool)
        raise DataError(f"unknown categorical kind {s.kind!r}")

    def _account(self, batch: pa.RecordBatch, reasons: list[tuple[str, np.ndarray, tuple[str, ...]]],
                 line_of: Any, extra: list[tuple[str, int, str]]) -> np.ndarray:
        """Mark rejected rows, first reason wins; record counts and the first examples in line order."""
        rejected = np.zeros(batch.num_rows, dtype=bool)
        events: list[tuple[int, str, str, int]] = [(ln, r, w, 1) for r, ln, w in extra]
        for reason, mask2d, fields in reasons:
            rows = mask2d.any(axis=1) & ~rejected
            cnt = int(rows.sum())
            if not cnt:
                continue
            for k, r in enumerate(np.flatnonzero(rows)[:5]):
                f = int(np.argmax(mask2d[r]))
                what = _describe(reason, fields[f], batch, r, self.plan)
                events.append((line_of(int(r)), reason, what, cnt - 4 if k == 4 else 1))
            rejected |= rows
        for line, reason, what, n in sorted(events):
            self.bad.add(reason, line, what, n)
        return rejected


def _describe(reason: str, field: str, batch: pa.RecordBatch, r: int, plan: FormatPlan) -> str:
    if reason == "blank_line":
        return "blank line"
    try:
        value = _raw_text(batch.column(field), r)
    except KeyError:
        value = None
    kinds = [sc.kind for sc in plan.sparse if sc.source == field]
    rule = _ID_RULES.get(kinds[0], "") if kinds else ""
    why = {"bad_label": plan.label_rule, "bad_dense": "not a number",
           "bad_categorical": f"not a valid id ({plan.name}: {rule})" if rule else "not a valid id",
           "invalid_utf8": "not valid UTF-8 text",
           "bad_split": f"split must be one of {', '.join(SPLIT_NAMES)}"}[reason]
    return f"field {field}: {why}, got {str(value)[:40]!r}"


_ID_RULES = {"hex32": "1-8 hex digits", "int_mod": "a decimal or hex integer",
             "hour_of_day": "an hour YYMMDDHH", "weekday": "an hour YYMMDDHH"}


def _raw_text(col: pa.Array, r: int) -> Any:
    """Entry r as Python text, undecodable bytes shown as escapes (never raises on bad UTF-8)."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        buf = col.cast(pa.large_binary() if pa.types.is_large_string(col.type) else pa.binary())[r].as_py()
        return None if buf is None else buf.decode("utf-8", errors="backslashreplace")
    return col[r].as_py()


SPLIT_NAMES = ("train", "val", "test")
_SPLIT_IDS = {"train": 0, "val": 1, "valid": 1, "validation": 1, "test": 2}


def parse_split(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Split column -> (int8 ids 0 train / 1 val / 2 test, invalid mask); case and spaces ignored."""
    names = pc.ascii_lower(pc.ascii_trim_whitespace(tc.as_string_array(col)))  # byte-wise: bad UTF-8 is safe
    keys = list(_SPLIT_IDS)
    idx = pc.index_in(names, value_set=pa.array(keys))
    pos = np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    ids = np.array([_SPLIT_IDS[k] for k in keys] + [-1], dtype=np.int8)[pos]
    return ids, pos < 0


def _blank_rows(batch: pa.RecordBatch, plan: FormatPlan) -> np.ndarray:
    """Rows where every parsed column is empty (Arrow turns a blank line into such a row)."""
    blank = np.zeros(batch.num_rows, dtype=bool)
    lab = batch.column(plan.label)
    if not pa.types.is_string(lab.type):
        return blank
    _, lens, _ = tc.lengths_and_bytes(lab)
    cand = np.flatnonzero(lens == 0)  # only rows with an empty label can be blank
    if cand.size == 0:
        return blank
    sub = batch.take(pa.array(cand))
    ok = np.ones(cand.size, dtype=bool)
    for name in plan.needed:
        c = sub.column(name)
        empty = pc.equal(c, "") if pa.types.is_string(c.type) else pc.is_null(c)
        ok &= np.asarray(pc.fill_null(empty, False).to_numpy(zero_copy_only=False), dtype=bool)
    blank[cand[ok]] = True
    return blank


def _line_of(g: int, hdr: int, inv_lines: list[int]) -> int:
    """File line (1-based) of the g-th (0-based) row Arrow kept, given the sorted invalid lines."""
    line = hdr + g + 1
    while True:
        k = bisect.bisect_right(inv_lines, line)
        nxt = hdr + g + 1 + k
        if nxt == line:
            return line
        line = nxt


def _hour_feature(col: pa.Array, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Avazu YYMMDDHH -> hour of day (0-23) or weekday (0 = Monday)."""
    v, bad = tc.parse_int_mod(col)
    yy, mm, dd, hh = v // 1000000, v // 10000 % 100, v // 100 % 100, v % 100
    bad |= (v >= 0) & ((mm < 1) | (mm > 12) | (dd < 1) | (dd > 31) | (hh > 23))
    missing = v < 0
    if kind == "hour_of_day":
        out = hh
    else:
        months = (yy + 30).astype("datetime64[Y]").astype("datetime64[M]")  # 20YY (epoch 1970)
        months = months + np.clip(mm - 1, 0, 11).astype("timedelta64[M]")
        days = months.astype("datetime64[D]") + np.clip(dd - 1, 0, 30).astype("timedelta64[D]")
        out = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    out = np.where(missing | bad, -1, out).astype(np.int64)
    return out, bad


def _load_profile(path: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """KDD userid_profile.txt as sorted (UserID, Gender, Age) arrays; None when no file is given."""
    if path is None:
        return None
    check_input(path)
    try:
        tab = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=["u", "g", "a"]),
                            parse_options=pcsv.ParseOptions(delimiter="\t"),
                            convert_options=pcsv.ConvertOptions(column_types={c: pa.int64() for c in "uga"}))
    except (pa.ArrowInvalid, OSError, EOFError) as e:  # the profile is small: it must be clean
        raise DataError(f"{path}: cannot read the user profile file (UserID, Gender, Age as integers): "
                        f"{' '.join(str(e).split())}") from None
    u = tab.column("u").to_numpy()
    order = np.argsort(u, kind="stable")
    return u[order], tab.column("g").to_numpy()[order], tab.column("a").to_numpy()[order]


def _join_profile(profile: Any, uid: np.ndarray, name: str) -> np.ndarray:
    """Gender or Age of each UserID; a user missing from the profile gets '0' (data.md §1.3)."""
    if profile is None:
        return np.zeros(len(uid), dtype=np.int64)
    users, gender, age = profile
    pos = np.clip(np.searchsorted(users, uid), 0, max(len(users) - 1, 0))
    hit = (users[pos] == uid) if len(users) else np.zeros(len(uid), bool)
    vals = gender if name == "Gender" else age
    return np.where(hit, vals[pos] % tc.MOD_P, 0).astype(np.int64)


def _sha256_file(path: Path) -> str:
    from recnas.data._io import file_sha256

    return file_sha256(path)
