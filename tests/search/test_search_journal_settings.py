"""The journal records every setting that changes a score and refuses a resume that changes one;
a full disk during an append is one line and keeps the events written before."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from _search_toy import arch_genome
from _search_toy import toy_score
from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.search import Journal
from recnas.search import RandomSearch
from recnas.search import run_search
from recnas.search import score_settings
from recnas.search import _journal


def _search(path: Path, budget: int, **settings: Any):
    return run_search(
        searcher=RandomSearch(arch_genome()),
        journal=Journal(path),
        budget=budget,
        seed=1,
        score_fn=toy_score,
        progress=False,
        settings=settings,
    )


def test_resume_refuses_a_changed_score_setting_and_names_it(tmp_path: Path) -> None:
    j = tmp_path / "journal.jsonl"
    _search(j, 2, finetune_steps=4, val_rows=256, supernet_sha256="aa")
    assert Journal(j).meta()["settings"] == {
        "finetune_steps": 4,
        "val_rows": 256,
        "supernet_sha256": "aa",
    }
    before = j.read_bytes()
    with pytest.raises(ConfigError) as e:
        _search(j, 4, finetune_steps=8, val_rows=256, supernet_sha256="aa")
    assert "journal was written with finetune_steps=4, this run has 8" in str(e.value)
    assert "\n" not in str(e.value) and j.read_bytes() == before
    with pytest.raises(ConfigError, match=r"val_rows=256, this run has None.*supernet_sha256='aa'"):
        _search(j, 4, finetune_steps=4, val_rows=None, supernet_sha256="bb")
    with pytest.raises(ConfigError, match=r"lr='\(not recorded\)', this run has 0.1"):
        _search(j, 4, finetune_steps=4, val_rows=256, supernet_sha256="aa", lr=0.1)
    res = _search(j, 4, finetune_steps=4, val_rows=256, supernet_sha256="aa")  # same: resumes
    assert res.reused == 2 and res.scored == 2


def test_score_settings_identify_the_supernet_by_content(tmp_path: Path) -> None:
    ckpt, cache = tmp_path / "supernet.pt", tmp_path / "cache"
    cache.mkdir()
    (cache / "meta.json").write_text('{"fingerprint": "f1"}')
    ckpt.write_bytes(b"weights-1")
    a = score_settings(ckpt, cache, finetune_steps=3)
    assert a["data_fingerprint"] == "f1" and a["finetune_steps"] == 3
    assert a["supernet_bytes"] == 9
    os.utime(ckpt, (1, 1))  # a copy with another mtime is the same supernet
    assert score_settings(ckpt, cache, finetune_steps=3) == a
    ckpt.write_bytes(b"weights-2")  # same size, other content (e.g. trained further)
    assert score_settings(ckpt, cache, finetune_steps=3)["supernet_sha256"] != a["supernet_sha256"]


class _FullDisk:
    """`os` whose write() fails with ENOSPC after `room` bytes (what a full disk does)."""

    def __init__(self, room: int) -> None:
        self.room = room

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        n = os.write(fd, data[: self.room])
        self.room -= n
        return n


def test_disk_full_during_append_is_one_line_and_keeps_old_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = tmp_path / "journal.jsonl"
    _search(j, 2)
    before = j.read_bytes()
    monkeypatch.setattr(_journal, "os", _FullDisk(room=10))  # 10 bytes of the next line fit
    with pytest.raises(RecnasError) as e:
        _search(j, 4)
    msg = str(e.value)
    assert f"cannot write the journal {j}: no space left on device" in msg and "\n" not in msg
    assert j.read_bytes() == before  # the partial line was cut back
    monkeypatch.undo()
    res = _search(j, 4)  # space freed: the same command resumes
    assert res.reused == 2 and len(Journal(j).records()) == 4
