"""`recnas search` end to end on a tiny synthetic cache and supernet; resume; bad input."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from recnas.cli.main import main
from recnas.search import Journal


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic Criteo-schema cache and a 1-step supernet on a 3-block space."""
    from recnas.data import open_cache
    from recnas.data import synth_cache
    from recnas.nn import Supernet
    from recnas.space import get_space
    from recnas.train import train_supernet

    root = tmp_path_factory.mktemp("search_cli")
    cache_dir = synth_cache(root / "cache", rows=1500, seed=0, table_cap=200)
    cache = open_cache(cache_dir)
    space = dataclasses.replace(get_space("small"), num_blocks=3, dense_widths=(8, 16),
                                sparse_widths=(4, 8))
    net = Supernet(cache.schema, space)
    train_supernet(net, cache, space=space, max_steps=1, batch_size=32,
                   ckpt_path=root / "run" / "supernet.pt", progress=False)
    return cache_dir, root / "run"


ARGS = ["--population", "4", "--sample", "2", "--generations", "2", "--children", "2",
        "--finetune-steps", "2", "--val-rows", "128", "--top-k", "3", "--no-progress"]


def _saved_arch(path: Path, space: Any) -> str:
    from recnas.space import arch_hash
    from recnas.space import sample_arch
    from recnas.space import save_architecture

    arch = sample_arch(space, random.Random(7))
    save_architecture(arch, path)
    return arch_hash(arch)


def test_search_cli_writes_journal_and_best_then_resumes(tiny_run, tmp_path, capsys) -> None:
    cache, run = tiny_run
    from recnas.train import load_supernet

    known = _saved_arch(tmp_path / "known.json", load_supernet(run / "supernet.pt")[1]["space_obj"])
    argv = ["search", "--supernet", str(run), "--data", str(cache), "--out", str(run), *ARGS,
            "--enqueue", str(tmp_path / "known.json")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "candidates: 8 complete, 0 failed" in out and "best: logloss" in out
    recs = Journal(run / "journal.jsonl").records()
    assert len(recs) == 8 and all(r.flops and r.params and r.seconds for r in recs)
    assert recs[0].hash == known  # enqueued architectures are scored first
    best = json.loads((run / "best_architectures.json").read_text())
    losses = [a["values"]["logloss"] for a in best["architectures"]]
    assert len(losses) == 3 and losses == sorted(losses)
    assert losses[0] == min(r.values["logloss"] for r in recs)
    assert best["space"] == "small" and best["architectures"][0]["arch"]["blocks"]
    with open(run / "journal.jsonl", "ab") as f:
        f.write(b'{"event":"started","n":8,"ha')  # as if killed mid-write
    with pytest.warns(UserWarning, match="torn last line"):
        assert main(argv) == 0  # resume: nothing left to score
    out = capsys.readouterr().out
    assert "(0 scored in this run" in out and "dropped 1 torn last line" in out
    assert Journal(run / "journal.jsonl").records() == recs


def test_search_cli_bad_input_is_one_line(tiny_run, tmp_path, capsys) -> None:
    cache, run = tiny_run
    assert main(["search", "--supernet", str(tmp_path), "--data", str(cache), "--out",
                 str(tmp_path)]) == 2
    assert "supernet checkpoint not found" in capsys.readouterr().err
    assert main(["search", "--supernet", str(run), "--data", str(tmp_path / "nope"), "--out",
                 str(tmp_path)]) == 2
    assert "data cache not found" in capsys.readouterr().err
    assert main(["search", "--supernet", str(run), "--data", str(cache), "--out", str(tmp_path),
                 "--space", "full"]) == 2
    assert "does not match the supernet's space 'small'" in capsys.readouterr().err
    from recnas.space import get_space

    _saved_arch(tmp_path / "seven.json", get_space("small"))
    assert main(["search", "--supernet", str(run), "--data", str(cache), "--out", str(tmp_path),
                 "--enqueue", str(tmp_path / "seven.json")]) == 2
    assert "seven.json: architecture has 7 blocks; space 'small' has 3" in capsys.readouterr().err


def test_search_cli_resume_refuses_other_scoring_settings(tiny_run, tmp_path, capsys) -> None:
    cache, run = tiny_run
    from recnas.train import load_checkpoint
    from recnas.train._checkpoint import save_checkpoint

    out = tmp_path / "out"
    base = ["search", "--data", str(cache), "--out", str(out), *ARGS, "--budget", "2"]
    assert main([*base, "--supernet", str(run)]) == 0
    capsys.readouterr()
    before = (out / "journal.jsonl").read_bytes()
    for extra, said in (
        (["--finetune-steps", "3"], "finetune_steps=2, this run has 3"),
        (["--val-rows", "64"], "val_rows=128, this run has 64"),
    ):
        assert main([*base, "--supernet", str(run), *extra]) == 2
        assert said in capsys.readouterr().err
    other = tmp_path / "other.pt"  # the same supernet trained one step further
    ckpt = load_checkpoint(run / "supernet.pt")
    save_checkpoint(other, {**ckpt, "step": ckpt["step"] + 1})
    assert main([*base, "--supernet", str(other)]) == 2
    assert "journal was written with supernet_sha256=" in capsys.readouterr().err
    assert (out / "journal.jsonl").read_bytes() == before
