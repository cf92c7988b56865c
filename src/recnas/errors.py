"""The one exception type the CLI turns into a one-line message (no traceback without --debug)."""

from __future__ import annotations

import errno


class RecnasError(Exception):
    """A user-facing error: says what is wrong, where, and how to fix it."""


class DataError(RecnasError):
    """Bad or missing input data (names the file, line and field where known)."""


class ConfigError(RecnasError):
    """An invalid configuration or architecture (names the file, key or block)."""


class CheckpointError(RecnasError):
    """A missing, corrupted or mismatched checkpoint."""


def write_failure(path: object, e: OSError, what: str) -> str:
    """The one-line message for a failed write of `what` (disk full, read-only...)."""
    reason = "no space left on device" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return (
        f"cannot write the {what} {path}: {reason}; what was written before is kept, free "
        "space and run the same command again to resume"
    )
