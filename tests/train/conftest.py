"""Fixtures of the trainer tests: a tiny schema and space, an in-memory cache, a small supernet."""

from __future__ import annotations

import dataclasses

import pytest

from recnas.data.schema import FeatureSchema
from recnas.space import get_space

from ._standins import MemCache
from ._standins import MemLoader


@pytest.fixture
def tiny_schema() -> FeatureSchema:
    return FeatureSchema(
        ("d0", "d1", "d2"),
        ("s0", "s1", "s2", "s3"),
        (20, 30, 40, 50),
        embed_dim=16,
        name="criteo-synth",
    )


@pytest.fixture
def tiny_space():
    return dataclasses.replace(
        get_space("full"), num_blocks=3, dense_widths=(8, 16), sparse_widths=(2, 4)
    )


@pytest.fixture
def mem_cache(tiny_schema, monkeypatch):
    """An in-memory cache; recnas.train builds its loaders over it (stand-in for recnas.data)."""
    from recnas.train import _data

    cache = MemCache(tiny_schema, {"train": 1024, "val": 300, "test": 200})
    monkeypatch.setattr(_data, "make_loader", MemLoader)
    return cache
