"""Shared fixtures: the read-only ../shared folder (real data samples, published configs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

SHARED = Path(os.environ.get("RECNAS_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))

# the suite must fit 2 cores; more threads only oversubscribe
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Path to ../shared; skips the test cleanly where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared folder not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def nasrec_config_files(shared_dir: Path) -> list[Path]:
    """The six published NASRecNet JSON files."""
    files = sorted((shared_dir / "nasrec_configs").glob("*/*.json"))
    if len(files) != 6:
        pytest.skip(f"expected 6 NASRec configs under {shared_dir / 'nasrec_configs'}, found {len(files)}")
    return files
