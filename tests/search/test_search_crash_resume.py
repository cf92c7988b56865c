"""Crash-resume of a real process killed by SIGKILL mid-search; parallel workers (issue 4.4)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _search_toy import SEED
from _search_toy import SleepyScorer
from _search_toy import broken_factory
from _search_toy import evolution
from _search_toy import make_sleepy_scorer

from recnas.errors import CheckpointError
from recnas.search import COMPLETE
from recnas.search import PENDING
from recnas.search import Journal
from recnas.search import RandomSearch
from recnas.search import run_search

TOY = Path(__file__).with_name("_search_toy.py")


def _reference(tmp_path: Path) -> list[tuple[int, str, dict]]:
    res = run_search(
        searcher=evolution(),
        journal=Journal(tmp_path / "ref.jsonl"),
        seed=SEED,
        score_fn=SleepyScorer(),
        progress=False,
    )
    return [(r.n, r.hash, r.values) for r in res.records]


def _finished(path: Path) -> int:
    return sum(p.read_text().count('"event":"finished"') for p in Journal(path).files())


def _settled(log: Path, quiet: float = 1.0, limit: float = 15.0) -> int:
    """Scorer calls in `log` once it has not grown for `quiet` seconds (fails after `limit`)."""
    start = last_change = time.monotonic()
    count = len(log.read_text().split())
    while time.monotonic() - last_change < quiet:
        assert time.monotonic() - start < limit, "an orphaned worker is still scoring"
        time.sleep(0.05)
        now = len(log.read_text().split())
        if now != count:
            count, last_change = now, time.monotonic()
    return count


def _launch(path: Path, workers: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(TOY), str(path), str(workers), "0.02", str(log)],
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers,kill_group", [(1, True), (2, False)])
def test_kill9_mid_search_then_resume(tmp_path: Path, workers: int, kill_group: bool) -> None:
    ref = _reference(tmp_path)
    path, log = tmp_path / "journal.jsonl", tmp_path / "calls.log"
    proc = _launch(path, workers, log)
    deadline = time.monotonic() + 60
    while _finished(path) < 20:  # well inside the 56 proposals
        assert proc.poll() is None and time.monotonic() < deadline, (
            proc.stderr.read() if proc.stderr else ""
        )
        time.sleep(0.01)
    if kill_group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:  # only the coordinator: its workers notice and exit by themselves
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    calls_before = _settled(log)  # orphaned workers notice the dead coordinator and stop
    part = Journal(path).records()
    assert 20 <= sum(r.state == COMPLETE for r in part) < len(ref)
    assert sum(r.state == PENDING for r in part) <= workers

    again = _launch(path, workers, log)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    final = Journal(path).records()
    assert Journal(path).files() == [path]  # worker files merged into the one journal
    assert [(r.n, r.hash, r.values) for r in final] == ref  # exactly the uninterrupted candidates
    calls = log.read_text().split()
    assert set(calls) == {h for _, h, _ in ref}  # none lost
    # none repeated: a second score only for a candidate scored before the kill but not journalled
    repeats = len(calls) - len(ref)
    assert repeats == calls_before - sum(r.state == COMPLETE for r in part) <= workers


@pytest.mark.parametrize("make", [evolution, lambda: RandomSearch(evolution().genome)])
def test_workers_score_the_single_worker_set(tmp_path: Path, make) -> None:
    one = run_search(
        searcher=make(),
        journal=Journal(tmp_path / "one.jsonl"),
        seed=SEED,
        budget=40,
        score_fn=SleepyScorer(),
        progress=False,
    )
    two = run_search(
        searcher=make(),
        journal=Journal(tmp_path / "two.jsonl"),
        seed=SEED,
        budget=40,
        make_scorer=make_sleepy_scorer(0.005),
        workers=2,
        progress=False,
    )
    assert [(r.hash, r.values) for r in two.records] == [(r.hash, r.values) for r in one.records]
    # which worker scored what depends on timing; every record names one of them
    assert {r.worker for r in two.records} <= {0, 1} and None not in {r.worker for r in two.records}
    assert Journal(tmp_path / "two.jsonl").files() == [tmp_path / "two.jsonl"]


def test_torchrun_ranks_score_the_single_worker_set(tmp_path: Path) -> None:
    one = run_search(
        searcher=evolution(),
        journal=Journal(tmp_path / "one.jsonl"),
        seed=SEED,
        budget=40,
        score_fn=SleepyScorer(),
        progress=False,
    )
    path = tmp_path / "journal.jsonl"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [
        subprocess.Popen(
            [sys.executable, str(TOY), "--dist", str(path), str(r), "2", str(port)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    recs = Journal(path).records()
    assert [(r.hash, r.values) for r in recs] == [(r.hash, r.values) for r in one.records]
    assert {r.worker for r in recs} == {0, 1} and Journal(path).files() == [path]


def test_a_worker_that_cannot_build_its_scorer_reports_why(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="checkpoint not found: /nowhere"):
        run_search(searcher=evolution(), journal=Journal(tmp_path / "j.jsonl"), seed=SEED,
                   budget=4, make_scorer=broken_factory, workers=2, progress=False)
    assert all(r.state != COMPLETE for r in Journal(tmp_path / "j.jsonl").records())
