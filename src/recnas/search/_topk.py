"""Final selection input (method.md §7.1): unique architectures by hash, sorted by proxy loss."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recnas.runs import atomic_write_json
from recnas.search._journal import COMPLETE
from recnas.search._journal import Record


def top_k(records: Sequence[Record], k: int, *, objective: str = "logloss") -> list[Record]:
    """The k best COMPLETE records by `objective`, one per hash (ties: earlier proposal first)."""
    best: dict[str, Record] = {}
    for r in records:
        if r.state != COMPLETE or not math.isfinite(r.value(objective)):
            continue
        old = best.get(r.hash)
        if old is None or (r.value(objective), r.n) < (old.value(objective), old.n):
            best[r.hash] = r
    ranked = sorted(best.values(), key=lambda r: (r.value(objective), r.n))
    return ranked[: max(0, k)]


def export_best(
    path: str | os.PathLike[str],
    records: Sequence[Record],
    k: int,
    *,
    objective: str = "logloss",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the top k as best_architectures.json (atomically); returns the path."""
    top = top_k(records, k, objective=objective)
    doc = {
        "format": "recnas-best-v1",
        "objective": objective,
        "k": k,
        "candidates": sum(r.state == COMPLETE for r in records),
        **(extra or {}),
        "architectures": [
            {
                "rank": i,
                "n": r.n,
                "hash": r.hash,
                "values": r.values,
                "flops": r.flops,
                "params": r.params,
                "seconds": r.seconds,
                "arch": r.arch,
            }
            for i, r in enumerate(top, start=1)
        ],
    }
    return atomic_write_json(path, doc)
