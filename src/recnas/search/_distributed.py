"""Search across torchrun ranks (issue 7.2): every rank proposes the same batch, scores its share,
and all ranks exchange the finished records, so the history (and the next batch) stays identical.

Rank r journals into `journal.<r>.jsonl`; the main rank alone writes `meta` and `skipped` events and
merges the files at the end. torch is imported only when a batch is exchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from recnas.search._journal import Journal
from recnas.search._journal import Record
from recnas.search._workers import score_one


class DistributedExecutor:
    """Rank r of W scores jobs[r::W]; every rank receives every result."""

    def __init__(
        self,
        score_fn: Callable[[Any], dict[str, Any]],
        journal: Journal,
        *,
        rank: int,
        world_size: int,
    ) -> None:
        self.score_fn = score_fn
        self.rank = rank
        self.world_size = world_size
        self.journal = Journal(journal.path, rank=rank)
        self._synced = False

    def score(self, jobs: Sequence[Record]) -> Iterator[Record]:
        """Score this rank's share, then all-gather (every rank calls this for every batch)."""
        import torch.distributed as dist

        if not self._synced:
            # rank 0 writes `meta` (and repairs a torn line) before any rank appends `started`
            dist.barrier()
            self._synced = True
        mine = [
            score_one(self.score_fn, r, self.journal, worker=self.rank)
            for r in jobs[self.rank :: self.world_size]
        ]
        # candidates stay behind: the other ranks proposed them too and hold them already
        light = [replace(r, candidate=None) for r in mine]
        parts: list[Any] = [None] * self.world_size
        dist.all_gather_object(parts, light)
        by_n = {r.n: r for r in jobs}
        for part in parts:
            for r in part:
                yield replace(r, candidate=by_n[r.n].candidate)

    def close(self) -> None:
        """Nothing to release (the process group belongs to the caller)."""
