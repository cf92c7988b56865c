"""Journal: append/replay, torn last line, corrupt line error, per-worker merge, compaction."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from recnas.errors import DataError
from recnas.search import COMPLETE
from recnas.search import PENDING
from recnas.search import SKIPPED
from recnas.search import Journal


def _start(n: int, h: str = "", worker: int | None = None) -> dict:
    return {
        "event": "started",
        "n": n,
        "hash": h or f"h{n}",
        "arch": {"v": n},
        "worker": worker,
        "time": float(n),
    }


def _finish(n: int, loss: float, t: float = 0.0, h: str = "") -> dict:
    return {
        "event": "finished",
        "n": n,
        "hash": h or f"h{n}",
        "state": "COMPLETE",
        "values": {"logloss": loss},
        "flops": 10.0,
        "params": 5.0,
        "seconds": 0.1,
        "error": None,
        "time": t or float(n) + 0.5,
    }


def _write(j: Journal, events: list[dict]) -> None:
    for e in events:
        j.append(e)


def test_roundtrip_states(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.jsonl")
    _write(
        j,
        [
            _start(0),
            _finish(0, 0.4),
            _start(1),
            {"event": "skipped", "n": 2, "hash": "h0", "arch": {"v": 0}, "reason": "duplicate"},
        ],
    )
    recs = j.records()
    assert [(r.n, r.state) for r in recs] == [(0, COMPLETE), (1, PENDING), (2, SKIPPED)]
    assert recs[0].values == {"logloss": 0.4} and recs[0].flops == 10.0 and recs[0].arch == {"v": 0}
    assert all(line.endswith("}") for line in (tmp_path / "journal.jsonl").read_text().splitlines())


def test_torn_last_line_is_dropped_counted_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    j = Journal(path)
    _write(j, [_start(0), _finish(0, 0.4), _start(1)])
    good = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"event":"finished","n":1,"hash":"h1","sta')  # a crash mid-write
    with pytest.warns(UserWarning, match=r"journal.jsonl:4: dropped a torn last line"):
        recs = j.records()
    assert j.stats.torn_lines == 1 and [r.state for r in recs] == [COMPLETE, PENDING]
    assert path.read_bytes() != good  # a plain read leaves the file alone
    with pytest.warns(UserWarning):
        j.records(repair=True)
    assert path.read_bytes() == good  # repair truncates to the last complete line
    j.append(_finish(1, 0.3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [r.state for r in j.records()] == [COMPLETE, COMPLETE]
    assert j.stats.torn_lines == 0


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps(_start(0)) + "\n" + json.dumps(_finish(0, 0.4)))
    j = Journal(path)
    assert j.records(repair=True)[0].state == COMPLETE and j.stats.torn_lines == 0
    assert path.read_text().endswith("}\n")


def test_corrupt_middle_line_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps(_start(0)) + "\n{not json\n" + json.dumps(_start(1)) + "\n")
    with pytest.raises(DataError, match=r"journal.jsonl:2: corrupt journal line") as e:
        Journal(path).records()
    assert "\n" not in str(e.value)
    path.write_text(json.dumps(_start(0)) + "\n" + json.dumps({"event": "bogus"}) + "\n")
    with pytest.raises(DataError, match=r"journal.jsonl:2: not a journal event"):
        Journal(path).records()
    path.write_text(json.dumps(_start(0)) + "\n" + json.dumps({"event": "finished", "n": 0}) + "\n"
                    + json.dumps(_start(1)) + "\n")
    with pytest.raises(DataError, match=r"journal.jsonl:2: finished event needs a string 'hash', "
                       r"'state' COMPLETE or FAIL"):
        Journal(path).records()


def test_worker_files_merge_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    main, w0, w1 = Journal(path), Journal(path, rank=0), Journal(path, rank=1)
    assert w1.write_path.name == "journal.1.jsonl"
    _write(main, [{"event": "meta", "seed": 1}])
    _write(w0, [_start(0, worker=0), _finish(0, 0.5), _start(2, worker=0)])
    _write(
        w1,
        [
            _start(1, worker=1),
            _finish(1, 0.6),
            _start(2, worker=1),
            _finish(2, 0.7, t=9.0),
            _finish(2, 0.8, t=10.0),
        ],
    )  # re-scored after a resume
    recs = main.records()
    assert [(r.n, r.values["logloss"]) for r in recs] == [(0, 0.5), (1, 0.6), (2, 0.7)]
    assert main.stats.files == 3
    main.compact()
    assert main.files() == [path]
    assert [(r.n, r.values["logloss"], r.state) for r in main.records()] == [
        (0, 0.5, COMPLETE),
        (1, 0.6, COMPLETE),
        (2, 0.7, COMPLETE),
    ]
    assert main.meta() == {"event": "meta", "seed": 1}


def test_conflicting_hashes_are_rejected(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.jsonl")
    _write(j, [_start(0, "a"), _start(0, "b")])
    with pytest.raises(DataError, match="n=0 has hash b and a"):
        j.records()
