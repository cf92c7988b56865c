"""Scoring candidates: in process, or in workers that each build their scorer once (issue 4.4).

A worker of rank r journals its own `started`/`finished` events in `journal.<r>.jsonl`, so no two
processes append to one file; readers merge the files. The same shape serves torchrun: rank r scores
jobs[r::world] into its own file and the ranks exchange finished records (`_distributed.py`).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import Future
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from numbers import Real
from typing import Any
from typing import Protocol

from recnas.errors import RecnasError
from recnas.search._journal import COMPLETE
from recnas.search._journal import FAIL
from recnas.search._journal import Journal
from recnas.search._journal import Record
from recnas.search._journal import finished_event
from recnas.search._journal import started_event

ScoreFn = Callable[[Any], dict[str, Any]]


def score_one(score_fn: ScoreFn, rec: Record, journal: Journal, *, worker: int | None) -> Record:
    """Journal `started`, score, journal `finished`; an exception or non-finite value is a FAIL."""
    journal.append(started_event(rec, worker=worker))
    t0 = time.perf_counter()
    error = None
    try:
        out = dict(score_fn(rec.candidate))
    except Exception as e:  # noqa: BLE001 - failures are data (OOM too); Ctrl-C still stops the run
        out, error = {}, f"{type(e).__name__}: {e}"[:2000]
    seconds = _num(out.pop("seconds", None))
    flops, params = _num(out.pop("flops", None)), _num(out.pop("params", None))
    values = {
        k: float(v) for k, v in out.items() if isinstance(v, Real) and not isinstance(v, bool)
    }
    bad = sorted(k for k, v in values.items() if not math.isfinite(v))
    if error is None and not values:
        error = "score function returned no numeric values"
    elif error is None and bad:
        error = f"non-finite value(s) for {bad}"
    done = replace(
        rec,
        state=FAIL if error else COMPLETE,
        error=error,
        worker=worker,
        values={k: (v if math.isfinite(v) else None) for k, v in values.items()},
        flops=flops,
        params=params,
        seconds=seconds if seconds is not None else time.perf_counter() - t0,
    )
    journal.append(finished_event(done))
    return done


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, Real) and math.isfinite(float(v)) else None


class Executor(Protocol):
    """Scores a batch of records, yielding finished records in any order."""

    def score(self, jobs: Sequence[Record]) -> Iterator[Record]:
        """Score every job."""
        ...

    def close(self) -> None:
        """Release workers."""
        ...


class SerialExecutor:
    """Scores in this process, journalling into the main file."""

    def __init__(self, score_fn: ScoreFn, journal: Journal) -> None:
        self.score_fn = score_fn
        self.journal = journal

    def score(self, jobs: Sequence[Record]) -> Iterator[Record]:
        """Score the jobs one after the other."""
        for rec in jobs:
            yield score_one(self.score_fn, rec, self.journal, worker=None)

    def close(self) -> None:
        """Nothing to release."""


class PoolExecutor:
    """`workers` processes, each building its scorer once with a picklable `make_scorer()`."""

    def __init__(
        self,
        make_scorer: Callable[[], ScoreFn],
        journal: Journal,
        *,
        workers: int,
        mp_context: str = "spawn",
    ) -> None:
        ctx = mp.get_context(mp_context)
        ranks = ctx.Queue()
        for r in range(workers):
            ranks.put(r)
        self.pool = ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(make_scorer, str(journal.path), ranks, os.getpid()),
        )

    def score(self, jobs: Sequence[Record]) -> Iterator[Record]:
        """Hand the jobs to the workers; yield each record as it finishes."""
        pending: set[Future[Record]] = {
            self.pool.submit(_score_in_worker, replace(r)) for r in jobs
        }
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        except BrokenProcessPool:
            raise RecnasError(
                "a search worker died (killed, or out of memory); run the same command "
                "again to resume: unfinished candidates are scored again"
            ) from None

    def close(self) -> None:
        """Stop the workers (cancelling queued jobs)."""
        self.pool.shutdown(wait=True, cancel_futures=True)


# per-process state of a worker, set once by the pool initializer
_SCORER: ScoreFn | None = None
_JOURNAL: Journal | None = None
_RANK: int | None = None
_INIT_ERROR: Exception | None = None  # why make_scorer() failed (a broken pool would hide it)


def _init_worker(
    make_scorer: Callable[[], ScoreFn], journal_path: str, ranks: Any, parent: int
) -> None:
    global _SCORER, _JOURNAL, _RANK, _INIT_ERROR
    _RANK = int(ranks.get(timeout=60))
    _JOURNAL = Journal(journal_path, rank=_RANK)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:
        _SCORER = make_scorer()
    except Exception as e:  # noqa: BLE001 - re-raised by the first job, so the caller sees it
        _INIT_ERROR = e


def worker_rank() -> int | None:
    """This process's worker rank inside a search pool (None outside one): a scorer factory may use
    it to pick a GPU (`cuda:<rank % device_count>`)."""
    return _RANK


def _exit_with_parent(parent: int) -> None:
    # a coordinator killed by SIGKILL cannot stop its workers; they stop themselves, so an
    # orphan never appends to a journal that a resumed run is writing
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


def _score_in_worker(rec: Record) -> Record:
    if _INIT_ERROR is not None:
        raise _INIT_ERROR
    assert _SCORER is not None and _JOURNAL is not None
    return score_one(_SCORER, rec, _JOURNAL, worker=_RANK)
