"""The cache directory is safe: only recnas-made directories are replaced, damage is detected, stale
temporaries of dead processes are removed, and a full disk is a one-line error that keeps the old cache."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _data_lines import many_criteo_lines
from recnas.cli.main import main
from recnas.data import PrepareOptions
from recnas.data import open_cache
from recnas.data import prepare_dataset
from recnas.errors import DataError
from recnas.errors import RecnasError
from recnas.runs import atomic_write_json


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    p = tmp_path / "in" / "raw.txt"
    p.parent.mkdir()
    p.write_text("\n".join(many_criteo_lines(300)) + "\n")
    return p


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_out_on_a_foreign_directory_is_refused_and_left_alone(raw, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(RecnasError, match="not created by recnas"):
        prepare_dataset(raw, mine)
    assert (mine / "notes.txt").read_text() == "keep me" and os.listdir(mine) == ["notes.txt"]
    # the input itself inside --out: refused even though nothing else is there
    with pytest.raises(RecnasError, match="contains the input"):
        prepare_dataset(raw, raw.parent)
    assert raw.is_file()


def test_out_on_a_file_is_refused_and_the_file_kept(raw, tmp_path):
    f = tmp_path / "results.csv"
    f.write_text("a,b\n")
    with pytest.raises(RecnasError, match="is a file, not a directory"):
        prepare_dataset(raw, f)
    assert f.read_text() == "a,b\n" and sorted(p.name for p in tmp_path.iterdir()) == ["in", "results.csv"]


def test_out_dot_is_a_one_line_error(raw, tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "x.txt").write_text("x")
    monkeypatch.chdir(work)
    assert main(["prepare", "--format", "criteo", "--input", str(raw), "--out", "."]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not created by recnas" in err
    assert os.listdir(work) == ["x.txt"]


def test_owned_empty_and_older_caches_are_replaced(raw, tmp_path):
    from recnas.runs import OWNER_MARKER

    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_dataset(raw, empty).cache.num_rows("train") == 240
    assert (empty / OWNER_MARKER).is_file()
    prepare_dataset(raw, empty, options=PrepareOptions(cap=50))  # owned: replaced
    (empty / OWNER_MARKER).unlink()  # a cache written before markers existed: nothing but cache files
    res = prepare_dataset(raw, empty, options=PrepareOptions(cap=60))
    assert not res.reused and max(res.cache.schema.table_sizes) == 60


def test_damaged_cache_is_rebuilt_by_prepare_and_refused_on_open(raw, tmp_path):
    out = tmp_path / "c"
    prepare_dataset(raw, out)
    col = out / "train" / "sparse.npy"
    good = col.read_bytes()
    col.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(DataError, match="train/sparse.npy: damaged cache column"):
        open_cache(out)
    res = prepare_dataset(raw, out)
    assert not res.reused and any("damaged" in n for n in res.summary["split"]["notices"])
    assert col.read_bytes() == good
    # same length, overwritten head: caught by the recorded size + CRC on reuse
    data = bytearray(good)
    data[200:208] = b"\xff" * 8
    col.write_bytes(bytes(data))
    assert not prepare_dataset(raw, out).reused and col.read_bytes() == good
    assert open_cache(out).meta["cache_files"]["train/sparse.npy"]["bytes"] == len(good)


def test_stale_temporaries_of_dead_processes_are_removed(raw, tmp_path):
    from recnas.runs import temp_name

    out = tmp_path / "c"
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / temp_name("c").replace(f".{os.getpid()}", f".{dead}")
    live_other = tmp_path / temp_name("c").replace(f".{os.getpid()}", f".{os.getppid()}")
    for d in (stale, live_other):
        d.mkdir()
        (d / "all.dense.bin").write_bytes(b"0" * 64)
    foreign = tmp_path / ".c.tmp-backup"  # not a recnas temporary name: never touched
    foreign.mkdir()
    prepare_dataset(raw, out)
    assert not stale.exists() and live_other.exists() and foreign.exists() and alive
    # checkpoint-style file temporaries: removed by the next atomic write of the same file
    ck = tmp_path / "supernet.pt"
    old_tmp = tmp_path / (temp_name("supernet.pt").replace(f".{os.getpid()}", f".{dead}") + ".abc123")
    old_tmp.write_bytes(b"partial")
    atomic_write_json(ck, {"step": 1})
    assert not old_tmp.exists() and ck.is_file()


def test_disk_full_while_preparing_is_one_line_and_keeps_the_old_cache(raw, tmp_path, monkeypatch):
    out = tmp_path / "c"
    before = prepare_dataset(raw, out).cache.split("train").label.copy()
    from recnas.data import _cache

    def full(self, arr):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(_cache.NpyWriter, "write", full)
    with pytest.raises(DataError) as e:
        prepare_dataset(raw, out, options=PrepareOptions(cap=77))
    assert "no space left on device" in str(e.value).lower() and "\n" not in str(e.value)
    monkeypatch.undo()
    assert np.array_equal(open_cache(out).split("train").label, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "in"]
