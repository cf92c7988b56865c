"""BatchLoader: cache mini-batches, block-shuffled per epoch, disjoint DDP shards (data.md §4 R3).

No per-row Python work: a batch is a handful of contiguous slices of the memory-mapped columns.
Rows are cut into blocks of `block_rows` (default batch/8, within 64..1024); each epoch permutes the blocks with (seed, epoch), and
batch g of the epoch goes to rank g mod world_size, so every rank gets the same number of batches.
"""

from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

from recnas.data._cache import Cache
from recnas.data._cache import SplitArrays
from recnas.data.batch import Batch
from recnas.errors import ConfigError


class BatchLoader:
    """Iterable of Batch over one or more splits of a cache ('trainval' = train then val)."""

    def __init__(self, cache: Cache, split: str | list[str] | tuple[str, ...], batch_size: int, *,
                 shuffle: bool = True, seed: int = 0, rank: int = 0, world_size: int = 1,
                 drop_last: bool = True, pin_memory: bool = False, limit_rows: int | None = None,
                 block_rows: int | None = None) -> None:
        if block_rows is None:  # ~8 blocks per batch: few copies, still well mixed
            block_rows = max(64, min(1024, batch_size // 8))
        if batch_size < 1 or block_rows < 1:
            raise ConfigError(f"batch_size and block_rows must be >= 1, got {batch_size}, {block_rows}")
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank {rank} is outside 0..{world_size - 1} (world_size {world_size})")
        if split == "trainval":
            names = ["train", "val"]
        else:
            names = [split] if isinstance(split, str) else list(split)
        self.cache, self.splits = cache, tuple(names)
        self.parts: list[SplitArrays] = [cache.split(n) for n in names]
        self.offsets = np.cumsum([0] + [len(p) for p in self.parts])  # global row -> part
        total = int(self.offsets[-1])
        self.num_rows = min(total, int(limit_rows)) if limit_rows is not None else total
        self.batch_size, self.block_rows = int(batch_size), int(block_rows)
        self.shuffle, self.seed = shuffle, int(seed)
        self.rank, self.world_size = int(rank), int(world_size)
        self.drop_last, self.pin_memory = drop_last, pin_memory
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle order the next iteration uses."""
        self.epoch = int(epoch)

    @property
    def _global_batches(self) -> int:
        n, b = self.num_rows, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def __len__(self) -> int:
        """Batches this rank yields per epoch (equal on every rank)."""
        g = self._global_batches
        return g // self.world_size if self.drop_last else math.ceil(g / self.world_size)

    def _block_order(self) -> tuple[np.ndarray, np.ndarray]:
        """(physical start, virtual start) of every block in this epoch's order."""
        nblocks = math.ceil(self.num_rows / self.block_rows)
        if self.shuffle:
            perm = np.random.default_rng([self.seed, self.epoch]).permutation(nblocks)
        else:
            perm = np.arange(nblocks)
        phys = perm.astype(np.int64) * self.block_rows
        lens = np.minimum(phys + self.block_rows, self.num_rows) - phys
        virt = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
        return phys, virt

    def __iter__(self) -> Iterator[Batch]:
        phys, virt = self._block_order()
        g_total = self._global_batches
        for i in range(len(self)):
            g = (self.rank + i * self.world_size) % max(g_total, 1)  # wraps only when padding ranks
            a, b = g * self.batch_size, min((g + 1) * self.batch_size, self.num_rows)
            batch = self._gather(self._ranges(phys, virt, a, b), b - a)
            yield batch.pin_memory() if self.pin_memory and torch.cuda.is_available() else batch

    def _ranges(self, phys: np.ndarray, virt: np.ndarray, a: int, b: int) -> list[tuple[int, int]]:
        """Physical row ranges covering virtual rows [a, b), adjacent ranges merged."""
        out: list[tuple[int, int]] = []
        k = int(np.searchsorted(virt, a, side="right")) - 1
        pos = a
        while pos < b:
            lo = int(phys[k] + (pos - virt[k]))
            blk_end = int(virt[k + 1]) if k + 1 < len(virt) else self.num_rows
            n = min(b, blk_end) - pos
            if out and out[-1][1] == lo:
                out[-1] = (out[-1][0], lo + n)
            else:
                out.append((lo, lo + n))
            pos += n
            k += 1
        return out

    def _gather(self, ranges: list[tuple[int, int]], n: int) -> Batch:
        p0 = self.parts[0]
        label = np.empty(n, dtype=np.float32)
        dense = np.empty((n, p0.dense.shape[1]), dtype=np.float32)
        sparse = np.empty((n, p0.sparse.shape[1]), dtype=p0.sparse.dtype)
        o = 0
        if len(self.parts) == 1:  # the common case: no split boundary to look up
            for lo, hi in ranges:
                m = hi - lo
                label[o:o + m] = p0.label[lo:hi]
                dense[o:o + m] = p0.dense[lo:hi]
                sparse[o:o + m] = p0.sparse[lo:hi]
                o += m
            return Batch(torch.from_numpy(dense), torch.from_numpy(sparse), torch.from_numpy(label))
        for lo, hi in ranges:
            while lo < hi:  # a range may cross from one split into the next
                j = int(np.searchsorted(self.offsets, lo, side="right")) - 1
                base = int(self.offsets[j])
                end = min(hi, int(self.offsets[j + 1]))
                part, m = self.parts[j], end - lo
                label[o:o + m] = part.label[lo - base:end - base]
                dense[o:o + m] = part.dense[lo - base:end - base]
                sparse[o:o + m] = part.sparse[lo - base:end - base]
                o, lo = o + m, end
        return Batch(torch.from_numpy(dense), torch.from_numpy(sparse), torch.from_numpy(label))
