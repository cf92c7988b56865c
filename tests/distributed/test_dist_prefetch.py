"""The GPU path's background prefetch: same batches in the same order, errors surface, early stop."""

from __future__ import annotations

import threading

import pytest

from recnas.distributed import Prefetcher


class _Loader:
    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.epoch = n, fail_at, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        for i in range(self.n):
            if i == self.fail_at:
                raise ValueError(f"bad row in batch {i}")
            yield (self.epoch, i)


def test_prefetch_yields_the_loader_batches_in_order() -> None:
    pf = Prefetcher(_Loader(7), depth=2)
    pf.set_epoch(3)
    assert len(pf) == 7 and list(pf) == [(3, i) for i in range(7)]
    assert list(pf) == [(3, i) for i in range(7)]  # iterable again


def test_prefetch_raises_the_loader_error_in_the_consumer() -> None:
    with pytest.raises(ValueError, match="batch 4"):
        list(Prefetcher(_Loader(9, fail_at=4)))


def test_early_stop_releases_the_thread() -> None:
    before = threading.active_count()
    it = iter(Prefetcher(_Loader(1000), depth=1))
    assert next(it) == (0, 0)
    it.close()  # what islice / a finished training run does
    assert threading.active_count() == before
