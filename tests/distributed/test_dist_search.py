"""Search under torchrun (gloo, 2 ranks as separate processes): the single worker's journal, and a
killed rank's candidate scored again on resume (issue 7.2)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from _dist_helpers import PYTHON
from _dist_helpers import cli
from _dist_helpers import free_port
from _dist_helpers import subprocess_env

from recnas.search import COMPLETE
from recnas.search import PENDING
from recnas.search import Journal

Entry = tuple[int, str, str, tuple]


def _args(supernet: Path, data: Path, out: Path) -> list[str]:
    # evolution: 4 initial candidates, then 2 generations of 2 children (8 proposals)
    return ["search", "--supernet", str(supernet), "--data", str(data), "--out", str(out),
            "--population", "4", "--sample", "2", "--generations", "2", "--children", "2",
            "--finetune-steps", "2", "--val-rows", "128", "--seed", "5", "--device", "cpu",
            "--threads", "1", "--no-progress"]


def _entries(out: Path) -> list[Entry]:
    recs = Journal(out / "journal.jsonl").records()
    # timings differ from run to run; every other value must be identical
    return [(r.n, r.hash, r.state, tuple(sorted((k, v) for k, v in r.values.items()
                                                if not k.endswith("seconds")))) for r in recs]


def _launch(argv: list[str], port: int) -> list[subprocess.Popen]:
    """Both ranks as torchrun starts them (same environment variables)."""
    return [subprocess.Popen([PYTHON, "-m", "recnas", *argv], env=subprocess_env(r, 2, port),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for r in range(2)]


def _wait(procs: list[subprocess.Popen]) -> str:
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    return outs[0][0]


@pytest.fixture(scope="module")
def single(dist_supernet: Path, dist_cache: Path, tmp_path_factory) -> list[Entry]:
    """The journal of the same search in one process."""
    out = tmp_path_factory.mktemp("single")
    assert cli(_args(dist_supernet, dist_cache, out)) == 0
    return _entries(out)


def test_two_ranks_write_the_single_worker_journal(single, dist_supernet, dist_cache,
                                                   tmp_path: Path) -> None:
    out = tmp_path / "search"
    _wait(_launch(_args(dist_supernet, dist_cache, out), free_port()))
    assert _entries(out) == single and len(single) == 8
    recs = Journal(out / "journal.jsonl").records()
    assert {r.worker for r in recs if r.state == COMPLETE} == {0, 1}  # both ranks scored
    assert Journal(out / "journal.jsonl").files() == [out / "journal.jsonl"]  # merged


def _pending(out: Path, rank: int) -> bool:
    """True while rank's own journal file ends with a started but unfinished candidate."""
    f = out / f"journal.{rank}.jsonl"
    text = f.read_text() if f.is_file() else ""
    return text.count('"event":"started"') > text.count('"event":"finished"')


def test_killed_rank_candidate_is_rescored_on_resume(single, dist_supernet, dist_cache,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "search"
    argv = _args(dist_supernet, dist_cache, out)
    procs = _launch(argv, free_port())
    deadline = time.monotonic() + 120
    while True:  # kill rank 1 while it scores; SIGSTOP first so the check cannot race the kill
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        if _pending(out, 1):
            os.kill(procs[1].pid, signal.SIGSTOP)
            if _pending(out, 1):
                break
            os.kill(procs[1].pid, signal.SIGCONT)
        time.sleep(0.01)
    for p in reversed(procs):  # rank 1 dies; torchrun then stops the other rank
        p.kill()
        p.communicate()
    lost = [r for r in Journal(out / "journal.jsonl").records()
            if r.state == PENDING and r.worker == 1]
    assert lost

    stdout = _wait(_launch(argv, free_port()))
    final = Journal(out / "journal.jsonl").records()
    assert _entries(out) == single  # nothing lost, nothing twice
    assert all(final[r.n].state == COMPLETE and final[r.n].hash == r.hash for r in lost)
    assert "re-scored after an interruption" in stdout and " 0 re-scored" not in stdout
