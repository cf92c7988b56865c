"""The one exception type the CLI turns into a one-line message (no traceback without --debug)."""

from __future__ import annotations


class RecnasError(Exception):
    """A user-facing error: says what is wrong, where, and how to fix it."""


class DataError(RecnasError):
    """Bad or missing input data (names the file, line and field where known)."""


class ConfigError(RecnasError):
    """An invalid configuration or architecture (names the file, key or block)."""


class CheckpointError(RecnasError):
    """A missing, corrupted or mismatched checkpoint."""
