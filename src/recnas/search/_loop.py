"""The ask-score-tell search loop with crash-resume (method.md §6; style example 6).

Proposals are made batch by batch (`searcher.sync_point`), each from the journal's history and an
RNG seeded by (seed, n). A duplicate hash is journalled as `skipped`; any other candidate as
`started`, scored, then `finished` (COMPLETE, or FAIL for an exception or a non-finite value).
Resume replays the journal: recorded proposals are reused, started-but-unfinished ones re-scored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from tqdm import tqdm

from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.search._genome import SearchRandom
from recnas.search._journal import COMPLETE
from recnas.search._journal import PENDING
from recnas.search._journal import SKIPPED
from recnas.search._journal import Journal
from recnas.search._journal import Record
from recnas.search._journal import skipped_event
from recnas.search._searchers import Enqueued
from recnas.search._searchers import Searcher
from recnas.search._searchers import candidate_of
from recnas.search._workers import Executor
from recnas.search._workers import PoolExecutor
from recnas.search._workers import SerialExecutor

ScoreFn = Callable[[Any], dict[str, Any]]


@dataclass
class SearchResult:
    """The outcome of `run_search`: every record up to the budget, and what this run did."""

    records: list[Record]
    scored: int = 0  # candidates scored by this run (re-scores included)
    rescored: int = 0  # started in an earlier run, never finished, scored again
    reused: int = 0  # finished or skipped records found in the journal
    skipped: int = 0  # duplicates skipped by this run
    failed: int = 0  # FAIL records of this run
    torn_lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def run_search(
    *,
    searcher: Searcher,
    journal: Journal,
    budget: int | None = None,
    seed: int = 0,
    score_fn: ScoreFn | None = None,
    make_scorer: Callable[[], ScoreFn] | None = None,
    workers: int = 1,
    enqueue: Sequence[Any] = (),
    progress: bool = True,
    mp_context: str = "spawn",
    fail_fast: int = 10,
    executor: Executor | None = None,
    is_main: bool = True,
    settings: dict[str, Any] | None = None,
) -> SearchResult:
    """Run (or resume) a search of `budget` proposals; returns every record and this run's counts.

    `fail_fast`: stop when this many candidates failed and none succeeded in this run (a broken
    scorer, not a bad architecture); 0 disables it. `executor`/`is_main`: for torchrun, every rank
    runs the same search with a `DistributedExecutor`; only the main rank writes `meta`/`skipped`.
    `settings`: everything else that changes a score (`score_settings`); recorded in the journal's
    `meta` event, and a resume with any other value is refused.
    """
    budget = _budget(searcher, budget)
    if enqueue:
        searcher = Enqueued(searcher, enqueue)
    recorded = {r.n: r for r in journal.records(repair=is_main)}  # truncates a torn last line
    res = SearchResult(records=[], torn_lines=journal.stats.torn_lines)
    meta = _check_meta(journal, searcher, seed, settings or {}, write=is_main)
    own = executor is None
    executor = executor or _executor(journal, score_fn, make_scorer, workers, mp_context)
    done = sum(1 for r in recorded.values() if r.n < budget and r.state != PENDING)
    bar = tqdm(total=budget, initial=done, desc="search", unit="cand", disable=not progress)
    history: list[Record] = []
    try:
        while len(history) < budget:
            end = min(searcher.sync_point(len(history)), budget)
            before = res.skipped
            writer = journal if is_main else None
            jobs = _propose_batch(searcher, writer, history, recorded, end=end, seed=seed, res=res)
            bar.update(res.skipped - before)
            for rec in executor.score(jobs):  # tell: results arrive in any order
                history[rec.n] = rec
                _count(res, rec, bar, fail_fast)
    finally:
        if own:
            executor.close()
        bar.close()
    if is_main and journal.files() != [journal.path]:
        journal.compact(meta)  # merge per-worker files into the one journal.jsonl
    res.records = history
    res.counts = {s: sum(r.state == s for r in history) for s in ("COMPLETE", "FAIL", "SKIPPED")}
    return res


def _count(res: SearchResult, rec: Record, bar: Any, fail_fast: int) -> None:
    res.scored += 1
    res.failed += rec.state != COMPLETE
    bar.update(1)
    if fail_fast and res.failed >= fail_fast and res.failed == res.scored:
        raise RecnasError(f"the first {res.failed} candidates all failed; last error: {rec.error}")
    _postfix(bar, rec)


def _budget(searcher: Searcher, budget: int | None) -> int:
    if budget is None:
        budget = getattr(searcher, "budget", None)
        if budget is None:
            raise ConfigError(f"{type(searcher).__name__} needs a budget (number of candidates)")
    if budget < 0:
        raise ConfigError(f"budget must be >= 0, got {budget}")
    return int(budget)


def _executor(
    journal: Journal,
    score_fn: ScoreFn | None,
    make_scorer: Callable[[], ScoreFn] | None,
    workers: int,
    mp_context: str,
) -> Executor:
    if workers < 1:
        raise ConfigError(f"workers must be >= 1, got {workers}")
    if workers == 1:
        fn = score_fn if score_fn is not None else (make_scorer() if make_scorer else None)
        if fn is None:
            raise ConfigError("run_search needs score_fn or make_scorer")
        return SerialExecutor(fn, journal)
    if make_scorer is None:
        raise ConfigError("parallel workers need make_scorer (a picklable factory), not score_fn")
    return PoolExecutor(make_scorer, journal, workers=workers, mp_context=mp_context)


def _check_meta(
    journal: Journal, searcher: Searcher, seed: int, settings: dict[str, Any], *, write: bool
) -> dict[str, Any]:
    """Write the settings on a fresh journal; refuse to resume one written with other settings."""
    meta = {
        "event": "meta",
        "seed": seed,
        "searcher": json.loads(json.dumps(searcher.describe())),
        "settings": json.loads(json.dumps(settings)),
        "time": time.time(),
    }
    old = journal.meta()
    if old is None:
        if not write:
            return meta
        if journal.files() and journal.events():
            raise ConfigError(
                f"{journal.path}: journal has events but no 'meta' line; use a new output"
            )
        journal.append(meta)
        return meta
    was = {"seed": old.get("seed"), "searcher": old.get("searcher"), **old.get("settings", {})}
    now = {"seed": seed, "searcher": meta["searcher"], **meta["settings"]}
    diff = [
        f"{k}={was.get(k, '(not recorded)')!r}, this run has {now.get(k, '(not recorded)')!r}"
        for k in {**was, **now}  # every key of either, in recorded order
        if was.get(k) != now.get(k)
    ]
    if diff:
        raise ConfigError(
            f"{journal.path}: journal was written with {'; '.join(diff)}: scores would not "
            "be comparable; use the same settings or a new output dir"
        )
    return old


def _propose_batch(
    searcher: Searcher,
    journal: Journal | None,
    history: list[Record],
    recorded: dict[int, Record],
    *,
    end: int,
    seed: int,
    res: SearchResult,
) -> list[Record]:
    """Extend `history` to `end` (journalled or new proposals); return those to score."""
    genome = searcher.genome
    known = {r.hash for r in history if r.state != SKIPPED}
    jobs = []
    for n in range(len(history), end):
        rec = recorded.get(n)
        if rec is not None:
            rec = replace(
                rec, candidate=candidate_of(rec, genome) if rec.state != SKIPPED else None
            )
            res.reused += rec.state != PENDING
            res.rescored += rec.state == PENDING
        else:
            cand = searcher.propose(history, SearchRandom(seed, n))
            h = genome.hash(cand)
            rec = Record(n=n, hash=h, arch=genome.to_dict(cand), candidate=cand)
            if h in known:
                rec = replace(rec, state=SKIPPED, candidate=None)
                if journal is not None:
                    journal.append(skipped_event(rec))
                res.skipped += 1
        history.append(rec)
        if rec.state != SKIPPED:  # journalled finished records count as known too
            known.add(rec.hash)
        if rec.state == PENDING:
            jobs.append(rec)
    return jobs


def _postfix(bar: Any, rec: Record) -> None:
    best = getattr(bar, "_recnas_best", None)
    loss = rec.values.get("logloss") if rec.state == COMPLETE else None
    if loss is not None and (best is None or loss < best):
        bar._recnas_best = loss
        bar.set_postfix(best=f"{loss:.5f}")
