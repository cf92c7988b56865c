"""Supernet training under torchrun (gloo, 2 processes): equal to one process on the combined batch,
and a run resumes from the other world size's checkpoint (issue 7.1)."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import torch
import torch.multiprocessing as mp
from _dist_helpers import cli
from _dist_helpers import free_port
from _dist_helpers import torchrun_env

STEPS, STOP = 4, 2


def _args(data: Path, out: Path) -> list[str]:
    # global batch 64: one process reads 64 rows per step, each of 2 ranks 32
    return ["supernet", "train", "--data", str(data), "--out", str(out), "--space", "small",
            "--batch-size", "64", "--max-steps", str(STEPS), "--lr", "0.02", "--seed", "1",
            "--device", "cpu", "--log-every", "1", "--ckpt-every", "0"]


def _train(data: Path, out: Path, *, stop_at: int | None = None) -> None:
    """`recnas supernet train`, interrupted (checkpointed) at `stop_at` if given."""
    import recnas.train

    orig = recnas.train.train_supernet
    if stop_at is not None:  # the CLI looks train_supernet up at call time
        recnas.train.train_supernet = functools.partial(orig, stop_at=stop_at)
    try:
        assert cli(_args(data, out)) == 0
    finally:
        recnas.train.train_supernet = orig


def _rank(rank: int, data: str, runs: list[tuple[str, int | None, int]]) -> None:
    """One torchrun rank: each (out, stop_at, port) is one launch of the CLI."""
    for out, stop, port in runs:
        os.environ.update(torchrun_env(rank, 2, port))
        _train(Path(data), Path(out), stop_at=stop)


def _model(out: Path) -> tuple[int, dict[str, torch.Tensor]]:
    ck = torch.load(out / "supernet.pt", weights_only=True)
    return int(ck["step"]), ck["model"]


def _assert_same(out: Path, ref: Path) -> None:
    step, got = _model(out)
    _, want = _model(ref)
    assert step == STEPS and got.keys() == want.keys()
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-4, atol=2e-5, msg=k)
    _, init = _model(ref.with_name("single_stop"))
    moved = sum(not torch.equal(init[k], want[k]) for k in want)
    assert moved > 0  # the comparison is not between untouched weights


def test_two_ranks_equal_one_process_and_resume_across_world_sizes(tmp_path: Path,
                                                                     dist_cache: Path) -> None:
    data = dist_cache
    ref, single_stop = tmp_path / "ref", tmp_path / "single_stop"
    _train(data, ref)  # one process, 6 steps of 64 rows
    _train(data, single_stop, stop_at=STOP)
    shutil.copytree(single_stop, tmp_path / "w1_to_w2")  # resumed by 2 ranks
    runs = [(str(tmp_path / "w2"), None, free_port()),  # 2 ranks, 6 steps
            (str(tmp_path / "w2_to_w1"), STOP, free_port()),  # 2 ranks, interrupted at 3
            (str(tmp_path / "w1_to_w2"), None, free_port())]
    mp.spawn(_rank, args=(str(data), runs), nprocs=2, join=True)

    assert _model(tmp_path / "w2_to_w1")[0] == STOP
    _train(data, tmp_path / "w2_to_w1")  # one process resumes the 2-rank checkpoint
    for name in ("w2", "w2_to_w1", "w1_to_w2"):
        _assert_same(tmp_path / name, ref)
    # rank 0 alone logs: every step once, in order
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "w2" / "supernet_metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, STEPS + 1))
