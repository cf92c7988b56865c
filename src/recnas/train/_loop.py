"""The one training loop (method.md §4.3, §5, §7): supernet paths, head fine-tunes, final models.

BCE on logits, Adagrad (eps 1e-2, sparse embedding rows), warm-up + cosine to 1e-8, global clip 5,
bf16 autocast on CUDA, metrics JSONL every `log_every` steps (the only host syncs), atomic
checkpoints every `ckpt_every` steps, and resume that continues bit-exactly on CPU.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from recnas.data.batch import Batch
from recnas.errors import CheckpointError
from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.space.arch import Architecture
from recnas.train._checkpoint import check_config
from recnas.train._checkpoint import load_checkpoint
from recnas.train._checkpoint import load_model_state
from recnas.train._checkpoint import rng_state
from recnas.train._checkpoint import save_checkpoint
from recnas.train._checkpoint import set_rng_state
from recnas.train._metrics import MetricsLog
from recnas.train._metrics import autocast
from recnas.train._optim import clip_grad_norm
from recnas.train._optim import make_optimizer
from recnas.train._optim import set_lr
from recnas.train._schedule import lr_at
from recnas.train._schedule import warmup_steps

PathFn = Callable[[int, random.Random], Architecture]


@dataclass(frozen=True)
class TrainResult:
    """What a call to `train` did: the global step reached, and this call's time and throughput."""

    step: int
    total_steps: int
    seconds: float
    samples: int
    samples_per_s: float
    loss: float  # mean training loss over the last logged window (nan if nothing was logged)


def path_rng(seed: int, step: int) -> random.Random:
    """The path RNG of a step: a function of (seed, step): equal on every rank and on resume."""
    return random.Random(f"recnas-path:{seed}:{step}")


def _stream(loader: Iterable[Batch], epoch: int, index: int) -> Iterator[tuple[int, int, Batch]]:
    """(epoch, index, batch) from position (epoch, index) on, epoch after epoch."""
    while True:
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        it: Iterator[Batch] = iter(loader)
        if index:
            it = itertools.islice(it, index, None)  # skip what the checkpointed run consumed
        got = False
        for batch in it:
            got = True
            yield epoch, index, batch
            index += 1
        if not got and index == 0:
            raise ConfigError("the training loader yields no batches (too few rows for one batch?)")
        epoch, index = epoch + 1, 0


@dataclass
class _State:
    step: int = 0
    epoch: int = 0
    index: int = 0


def _restore(
    path: Path,
    model: nn.Module,
    opt: Any,
    config: dict[str, Any],
    metrics: MetricsLog,
) -> _State:
    ck = load_checkpoint(path)
    check_config(path, ck.get("config", {}), config)
    load_model_state(path, model, ck["model"])
    try:
        opt.load_state_dict(ck["optimizer"])
    except (ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(
            f"checkpoint {path}: optimizer state does not match ({str(e)[:160]})"
        ) from None
    set_rng_state(ck["rng"])
    metrics.truncate_after(int(ck["step"]))
    return _State(int(ck["step"]), int(ck["loader"]["epoch"]), int(ck["loader"]["index"]))


def _save(
    path: Path,
    model: nn.Module,
    opt: Any,
    st: _State,
    config: dict[str, Any],
    arch: Architecture | None,
) -> None:
    save_checkpoint(
        path,
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": st.step,
            "rng": rng_state(),
            "loader": {"epoch": st.epoch, "index": st.index},
            "config": config,
            "arch": arch.to_json() if arch is not None else None,
        },
    )


def _forward_backward(
    model: nn.Module, batch: Batch, path: Architecture | None, device: torch.device
) -> torch.Tensor:
    with autocast(device):
        logits = (
            model(batch.dense, batch.sparse, path)
            if path is not None
            else model(batch.dense, batch.sparse)
        )
    loss = F.binary_cross_entropy_with_logits(
        logits.float().reshape(-1), batch.label.float().reshape(-1)
    )
    loss.backward()
    return loss.detach()


def train(
    model: nn.Module,
    loader: Iterable[Batch],
    *,
    lr: float,
    optimizer: str = "adagrad",
    steps: int | None = None,
    epochs: int = 1,
    warmup: int | float = 0.1,
    clip: float | None = 5.0,
    params: Sequence[nn.Parameter] | None = None,
    path_fn: PathFn | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    ckpt_path: str | Path | None = None,
    ckpt_every: int = 0,
    resume: bool = True,
    metrics_path: str | Path | None = None,
    log_every: int = 100,
    config: dict[str, Any] | None = None,
    arch: Architecture | None = None,
    stop_at: int | None = None,
    after_backward: Callable[[Sequence[nn.Parameter]], None] | None = None,
    is_main: bool = True,
    progress: bool = True,
    desc: str = "train",
    reseed: bool = True,
) -> TrainResult:
    """Train `model` on `loader` for `steps` (default epochs x len(loader)); see the module header.

    `path_fn(step, rng)` gives the supernet path of each step (model(dense, sparse, path)); without
    it the model is called as model(dense, sparse). `params` restricts training (e.g. the head).
    `optimizer`: "adagrad" (the paper's, eps 1e-2) or "adam" (sparse tables by SparseAdam).
    `stop_at` ends early at that global step (checkpointed), as an interruption would.
    `reseed` seeds the global RNGs at a fresh start (off for library calls such as scoring).
    """
    device = torch.device(device)
    total = int(steps) if steps is not None else int(epochs) * len(loader)  # type: ignore[arg-type]
    if total <= 0:
        raise ConfigError(f"nothing to train: {total} steps")
    warm = warmup_steps(total, warmup)
    cfg = {"steps": total, "lr": lr, "warmup": warm, "clip": clip, "seed": seed, **(config or {})}
    if optimizer != "adagrad":  # Adagrad runs keep the config (and resume check) they always had
        cfg["optimizer"] = optimizer
    trained = list(model.parameters()) if params is None else list(params)
    opt = make_optimizer(model, lr=lr, params=trained, kind=optimizer)
    metrics = MetricsLog(metrics_path, enabled=is_main)
    ckpt = Path(ckpt_path) if ckpt_path is not None else None
    if ckpt is not None and resume and ckpt.is_file():
        st = _restore(ckpt, model, opt, cfg, metrics)
    else:
        st = _State()
        if reseed:
            random.seed(seed), np.random.seed(seed % 2**32), torch.manual_seed(seed)
    end = total if stop_at is None else min(total, int(stop_at))
    return _run(
        model,
        loader,
        opt,
        trained,
        st,
        end=end,
        total=total,
        warm=warm,
        lr=lr,
        clip=clip,
        path_fn=path_fn,
        seed=seed,
        device=device,
        ckpt=ckpt if is_main else None,
        ckpt_every=ckpt_every,
        metrics=metrics,
        log_every=log_every,
        cfg=cfg,
        arch=arch,
        after_backward=after_backward,
        progress=progress and is_main,
        desc=desc,
    )


class _Window:
    """Loss and throughput since the last log line, kept on the device until it is read."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.reset(time.perf_counter())

    def reset(self, now: float) -> None:
        """Start a new window at time `now`."""
        self.loss, self.steps, self.samples, self.t = torch.zeros((), device=self.device), 0, 0, now

    def add(self, loss: torch.Tensor, n: int) -> None:
        """Account one step of `n` samples (no host sync)."""
        self.loss += loss
        self.steps, self.samples = self.steps + 1, self.samples + n

    def close(self, step: int) -> tuple[float, float]:
        """(mean loss, samples/s) of the window, then a new one; the loop's only host sync."""
        now = time.perf_counter()
        loss = float(self.loss.item()) / max(1, self.steps)
        if not math.isfinite(loss):
            raise RecnasError(f"training diverged at step {step}: mean loss {loss}")
        rate = self.samples / max(now - self.t, 1e-9)
        self.reset(now)
        return loss, rate


def _run(
    model: nn.Module,
    loader: Iterable[Batch],
    opt: Any,
    trained: Sequence[nn.Parameter],
    st: _State,
    *,
    end: int,
    total: int,
    warm: int,
    lr: float,
    clip: float | None,
    path_fn: PathFn | None,
    seed: int,
    device: torch.device,
    ckpt: Path | None,
    ckpt_every: int,
    metrics: MetricsLog,
    log_every: int,
    cfg: dict[str, Any],
    arch: Architecture | None,
    after_backward: Callable[[Sequence[nn.Parameter]], None] | None,
    progress: bool,
    desc: str,
) -> TrainResult:
    model.train()
    t0, samples, last_loss, win = time.perf_counter(), 0, float("nan"), _Window(device)
    bar = tqdm(
        total=total,
        initial=st.step,
        desc=desc,
        unit="step",
        disable=not progress,
        dynamic_ncols=True,
        leave=False,
    )
    stream = _stream(loader, st.epoch, st.index)
    while st.step < end:
        epoch, index, batch = next(stream)
        batch = batch.to(device, non_blocking=True)
        path = path_fn(st.step, path_rng(seed, st.step)) if path_fn is not None else None
        opt.zero_grad(set_to_none=True)
        loss = _forward_backward(model, batch, path, device)
        if after_backward is not None:
            after_backward(trained)  # e.g. the gradient all-reduce of a distributed run
        norm = clip_grad_norm(trained, clip) if clip else None
        set_lr(opt, lr_at(st.step, total=total, base_lr=lr, warmup=warm))
        opt.step()
        st.step, st.epoch, st.index = st.step + 1, epoch, index + 1
        samples += len(batch)
        win.add(loss, len(batch))
        bar.update(1)
        if st.step % max(1, log_every) == 0 or st.step == end:
            last_loss, rate = win.close(st.step)
            metrics.write(
                {
                    "step": st.step,
                    "epoch": epoch,
                    "loss": last_loss,
                    "lr": lr_at(st.step - 1, total=total, base_lr=lr, warmup=warm),
                    "grad_norm": float(norm.item()) if norm is not None else None,
                    "samples_per_s": rate,
                }
            )
            bar.set_postfix(loss=f"{last_loss:.4f}", samples_s=f"{rate:,.0f}")
        if ckpt is not None and ckpt_every and st.step % ckpt_every == 0:
            _save(ckpt, model, opt, st, cfg, arch)
    bar.close()
    if ckpt is not None and samples:  # a finished run resumed again has nothing new to save
        _save(ckpt, model, opt, st, cfg, arch)
    secs = time.perf_counter() - t0
    return TrainResult(st.step, total, secs, samples, samples / max(secs, 1e-9), last_loss)
