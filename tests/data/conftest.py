"""Fixtures for the data tests: tiny raw files written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture()
def criteo_file(tmp_path: Path):
    """Write Criteo lines (list of str) to a file with the given line ending; returns the path."""

    def make(lines: list[str], *, name: str = "train.txt", eol: str = "\n", final_eol: bool = True) -> Path:
        p = tmp_path / name
        text = eol.join(lines) + (eol if final_eol else "")
        p.write_bytes(text.encode())
        return p

    return make
