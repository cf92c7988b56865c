"""Opening raw inputs: missing/empty-file errors, gzip detection, streaming checksum (data.md §4 R2, R5)."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

from recnas.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


def check_input(path: str | os.PathLike[str]) -> Path:
    """Return `path` as a Path, or raise a one-line DataError for a missing, unreadable or empty file."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if not p.is_file():
        raise DataError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty (0 bytes)")
    return p


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes (the extension does not matter)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


class HashingReader:
    """A read-only binary file object that hashes (sha256) and counts the compressed bytes it reads.

    Arrow's CSV reader pulls from it block by block, so the checksum costs no second pass.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._raw = open(path, "rb")
        self._gz = is_gzip(path)
        self._src: Any = gzip.GzipFile(fileobj=_Tee(self), mode="rb") if self._gz else None
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0
        self.last_byte = b""
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        """Read up to n decompressed bytes."""
        if self._gz:
            data = self._src.read(n)
        else:
            data = self._raw.read(n)
            self._account(data)
        if data:
            self.last_byte = data[-1:]
        return data

    def _account(self, data: bytes) -> None:
        self.sha256.update(data)
        self.bytes_read += len(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Close the underlying file."""
        if self._src is not None:
            self._src.close()
        self._raw.close()
        self.closed = True

    def finish_hash(self) -> str:
        """Hash whatever of the raw file is left unread (gzip trailer) and return the hex digest."""
        while True:
            rest = self._raw.read(1 << 20)
            if not rest:
                break
            self._account(rest)
        return self.sha256.hexdigest()

    def __enter__(self) -> "HashingReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Tee:
    """Raw-file view for GzipFile that routes every compressed byte through the hash."""

    def __init__(self, owner: HashingReader) -> None:
        self.owner = owner

    def read(self, n: int = -1) -> bytes:
        data = self.owner._raw.read(n)
        self.owner._account(data)
        return data


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """Streaming sha256 of a whole file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return h.hexdigest()
            h.update(b)


def source_identity(path: Path) -> dict[str, Any]:
    """What keys a cache to its input without reading it: resolved path, size and mtime."""
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
