"""Batch: what every loader yields and every model consumes."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Batch:
    """One mini-batch: dense [B, D0] float32, sparse [B, F] int32/int64 row ids, label [B] float32."""

    dense: torch.Tensor
    sparse: torch.Tensor
    label: torch.Tensor

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        """Move all three tensors to `device`."""
        return Batch(
            self.dense.to(device, non_blocking=non_blocking),
            self.sparse.to(device, non_blocking=non_blocking),
            self.label.to(device, non_blocking=non_blocking),
        )

    def pin_memory(self) -> "Batch":
        """Pin host memory for asynchronous copies to CUDA."""
        return Batch(self.dense.pin_memory(), self.sparse.pin_memory(), self.label.pin_memory())
