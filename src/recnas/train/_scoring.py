"""Candidate scoring (method.md §5): inherit the path, fine-tune, val log loss.

`finetune="head"` is the reference's procedure (fresh Adagrad lr 0.04, 10% warm-up then cosine,
500 steps at batch 512, clip 5, log loss on the first val rows) but fast: the head input is frozen,
so the body runs forward only (no autograd graph) and the fine-tune is a linear model on those
[B, H] features. `finetune="path"` fine-tunes the inherited subnet's blocks and head together
(Adam, `path_lr`), the embedding tables shared with the supernet and frozen: a short-training proxy
that starts from the supernet's weights, for supernets trained too briefly for their frozen features
to rank (docs/supernet.md). The fine-tune batches and val rows are fixed once, in memory, for every
candidate; the supernet itself is never modified.
"""

from __future__ import annotations

import time
from typing import Any
from typing import Iterator

import torch
from torch import nn

from recnas.data.batch import Batch
from recnas.errors import ConfigError
from recnas.nn.quant import head_logits
from recnas.space import Architecture
from recnas.train import _data
from recnas.train._loop import train
from recnas.train._metrics import autocast
from recnas.train._metrics import evaluate
from recnas.train._supernet import default_batch_size

SPEC_VAL_ROWS = 150 * 8192  # Criteo's 1,228,800 (method.md §5)
FINETUNES = ("head", "path")


class HeadModel(nn.Module):
    """The head of one path as a standalone linear model: logits = features @ w + b."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, quantise: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone().float())
        self.bias = nn.Parameter(bias.detach().clone().float().reshape(1))
        self.quantise = quantise  # co-design: the head at its charged bits (nn.quant.HEAD_BITS)

    def forward(self, features: torch.Tensor, sparse: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B] from head features [B, H] (`sparse` is unused: the Batch slot is empty)."""
        return head_logits(features.float(), self.weight, self.bias, self.quantise)


class FeatureBatches:
    """Batches whose `dense` is the frozen head input of `arch`, computed forward-only.

    Consecutive batches are run through the body together, up to `chunk_rows` rows a call (every op
    acts on each row independently, so this only saves per-call overhead), then split back.
    """

    def __init__(
        self,
        supernet: nn.Module,
        arch: Architecture,
        batches: list[Batch],
        device: torch.device,
        *,
        chunk_rows: int = 8192,
    ) -> None:
        self.supernet, self.arch, self.batches, self.device = supernet, arch, batches, device
        self.chunk_rows = chunk_rows

    def __len__(self) -> int:
        return len(self.batches)

    def _chunks(self) -> Iterator[list[Batch]]:
        group: list[Batch] = []
        rows = 0
        for b in self.batches:
            if group and rows + len(b) > self.chunk_rows:
                yield group
                group, rows = [], 0
            group.append(b)
            rows += len(b)
        if group:
            yield group

    def __iter__(self) -> Iterator[Batch]:
        for group in self._chunks():
            dense = torch.cat([b.dense for b in group]) if len(group) > 1 else group[0].dense
            sparse = torch.cat([b.sparse for b in group]) if len(group) > 1 else group[0].sparse
            with torch.no_grad(), autocast(self.device):
                feats = self.supernet.features(dense, sparse, self.arch).float()
            start = 0
            for b in group:
                yield Batch(feats[start : start + len(b)], b.sparse[:, :0], b.label)
                start += len(b)


class CandidateScorer:
    """Scores architectures through one trained supernet: `.score(arch) -> {"logloss", "auc", ...}`.

    `batches=(train_batches, val_batches)` replaces reading them from `cache` (then None is fine).
    `warmup`: a float in [0, 1) is a share of the fine-tune steps (the spec's 50 of 500 is 0.1, so
    a short fine-tune is not all warm-up); an int is a step count.
    """

    def __init__(
        self,
        supernet: nn.Module,
        cache: Any,
        *,
        finetune_steps: int = 500,
        lr: float = 0.04,
        warmup: int | float = 0.1,
        batch_size: int | None = None,
        val_rows: int | None = SPEC_VAL_ROWS,
        eval_batch_size: int = 8192,
        seed: int = 0,
        device: str | torch.device = "cpu",
        train_split: str = "train",
        val_split: str = "val",
        clip: float = 5.0,
        batches: tuple[list[Batch], list[Batch]] | None = None,
        finetune: str = "head",
        path_lr: float = 1e-3,
    ) -> None:
        if finetune not in FINETUNES:
            raise ConfigError(f"unknown fine-tune mode {finetune!r}; choose from {list(FINETUNES)}")
        self.finetune_mode, self.path_lr = finetune, float(path_lr)
        self.supernet, self.device = supernet, torch.device(device)
        self.finetune_steps, self.lr, self.warmup, self.clip = (
            int(finetune_steps),
            lr,
            warmup,
            clip,
        )
        self.seed = seed
        self.batch_size = batch_size or default_batch_size(supernet.schema)
        if batches is not None:  # fixed sets given in memory (benchmarks, workers sharing them)
            self.train_batches = [b.to(self.device) for b in batches[0]]
            self.val_batches = [b.to(self.device) for b in batches[1]]
            self.val_rows = sum(len(b) for b in self.val_batches)
            return
        # fixed sets: the first `finetune_steps` train batches and the first `val_rows` val rows
        ft = _data.make_loader(
            cache,
            train_split,
            self.batch_size,
            shuffle=False,
            seed=seed,
            drop_last=True,
            limit_rows=self.finetune_steps * self.batch_size,
        )
        self.train_batches = _data.materialize(ft, device=self.device, limit=self.finetune_steps)
        split_rows = _data.num_rows(cache, val_split)  # val_rows None: the whole split
        self.val_rows = split_rows if val_rows is None else min(int(val_rows), split_rows)
        va = _data.make_loader(
            cache,
            val_split,
            eval_batch_size,
            shuffle=False,
            seed=seed,
            drop_last=False,
            limit_rows=self.val_rows,
        )
        self.val_batches = _data.materialize(va, device=self.device)
        self.val_rows = sum(len(b) for b in self.val_batches)

    def finetune(self, arch: Architecture, steps: int | None = None) -> HeadModel:
        """A copy of `arch`'s head, fine-tuned on the fixed batches (the supernet is untouched)."""
        steps = self.finetune_steps if steps is None else int(steps)
        w, b = self.supernet.head(arch)
        head = HeadModel(w, b, getattr(self.supernet, "quant_head", False)).to(self.device)
        if steps > 0:
            train(
                head,
                FeatureBatches(self.supernet, arch, self.train_batches, self.device),
                lr=self.lr,
                steps=steps,
                warmup=self.warmup,
                clip=self.clip,
                seed=self.seed,
                device=self.device,
                log_every=steps,
                progress=False,
                reseed=False,
            )
        return head

    def finetune_path(self, arch: Architecture, steps: int | None = None) -> nn.Module:
        """`arch` as a standalone model with the supernet's weights, blocks and head fine-tuned."""
        from recnas.nn import build_model
        from recnas.nn.standalone import inherit_weights

        steps = self.finetune_steps if steps is None else int(steps)
        # the supernet's table, shared and frozen: no per-candidate table to allocate or copy
        model = build_model(arch, self.supernet.schema, layernorm=self.supernet.layernorm,
                            embedding=self.supernet.embedding)
        inherit_weights(model, self.supernet, arch).to(self.device)
        body = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
        table = self.supernet.embedding.weight
        was = table.requires_grad
        table.requires_grad_(False)  # no gradient piles up on the supernet's table
        try:
            if steps > 0:
                train(model, self.train_batches, lr=self.path_lr, optimizer="adam", steps=steps,
                      warmup=self.warmup, clip=self.clip, params=body, seed=self.seed,
                      device=self.device, log_every=steps, progress=False, reseed=False)
        finally:
            table.requires_grad_(was)
        return model.eval()

    def score(
        self, arch: Architecture, *, finetune_steps: int | None = None
    ) -> dict[str, float | int]:
        """Fine-tune `arch`'s head and score it on the fixed val rows (deterministic on CPU).

        `finetune_steps` overrides the scorer's count (1 = the "no fine-tuning" ablation of §5).
        """
        t0 = time.perf_counter()
        self.supernet.eval()
        steps = self.finetune_steps if finetune_steps is None else int(finetune_steps)
        if self.finetune_mode == "path":
            model = self.finetune_path(arch, steps)
            t1 = time.perf_counter()
            m = evaluate(lambda b: model(b.dense, b.sparse), self.val_batches, device=self.device)
        else:
            head = self.finetune(arch, steps)
            t1 = time.perf_counter()
            feats = FeatureBatches(self.supernet, arch, self.val_batches, self.device)
            m = evaluate(lambda b: head(b.dense), feats, device=self.device)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return {
            "logloss": m["logloss"],
            "auc": m["auc"],
            "accuracy": m["accuracy"],
            "seconds": time.perf_counter() - t0,
            "finetune_steps": steps,
            "val_rows": int(m["rows"]),
            "finetune_seconds": t1 - t0,
            "eval_seconds": time.perf_counter() - t1,
        }
