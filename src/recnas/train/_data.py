"""The one place recnas.train builds data loaders (recnas.data.BatchLoader over a cache)."""

from __future__ import annotations

from typing import Any
from typing import Sequence

from recnas.data.batch import Batch


def make_loader(
    cache: Any,
    splits: str | Sequence[str],
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    drop_last: bool = True,
    limit_rows: int | None = None,
) -> Any:
    """A BatchLoader over `splits` of `cache` (file order unless `shuffle`)."""
    from recnas.data import BatchLoader  # local: recnas.data is optional for the loop itself

    split = splits if isinstance(splits, str) else list(splits)
    return BatchLoader(
        cache,
        split,
        batch_size,
        shuffle=shuffle,
        seed=seed,
        drop_last=drop_last,
        limit_rows=limit_rows,
    )


def num_rows(cache: Any, split: str) -> int:
    """Rows in one split of `cache`."""
    return int(cache.num_rows(split))


def materialize(loader: Any, *, device: Any = "cpu", limit: int | None = None) -> list[Batch]:
    """The loader's batches held in memory (on `device`), (every candidate sees the same rows)."""
    out: list[Batch] = []
    for b in loader:
        if limit is not None and len(out) >= limit:
            break
        b = Batch(b.dense.contiguous(), b.sparse.contiguous(), b.label.contiguous())
        out.append(b.to(device))
    return out
