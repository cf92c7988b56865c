"""Fixtures of the torchrun tests: one small synthetic cache and a briefly trained supernet."""

from __future__ import annotations

from pathlib import Path

import pytest
from _dist_helpers import cli
from _dist_helpers import make_cache


@pytest.fixture(autouse=True)
def _not_under_torchrun(monkeypatch) -> None:
    """The test process itself is a single process, whatever launched pytest."""
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="session")
def dist_cache(tmp_path_factory) -> Path:
    """1024 synthetic Criteo-schema rows, tables capped at 500."""
    return make_cache(tmp_path_factory.mktemp("dist") / "cache", rows=1024)


@pytest.fixture(scope="session")
def dist_supernet(dist_cache: Path, tmp_path_factory) -> Path:
    """A small-space supernet trained for 2 steps (enough for the search to score through it)."""
    out = tmp_path_factory.mktemp("dist") / "supernet"
    assert cli(["supernet", "train", "--data", str(dist_cache), "--out", str(out), "--space",
                "small", "--batch-size", "64", "--max-steps", "2", "--lr", "0.02", "--device",
                "cpu", "--ckpt-every", "0"]) == 0
    return out / "supernet.pt"
