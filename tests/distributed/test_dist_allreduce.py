"""Gradient all-reduce under gloo with 2 real processes: dense and sparse gradients are averaged."""

from __future__ import annotations

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from recnas.distributed import DistEnv
from recnas.distributed import grad_hook
from recnas.distributed import rank_batch_size
from recnas.distributed import reduce_mean
from recnas.errors import RecnasError
from recnas.distributed import allreduce_gradients
from recnas.distributed import gather_sparse_sum


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, port: int, out: str) -> None:
    import torch.distributed as dist

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(0)
    emb = torch.nn.Embedding(10, 3, sparse=True)
    lin = torch.nn.Linear(3, 1)
    idx = torch.tensor([rank, 5, 7 + rank] + [9] * rank)
    lin(emb(idx)).sum().mul(rank + 1).backward()
    local = emb.weight.grad.coalesce()
    env = DistEnv(rank=rank, world_size=2)
    allreduce_gradients([emb.weight, lin.weight, lin.bias], env)
    # the NCCL route for sparse gradients (all-gather of rows), exercised here on gloo
    gathered = gather_sparse_sum(local, env).to_dense() / 2
    torch.save({"emb": emb.weight.grad.to_dense(), "w": lin.weight.grad, "b": lin.bias.grad,
                "emb_gathered": gathered}, f"{out}.{rank}")
    dist.destroy_process_group()


def _expected() -> dict[str, torch.Tensor]:
    grads = []
    for rank in range(2):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(10, 3, sparse=True)
        lin = torch.nn.Linear(3, 1)
        lin(emb(torch.tensor([rank, 5, 7 + rank] + [9] * rank))).sum().mul(rank + 1).backward()
        grads.append({"emb": emb.weight.grad.to_dense(), "w": lin.weight.grad, "b": lin.bias.grad})
    return {k: (grads[0][k] + grads[1][k]) / 2 for k in grads[0]}


def test_allreduce_averages_dense_and_sparse_grads(tmp_path) -> None:
    out = str(tmp_path / "g")
    mp.spawn(_worker, args=(_free_port(), out), nprocs=2, join=True)
    want = _expected()
    for rank in range(2):
        got = torch.load(f"{out}.{rank}", weights_only=True)
        for k in want:
            torch.testing.assert_close(got[k], want[k])
        torch.testing.assert_close(got["emb_gathered"], want["emb"])


def test_single_process_is_noop() -> None:
    p = torch.nn.Parameter(torch.ones(2))
    p.grad = torch.full((2,), 3.0)
    allreduce_gradients([p], DistEnv())
    assert torch.equal(p.grad, torch.full((2,), 3.0))


@pytest.mark.parametrize("world", [1])
def test_env_defaults(world: int) -> None:
    env = DistEnv()
    assert env.is_main and not env.distributed and env.world_size == world


def test_global_batch_is_split_evenly_or_refused() -> None:
    assert rank_batch_size(256, DistEnv(world_size=2)) == 128
    assert rank_batch_size(256, DistEnv()) == 256
    with pytest.raises(RecnasError, match="not divisible by the world size 3"):
        rank_batch_size(256, DistEnv(world_size=3))


def test_single_process_needs_no_hook_and_no_reduction() -> None:
    assert grad_hook(DistEnv()) is None
    assert reduce_mean(0.25, DistEnv()) == 0.25
