"""The search's score function: a picklable factory, so worker processes build their scorer once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recnas.pipeline._context import need


@dataclass(frozen=True)
class ScorerFactory:
    """Builds `score(arch) -> {logloss, auc, ..., flops, params}` from a supernet and a cache."""

    supernet: str
    cache: str
    finetune_steps: int
    lr: float
    batch_size: int | None
    val_rows: int | None
    seed: int
    device: str
    threads: int | None = None
    finetune: str = "head"
    path_lr: float = 1e-3

    def __call__(self) -> CostedScorer:
        """Load the supernet and the cache; fix the fine-tune and val rows (once per process)."""
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        load_supernet = need("recnas.train", "load_supernet", "search")
        scorer_cls = need("recnas.train", "CandidateScorer", "search")
        cache = need("recnas.data", "open_cache", "search")(self.cache)
        net, _ = load_supernet(self.supernet, device=self.device)
        scorer = scorer_cls(
            net,
            cache,
            finetune_steps=self.finetune_steps,
            lr=self.lr,
            batch_size=self.batch_size,
            val_rows=self.val_rows,
            seed=self.seed,
            device=self.device,
            finetune=self.finetune,
            path_lr=self.path_lr,
        )
        return CostedScorer(scorer, cache.schema)


class CostedScorer:
    """A candidate's proxy scores plus its analytic FLOPs and parameters (standalone form)."""

    def __init__(self, scorer: Any, schema: Any) -> None:
        self.scorer = scorer
        self.schema = schema
        self.count = need("recnas.hardware.flops", "count", "search")

    def __call__(self, arch: Any) -> dict[str, Any]:
        """Scores of `arch`."""
        out = dict(self.scorer.score(arch))
        fc = self.count(arch, self.schema)
        out.setdefault("flops", fc.flops)
        out.setdefault("params", fc.params)
        return out
