"""The prepared-data cache: per-split memory-mappable .npy columns plus meta.json (data.md §2.4, §4 R2).

Layout: `<dir>/meta.json` and `<dir>/<split>/{label,dense,sparse}.npy` for split in train/val/test;
label int8 [N], dense float32 [N, D0], sparse int32 [N, F].
"""

from __future__ import annotations

import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import BinaryIO

import numpy as np

from recnas.data._protocols import SPLITS
from recnas.data.schema import FeatureSchema
from recnas.errors import DataError

CACHE_VERSION = 1
COLUMNS = ("label", "dense", "sparse")


@dataclass
class SplitArrays:
    """One split's columns (numpy memmaps): label [N] int8, dense [N, D0] float32, sparse [N, F] int32."""

    label: np.ndarray
    dense: np.ndarray
    sparse: np.ndarray

    def __len__(self) -> int:
        return int(self.label.shape[0])


class Cache:
    """A prepared dataset on disk: `.schema`, `.meta`, `.split(name)`, `.num_rows(name)`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        meta_path = self.path / "meta.json"
        if not meta_path.is_file():
            raise DataError(f"{self.path}: not a recnas data cache (no meta.json); run `recnas prepare` "
                            "or `recnas synth --cache` first")
        try:
            self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        except json.JSONDecodeError as e:
            raise DataError(f"{meta_path}: corrupted meta.json: {e}") from None
        self.schema = FeatureSchema.from_dict(self.meta["schema"])
        self._splits: dict[str, SplitArrays] = {}
        self.verify(deep=False)

    def verify(self, *, deep: bool = True) -> None:
        """Raise a one-line DataError naming the first damaged column file.

        Always: every .npy header is readable, its file is as long as its header says and its rows
        match meta.json. `deep`: also the sizes and sampled CRC-32s recorded in meta.json."""
        rows = self.meta.get("rows", {})
        for s in self.splits:
            for c in COLUMNS:
                p = self.path / s / f"{c}.npy"
                shape = _check_npy(p)
                if s in rows and shape[0] != int(rows[s]):
                    raise DataError(f"{p}: damaged cache: {shape[0]} rows, meta.json says {rows[s]}; "
                                    "run `recnas prepare --force` (or delete the directory) to rebuild it")
        if deep:
            for rel, rec in (self.meta.get("cache_files") or {}).items():
                got = file_record(self.path / rel)
                if got != rec:
                    raise DataError(f"{self.path / rel}: damaged cache: size/CRC {got} differ from meta.json "
                                    f"{rec}; run `recnas prepare --force` (or delete the directory)")

    @property
    def splits(self) -> tuple[str, ...]:
        """Split names present in the cache."""
        return tuple(s for s in SPLITS if (self.path / s).is_dir())

    def num_rows(self, split: str) -> int:
        """Rows in one split ('trainval' = train + val)."""
        if split == "trainval":
            return self.num_rows("train") + self.num_rows("val")
        return int(self.meta["rows"][split])

    def split(self, name: str) -> SplitArrays:
        """The memory-mapped columns of split `name`."""
        if name not in self._splits:
            d = self.path / name
            if not d.is_dir():
                raise DataError(f"{self.path}: no split {name!r}; splits are {list(self.splits)}")
            cols = [_load(d / f"{c}.npy") for c in COLUMNS]
            self._splits[name] = SplitArrays(*cols)
        return self._splits[name]

    def __repr__(self) -> str:
        rows = {s: self.num_rows(s) for s in self.splits}
        return f"Cache({str(self.path)!r}, schema={self.schema.name!r}, rows={rows})"


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r")
    except ValueError:  # numpy cannot mmap a zero-row array
        return np.load(path)
    except FileNotFoundError:
        raise DataError(f"{path}: missing cache column; delete the cache directory and prepare again") \
            from None


def _check_npy(path: Path) -> tuple[int, ...]:
    """Shape of an .npy file whose length matches its header, else a one-line DataError."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)  # the header only
            offset = f.tell()
    except FileNotFoundError:
        raise DataError(f"{path}: missing cache column; run `recnas prepare --force` (or delete the "
                        "directory) to rebuild it") from None
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{path}: damaged cache column (unreadable .npy header: {e}); run `recnas prepare "
                        "--force` (or delete the directory) to rebuild it") from None
    want = offset + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    size = path.stat().st_size
    if size != want:
        raise DataError(f"{path}: damaged cache column: {size} bytes, its header needs {want} (truncated "
                        "or overwritten); run `recnas prepare --force` (or delete the directory) to rebuild it")
    return tuple(int(x) for x in shape)


SAMPLE_BYTES = 1 << 20


def file_record(path: Path) -> dict[str, int]:
    """Size and CRC-32 of the first and last MiB of a file: cheap at any size, catches truncation
    and overwritten heads or tails."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        crc = zlib.crc32(f.read(SAMPLE_BYTES))
        if size > SAMPLE_BYTES:
            f.seek(max(SAMPLE_BYTES, size - SAMPLE_BYTES))
            crc = zlib.crc32(f.read(), crc)
    return {"bytes": size, "crc32": crc}


def cache_file_records(root: Path) -> dict[str, dict[str, int]]:
    """file_record of every column file of a cache being written, keyed 'split/column.npy'."""
    return {f"{s}/{c}.npy": file_record(root / s / f"{c}.npy") for s in SPLITS for c in COLUMNS
            if (root / s / f"{c}.npy").is_file()}


def open_cache(path: str | os.PathLike[str]) -> Cache:
    """Open a cache directory written by `recnas prepare` or `synth_cache`."""
    return Cache(path)


class NpyWriter:
    """Streams rows into an .npy file whose final shape is known in advance (bounded memory)."""

    def __init__(self, path: Path, dtype: np.dtype[Any] | type, shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.shape = path, np.dtype(dtype), shape
        self.f: BinaryIO = open(path, "wb")
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.f, header)
        self.rows = 0

    def write(self, arr: np.ndarray) -> None:
        """Append rows (first axis)."""
        np.ascontiguousarray(arr, dtype=self.dtype).tofile(self.f)
        self.rows += arr.shape[0]

    def close(self) -> None:
        """Close, checking that exactly the announced number of rows was written."""
        self.f.close()
        if self.rows != self.shape[0]:
            raise RuntimeError(f"{self.path}: wrote {self.rows} rows, header says {self.shape[0]}")


class SplitWriter:
    """The three column writers of every split of a cache being built."""

    def __init__(self, root: Path, counts: dict[str, int], *, num_dense: int, num_sparse: int,
                 label_dtype: type = np.int8) -> None:
        self.writers: dict[str, list[NpyWriter]] = {}
        for s in SPLITS:
            (root / s).mkdir(parents=True, exist_ok=True)
            n = counts.get(s, 0)
            self.writers[s] = [NpyWriter(root / s / "label.npy", label_dtype, (n,)),
                               NpyWriter(root / s / "dense.npy", np.float32, (n, num_dense)),
                               NpyWriter(root / s / "sparse.npy", np.int32, (n, num_sparse))]

    def write(self, split_ids: np.ndarray, label: np.ndarray, dense: np.ndarray,
              sparse: np.ndarray) -> None:
        """Route each row to its split (ids 0/1/2; -1 = dropped), keeping file order."""
        for k, s in enumerate(SPLITS):
            sel = split_ids == k
            if not sel.any():
                continue
            lw, dw, sw = self.writers[s]
            lw.write(label[sel])
            dw.write(dense[sel])
            sw.write(sparse[sel])

    def close(self) -> None:
        """Close every file."""
        for ws in self.writers.values():
            for w in ws:
                w.close()
