"""recnas.data: streaming readers, NASRec/BARS protocols, the column cache, the batch loader and synth.

Public API (data.md §1-§5): prepare_dataset, open_cache, BatchLoader, synth_cache, write_synth,
FeatureSchema, reference_schema, Batch.
"""

from __future__ import annotations

from recnas.data._cache import Cache
from recnas.data._cache import SplitArrays
from recnas.data._cache import open_cache
from recnas.data._formats import FORMATS
from recnas.data._prepare import PrepareOptions
from recnas.data._prepare import PrepareResult
from recnas.data._prepare import prepare_dataset
from recnas.data._protocols import PROTOCOLS
from recnas.data._protocols import SPLITS
from recnas.data._synth import HiddenModel
from recnas.data._synth import SynthSource
from recnas.data._synth_out import DEMO_TABLE_CAP
from recnas.data._synth_out import synth_cache
from recnas.data._synth_out import write_synth
from recnas.data.schema import FeatureSchema
from recnas.data.schema import reference_schema

from typing import Any

# torch-backed names load on first use, so `recnas prepare` / `recnas synth` start without torch
_LAZY = {"BatchLoader": "recnas.data._loader", "Batch": "recnas.data.batch"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'recnas.data' has no attribute {name!r}")


__all__ = [
    "Batch", "BatchLoader", "Cache", "DEMO_TABLE_CAP", "FORMATS", "FeatureSchema", "HiddenModel",
    "PROTOCOLS", "PrepareOptions", "PrepareResult", "SPLITS", "SplitArrays", "SynthSource",
    "open_cache", "prepare_dataset", "reference_schema", "synth_cache", "write_synth",
]
