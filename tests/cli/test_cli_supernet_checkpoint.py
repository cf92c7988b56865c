"""Checkpoints and `recnas supernet train` at the edges: a finished rerun prints valid JSON, a full
disk is one line and keeps the old checkpoint, temporaries of killed processes are cleaned up."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from recnas.cli.main import main
from recnas.errors import CheckpointError
from recnas.train import load_checkpoint
from recnas.train._checkpoint import save_checkpoint


def _strict_json(line: str) -> dict:
    def no_constants(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    return json.loads(line, parse_constant=no_constants)


def test_finished_supernet_rerun_prints_valid_json(tmp_path: Path, capsys) -> None:
    from recnas.data import synth_cache

    cache = synth_cache(tmp_path / "cache", rows=600, seed=0, table_cap=50)
    argv = ["supernet", "train", "--data", str(cache), "--out", str(tmp_path / "sn"),
            "--space", "small", "--max-steps", "2", "--batch-size", "32", "--warmup-steps", "0",
            "--log-every", "1", "--device", "cpu"]
    assert main(argv) == 0
    first = _strict_json(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(argv) == 0  # finished: no step runs again
    again = _strict_json(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["steps"] == first["steps"] == 2
    assert again["final_loss"] == pytest.approx(first["final_loss"])  # the recorded final loss


def test_disk_full_while_checkpointing_keeps_the_old_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "supernet.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(3)})
    real_save = torch.save

    def full_disk(obj, f, *a, **kw):  # write a little, then run out of space
        Path(f).write_bytes(b"PK\x03\x04partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointError) as e:
        save_checkpoint(path, {"step": 2, "w": torch.zeros(3)})
    monkeypatch.setattr(torch, "save", real_save)
    msg = str(e.value)
    assert f"cannot write the checkpoint {path}: no space left on device" in msg
    assert "\n" not in msg
    assert load_checkpoint(path)["step"] == 1  # the old checkpoint is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["supernet.pt"]  # no temporary left


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_temporaries_of_killed_processes_are_removed_at_the_next_save(tmp_path: Path) -> None:
    from recnas.runs import temp_name

    path = tmp_path / "supernet.pt"
    live = temp_name("supernet.pt")  # ends with this process's pid
    dead = live.rsplit(".", 1)[0] + f".{_dead_pid()}.k3j9x"
    (tmp_path / dead).write_bytes(b"half a checkpoint from a kill -9")
    (tmp_path / (live + ".busy")).write_bytes(b"a live writer's temporary")
    (tmp_path / ".supernet.pt.mine.tmp").write_bytes(b"not a recnas temporary name")
    save_checkpoint(path, {"step": 3})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert dead not in names  # a dead process's temporary is gone
    assert live + ".busy" in names and ".supernet.pt.mine.tmp" in names  # the others are kept
    assert load_checkpoint(path)["step"] == 3
