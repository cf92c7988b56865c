"""Opening raw inputs: missing/empty-file errors, gzip detection, streaming checksum (data.md §4 R2, R5)."""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import Any

from recnas.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


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
        self.lines = 0  # complete lines handed out so far (names the last good line of a damaged gzip)
        self.error: DataError | None = None  # a damaged gzip stream, raised by the caller after reading

    def read(self, n: int = -1) -> bytes:
        """Read up to n decompressed bytes (a leading UTF-8 byte-order mark is dropped)."""
        first = not self.last_byte and self.lines == 0
        if self._gz:
            data = self._read_gz(n)
        else:
            data = self._raw.read(n)
            self._account(data)
        if first and data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM):]
        if data:
            self.last_byte = data[-1:]
            self.lines += data.count(b"\n")
        return data

    def _read_gz(self, n: int) -> bytes:
        """Decompress up to n bytes in 64 KiB steps, so that the lines before a damaged or truncated part
        are still delivered. A damaged stream reads as its end here and is kept in `error`: an exception
        raised inside Arrow's read-ahead can abort the interpreter at exit, so the caller raises it."""
        parts: list[bytes] = []
        got = 0
        while self.error is None and (n < 0 or got < n):
            try:
                b = self._src.read(1 << 16 if n < 0 else min(1 << 16, n - got))
            except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
                good = self.lines + sum(p.count(b"\n") for p in parts)
                self.error = DataError(f"{self.path}: the gzip stream ends early or is damaged after line "
                                       f"{good} (the last complete line read): {e}; no cache was written")
                break
            if not b:
                break
            parts.append(b)
            got += len(b)
        return b"".join(parts)

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
