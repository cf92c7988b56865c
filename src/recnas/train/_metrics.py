"""Exact evaluation over a split (log loss in float64, AUC, accuracy) and the metrics JSONL log."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Iterable

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from recnas.data.batch import Batch


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA; a disabled context elsewhere (CPU stays fp32 for exactness)."""
    return torch.autocast(
        device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"
    )


def scores(logits: np.ndarray, labels: np.ndarray) -> dict[str, float | int]:
    """Log loss (float64, from logits: softplus(z) - y z), ROC AUC and accuracy at 0.5."""
    z = logits.astype(np.float64)
    y = labels.astype(np.float64)
    logloss = float(np.mean(np.logaddexp(0.0, z) - y * z)) if len(z) else float("nan")
    both = len(y) > 0 and 0.0 < y.mean() < 1.0
    auc = float(roc_auc_score(y, z)) if both else float("nan")  # undefined with one class
    acc = float(np.mean((z > 0) == (y > 0.5))) if len(z) else float("nan")
    return {"logloss": logloss, "auc": auc, "accuracy": acc, "rows": int(len(z))}


def evaluate(
    model_fn: Callable[[Batch], torch.Tensor],
    loader: Iterable[Batch],
    *,
    device: str | torch.device = "cpu",
) -> dict[str, float | int]:
    """Scores of `model_fn(batch) -> logits [B]` over every batch of `loader` (no sampling)."""
    device = torch.device(device)
    zs: list[torch.Tensor] = []
    ys: list[torch.Tensor] = []
    with torch.inference_mode(), autocast(device):
        for batch in loader:
            batch = batch.to(device, non_blocking=True)
            zs.append(model_fn(batch).float().reshape(-1))
            ys.append(batch.label.reshape(-1))
    if not zs:
        return scores(np.zeros(0), np.zeros(0))
    # one transfer at the end: no host sync per batch
    z = torch.cat(zs).cpu().numpy()
    y = torch.cat(ys).float().cpu().numpy()
    return scores(z, y)


class MetricsLog:
    """Append-only JSONL of training metrics (one object per logged step), flushed per line."""

    def __init__(self, path: str | os.PathLike[str] | None, *, enabled: bool = True) -> None:
        self.path = Path(path) if path is not None and enabled else None

    def truncate_after(self, step: int) -> None:
        """Drop lines past `step` (written by a run that crashed after its last checkpoint)."""
        if self.path is None or not self.path.is_file():
            return
        keep = []
        for line in self.path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue  # a torn last line
        self.path.write_text("".join(s + "\n" for s in keep))

    def write(self, row: dict[str, Any]) -> None:
        """Append one row."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
