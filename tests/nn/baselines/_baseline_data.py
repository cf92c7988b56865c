"""Private test data for the baselines: a planted pairwise interaction and an in-memory cache stand-in."""

from __future__ import annotations

import torch

from recnas.data.batch import Batch
from recnas.data.schema import FeatureSchema

SCHEMA = FeatureSchema(
    ("d0", "d1"), ("c0", "c1", "c2", "c3"), (12, 12, 12, 12), embed_dim=8, name="planted"
)


def planted(n: int, *, seed: int) -> Batch:
    """Rows whose label depends on an XOR-like product of fields c0 and c1 (invisible to LR)."""
    g = torch.Generator().manual_seed(1234)  # the planted signs are fixed; rows vary with `seed`
    # exactly balanced signs over rows 1..10, so neither field alone says anything about the label
    half = torch.tensor([0.0] + [1.0] * 5 + [-1.0] * 5 + [0.0])
    s0 = torch.cat([half[:1], half[1:11][torch.randperm(10, generator=g)], half[11:]])
    s1 = torch.cat([half[:1], half[1:11][torch.randperm(10, generator=g)], half[11:]])
    g = torch.Generator().manual_seed(seed)
    sparse = torch.randint(1, 11, (n, 4), generator=g)
    dense = torch.randn(n, 2, generator=g)
    logit = 3.0 * s0[sparse[:, 0]] * s1[sparse[:, 1]] + 0.3 * dense[:, 0]
    label = (torch.rand(n, generator=g) < torch.sigmoid(logit)).float()
    return Batch(dense, sparse.int(), label)


class ListLoader:
    """Fixed-order batches of one Batch (drop_last), with the BatchLoader surface the trainer uses."""

    def __init__(self, data: Batch, batch_size: int, *, drop_last: bool = True) -> None:
        self.data, self.bs, self.drop_last = data, batch_size, drop_last

    def set_epoch(self, epoch: int) -> None:
        """Same order every epoch."""

    def __len__(self) -> int:
        n = len(self.data)
        return n // self.bs if self.drop_last else -(-n // self.bs)

    def __iter__(self):
        for i in range(len(self)):
            sl = slice(i * self.bs, (i + 1) * self.bs)
            yield Batch(self.data.dense[sl], self.data.sparse[sl], self.data.label[sl])


class MemCache:
    """open_cache stand-in: .schema and .num_rows over in-memory splits."""

    def __init__(self, rows: dict[str, int]) -> None:
        self.schema, self.meta = SCHEMA, {}
        self.splits = {name: planted(n, seed=i) for i, (name, n) in enumerate(rows.items())}

    def num_rows(self, split: str) -> int:
        return len(self.splits[split])


def mem_loader(
    cache: MemCache, splits, batch_size: int, *, shuffle: bool, seed: int, drop_last: bool
) -> ListLoader:
    """make_loader stand-in over MemCache (splits concatenated in the given order)."""
    names = [splits] if isinstance(splits, str) else list(splits)
    parts = [cache.splits[n] for n in names]
    data = Batch(
        torch.cat([p.dense for p in parts]),
        torch.cat([p.sparse for p in parts]),
        torch.cat([p.label for p in parts]),
    )
    return ListLoader(data, batch_size, drop_last=drop_last)
