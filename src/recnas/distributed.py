"""torch.distributed plumbing for `torchrun` (environment set-up, gradient all-reduce) and the GPU
input prefetch (issue 7; docs/scaling.md).

The supernet changes its active parameters every step, so instead of wrapping the model in
DistributedDataParallel (which must be told about unused parameters and rebuilds its buckets when
the graph changes) we all-reduce, after backward, exactly the gradients that exist. Every rank draws
the same path for a step (the path RNG is seeded by (seed, step)), so every rank holds the same set of
gradients and the collective calls line up.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Sequence

import torch
import torch.distributed as dist

from recnas._threads import consume
from recnas.errors import RecnasError


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands: rank, world size and device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        """True on the rank that writes checkpoints, journals and reports."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def env_world_size() -> int:
    """WORLD_SIZE as set by torchrun (1 when not launched by it)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed(device: str = "auto") -> DistEnv:
    """Initialise the process group from torchrun's environment; a no-op for a single process."""
    world = env_world_size()
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RecnasError("device 'cuda' requested but CUDA is not available; use --device cpu")
        if world > 1:
            torch.cuda.set_device(local_rank)
            device = f"cuda:{local_rank}"
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistEnv(rank=rank, world_size=world, local_rank=local_rank, device=device)


def shutdown_distributed() -> None:
    """Destroy the process group if one was created."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier(env: DistEnv) -> None:
    """Wait for every rank (no-op for one process)."""
    if env.distributed:
        dist.barrier()


def finish(env: DistEnv) -> None:
    """Wait for every rank (rank 0 has written its files), then tear the process group down."""
    if env.distributed and dist.is_initialized():
        dist.barrier()
    shutdown_distributed()


def rank_batch_size(global_batch: int, env: DistEnv) -> int:
    """Per-rank batch of a global batch: global / world size (so a step equals one on the combined batch)."""
    if global_batch % env.world_size:
        raise RecnasError(f"batch size {global_batch} is not divisible by the world size "
                          f"{env.world_size}; pick a multiple of {env.world_size}")
    return global_batch // env.world_size


def grad_hook(env: DistEnv) -> Callable[[Sequence[torch.nn.Parameter]], None] | None:
    """The trainer's `after_backward` hook for `env`: the gradient all-reduce, or None alone."""
    if not env.distributed:
        return None
    return lambda params: allreduce_gradients(params, env)


def reduce_mean(value: float, env: DistEnv) -> float:
    """Mean of a host float over ranks (for logged figures; one small collective)."""
    if not env.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64,
                     device=env.device if env.device.startswith("cuda") else "cpu")
    dist.all_reduce(t)
    return float(t.item()) / env.world_size


def allreduce_gradients(params: Iterable[torch.nn.Parameter], env: DistEnv) -> None:
    """Average the gradients that exist across ranks, in place (dense in one flat buffer, sparse apart)."""
    if not env.distributed:
        return
    dense: list[torch.Tensor] = []
    for p in params:
        g = p.grad
        if g is None:
            continue
        if g.is_sparse:
            p.grad = _allreduce_sparse(g.coalesce(), env) / env.world_size
        else:
            dense.append(g)
    if dense:
        flat = torch.cat([g.reshape(-1) for g in dense])  # one collective instead of one per tensor
        dist.all_reduce(flat)
        flat /= env.world_size
        offset = 0
        for g in dense:
            n = g.numel()
            g.copy_(flat[offset:offset + n].view_as(g))
            offset += n


def _allreduce_sparse(g: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Sum a sparse gradient over ranks: gloo reduces sparse tensors; NCCL needs an all-gather."""
    if dist.get_backend() == "gloo":
        dist.all_reduce(g)
        return g.coalesce()
    return gather_sparse_sum(g, env)


def gather_sparse_sum(g: torch.Tensor, env: DistEnv) -> torch.Tensor:
    """Sum a coalesced sparse tensor over ranks by all-gathering its rows (NCCL has no sparse reduce)."""
    idx, val = g.indices(), g.values()
    n = torch.tensor([idx.shape[1]], device=idx.device)
    sizes = [torch.zeros_like(n) for _ in range(env.world_size)]
    dist.all_gather(sizes, n)
    m = int(max(s.item() for s in sizes))
    pad_idx = torch.zeros(idx.shape[0], m, dtype=idx.dtype, device=idx.device)
    pad_val = torch.zeros((m,) + tuple(val.shape[1:]), dtype=val.dtype, device=val.device)
    pad_idx[:, : idx.shape[1]] = idx
    pad_val[: val.shape[0]] = val
    all_idx = [torch.empty_like(pad_idx) for _ in range(env.world_size)]
    all_val = [torch.empty_like(pad_val) for _ in range(env.world_size)]
    dist.all_gather(all_idx, pad_idx)
    dist.all_gather(all_val, pad_val)
    # padded entries carry zero values at row 0, so they add nothing
    out = torch.sparse_coo_tensor(torch.cat(all_idx, 1), torch.cat(all_val, 0), g.shape)
    return out.coalesce()


def broadcast_object(obj: object, env: DistEnv, src: int = 0) -> object:
    """Send a picklable object from `src` to every rank and return it."""
    if not env.distributed:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]



class Prefetcher:
    """Iterates a loader in a background thread, `depth` batches ahead of the training step.

    Gathering a batch from the memory-mapped cache (and pinning it) then overlaps the GPU's work
    on the previous step. `set_epoch` and `len` pass through, so the trainer's resume logic is
    unchanged; an exception in the loader is raised in the consumer.
    """

    def __init__(self, loader: Iterable[Any], *, depth: int = 2) -> None:
        self.loader, self.depth = loader, max(1, int(depth))

    def set_epoch(self, epoch: int) -> None:
        """Pass the epoch to the wrapped loader (before iterating)."""
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        worker = threading.Thread(target=self._fill, args=(q, stop), daemon=True)
        worker.start()
        yield from consume(q, stop, worker)

    def _fill(self, q: queue.Queue[tuple[str, Any]], stop: threading.Event) -> None:
        def put(kind: str, item: Any) -> bool:
            while not stop.is_set():
                try:
                    q.put((kind, item), timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            for batch in self.loader:
                if not put("batch", batch):
                    return
            put("end", None)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, raised there
            put("error", e)
