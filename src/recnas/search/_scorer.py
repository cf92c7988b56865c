"""The supernet scorer factory (method.md §5): picklable, so each worker builds its own scorer.

The only part of recnas.search that touches torch, and only inside `__call__` (lazy imports).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from recnas.search._workers import worker_rank


@dataclass(frozen=True)
class SupernetScorerFactory:
    """Builds `score(arch) -> {"logloss", "auc", ..., "flops", "params"}` from a checkpoint."""

    supernet: str  # checkpoint path
    data: str  # data cache directory
    finetune_steps: int = 500
    val_rows: int | None = None  # None: the spec default (or the whole val split if smaller)
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None  # torch threads per process (None: cores / workers)
    workers: int = 1

    def __call__(self) -> ArchScorer:
        """Load the supernet and the fixed fine-tune/val batches once; return the score function."""
        import torch

        from recnas.data import open_cache
        from recnas.train import CandidateScorer
        from recnas.train import load_supernet

        threads = self.threads or max(1, (os.cpu_count() or 1) // max(1, self.workers))
        torch.set_num_threads(threads)
        device = self.device
        rank = worker_rank()
        if device.startswith("cuda") and rank is not None and torch.cuda.device_count() > 1:
            device = f"cuda:{rank % torch.cuda.device_count()}"  # one worker per GPU
        net, _cfg = load_supernet(self.supernet, device=device)
        kw: dict[str, Any] = {} if self.val_rows is None else {"val_rows": self.val_rows}
        scorer = CandidateScorer(
            net,
            open_cache(self.data),
            finetune_steps=self.finetune_steps,
            seed=self.seed,
            device=device,
            **kw,
        )
        return ArchScorer(scorer, net.schema)


class ArchScorer:
    """Scores one architecture through the supernet and adds its analytic FLOPs and parameters."""

    def __init__(self, scorer: Any, schema: Any) -> None:
        self.scorer = scorer
        self.schema = schema

    def __call__(self, arch: Any) -> dict[str, Any]:
        """Proxy metrics (val log loss after the head fine-tune), FLOPs (2 per MAC), params."""
        from recnas.hardware.flops import count

        out = dict(self.scorer.score(arch))
        fc = count(arch, self.schema)
        out.update(flops=fc.flops, params=fc.params, macs=fc.macs)
        return out
