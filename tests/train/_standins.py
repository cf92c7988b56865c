"""Tiny private stand-ins for the trainer tests: a sparse-embedding model, in-memory loaders."""

from __future__ import annotations

import torch
from torch import nn

from recnas.data.batch import Batch


class TinyModel(nn.Module):
    """Embedding(sparse=True) over F fields + MLP: forward(dense, sparse) -> logits [B]."""

    def __init__(
        self,
        *,
        dense: int = 3,
        fields: int = 4,
        rows: int = 50,
        dim: int = 4,
        sparse: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.emb = nn.Embedding(rows, dim, sparse=sparse)
        self.body = nn.Linear(dense + fields * dim, 8)
        self.out = nn.Linear(8, 1)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def forward(self, dense: torch.Tensor, sparse: torch.Tensor) -> torch.Tensor:
        """Logits [B]."""
        e = self.emb(sparse.long()).flatten(1)
        return self.out(torch.relu(self.body(torch.cat([dense, e], 1)))).squeeze(-1)


class ListLoader:
    """Random batches in memory; shuffles their order per epoch from (seed, epoch)."""

    def __init__(
        self,
        *,
        batches: int = 5,
        batch_size: int = 16,
        dense: int = 3,
        fields: int = 4,
        rows: int = 50,
        seed: int = 0,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.seed, self.epoch = seed, 0
        self.data = []
        for _ in range(batches):
            d = torch.randn(batch_size, dense, generator=g)
            s = torch.randint(0, rows, (batch_size, fields), generator=g, dtype=torch.int32)
            y = (torch.rand(batch_size, generator=g) < 0.3).float()
            self.data.append(Batch(d, s, y))

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch's shuffle."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        order = torch.randperm(
            len(self.data), generator=torch.Generator().manual_seed(self.seed * 1000 + self.epoch)
        )
        return (self.data[i] for i in order.tolist())


class MemCache:
    """A cache stand-in: schema + splits held as tensors (label, dense, sparse)."""

    def __init__(self, schema, rows: dict[str, int], *, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        self.schema, self.meta, self.splits = schema, {}, {}
        sizes = torch.tensor(schema.table_sizes)
        for name, n in rows.items():
            dense = torch.randn(n, schema.num_dense, generator=g)
            sparse = (
                (torch.rand(n, schema.num_sparse, generator=g) * sizes).long().clamp(max=sizes - 1)
            )
            logit = dense[:, 0] - 0.5 + (sparse[:, 0] % 2).float()
            label = (torch.rand(n, generator=g) < torch.sigmoid(logit)).float()
            self.splits[name] = Batch(dense, sparse.int(), label)

    def num_rows(self, split: str) -> int:
        return len(self.splits[split])


class MemLoader:
    """BatchLoader stand-in over MemCache (file order or a per-epoch seeded shuffle)."""

    def __init__(
        self, cache, split, batch_size, *, shuffle=False, seed=0, drop_last=True, limit_rows=None
    ) -> None:
        names = [split] if isinstance(split, str) else list(split)
        parts = [cache.splits[n] for n in names]
        self.data = Batch(
            torch.cat([p.dense for p in parts]),
            torch.cat([p.sparse for p in parts]),
            torch.cat([p.label for p in parts]),
        )
        n = len(self.data) if limit_rows is None else min(limit_rows, len(self.data))
        self.n, self.bs, self.shuffle, self.seed, self.drop_last, self.epoch = (
            n,
            batch_size,
            shuffle,
            seed,
            drop_last,
            0,
        )

    def set_epoch(self, e: int) -> None:
        self.epoch = e

    def __len__(self) -> int:
        return self.n // self.bs if self.drop_last else -(-self.n // self.bs)

    def __iter__(self):
        idx = torch.arange(self.n)
        if self.shuffle:
            idx = torch.randperm(
                self.n, generator=torch.Generator().manual_seed(self.seed * 7919 + self.epoch)
            )
        for i in range(len(self)):
            j = idx[i * self.bs : (i + 1) * self.bs]
            yield Batch(self.data.dense[j], self.data.sparse[j], self.data.label[j])
