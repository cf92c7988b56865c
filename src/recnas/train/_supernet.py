"""Supernet training (method.md §4): path sampling per step with the full-path warm-up (§4.2).

The full path is trained with probability 1 - t/T for training step t < T (counting training steps
only). The coin is one per step ("path") or one per block ("block", closer to the reference's
independent coins). Defaults per dataset come from §4.3, scaled down when the data is small.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Sequence

import torch
from torch import nn

from recnas.data.batch import Batch
from recnas.data.schema import FeatureSchema
from recnas.errors import CheckpointError
from recnas.errors import ConfigError
from recnas.space import Architecture
from recnas.space import SearchSpace
from recnas.space import full_path
from recnas.space import sample_path
from recnas.train import _data
from recnas.train._checkpoint import load_checkpoint
from recnas.train._checkpoint import load_model_state
from recnas.train._loop import PathFn
from recnas.train._loop import TrainResult
from recnas.train._loop import train
from recnas.train._schedule import WARMUP_SLOPE
from recnas.train._schedule import bounded_warmup
from recnas.train._schedule import warmup_steps

# method.md §4.2-4.3: (batch size, full-path warm-up steps T)
SUPERNET_DEFAULTS: dict[str, tuple[int, int]] = {
    "criteo": (512, 15000),
    "avazu": (512, 12500),
    "kdd": (1024, 20000),
}
WARMUP_FRACTION_CAP = 0.2  # on small data, T is at most this share of the run
COINS = ("path", "block")


def dataset_key(schema: FeatureSchema) -> str:
    """'criteo', 'avazu' or 'kdd' from the schema's name (criteo when unknown, e.g. synthetic)."""
    name = (schema.name or "").lower()
    for key in ("avazu", "kdd"):
        if key in name:
            return key
    return "criteo"


def default_batch_size(schema: FeatureSchema) -> int:
    """The spec's supernet/fine-tune batch for the dataset (512, or 1024 for KDD)."""
    return SUPERNET_DEFAULTS[dataset_key(schema)][0]


def default_full_path_steps(schema: FeatureSchema, total_steps: int) -> int:
    """The spec's T for the dataset, capped at 20% of the run so small runs still sample paths."""
    return min(SUPERNET_DEFAULTS[dataset_key(schema)][1], int(WARMUP_FRACTION_CAP * total_steps))


def train_positive_rate(cache: Any) -> float | None:
    """Share of clicks in the cache's train split, from its meta.json (None when not recorded)."""
    meta = getattr(cache, "meta", None) or {}
    pos, rows = (meta.get("positives") or {}).get("train"), (meta.get("rows") or {}).get("train")
    return float(pos) / float(rows) if pos is not None and rows else None


def _prior_bias(supernet: nn.Module, cache: Any) -> None:
    """Set an untrained supernet's head bias to the base-rate logit (a trained one is left alone).

    Untrained = its shared head weights are still all zero (their init); a resumed run then loads
    its own bias from the checkpoint over this one.
    """
    w, b = getattr(supernet, "head_weight", None), getattr(supernet, "head_bias", None)
    prior = train_positive_rate(cache)
    if w is None or b is None or prior is None or not 0.0 < prior < 1.0 or bool(w.any()):
        return
    with torch.no_grad():
        b.fill_(math.log(prior / (1.0 - prior)))


def warmup_path_fn(
    space: SearchSpace,
    *,
    strategy: str = "default",
    full_path_steps: int = 0,
    coin: str = "path",
    layernorm: bool = True,
) -> PathFn:
    """path_fn(step, rng) for `train`: full path with probability 1 - step/T, else `strategy`'s."""
    if coin not in COINS:
        raise ConfigError(f"unknown warm-up coin granularity {coin!r}; choose from {list(COINS)}")
    full = full_path(space, layernorm=layernorm)
    sample_path(space, random.Random(0), strategy)  # fail now on an unknown strategy

    def path_fn(step: int, rng: random.Random) -> Architecture:
        p_full = max(0.0, 1.0 - step / full_path_steps) if full_path_steps > 0 else 0.0
        if coin == "path":
            if p_full > 0 and rng.random() < p_full:
                return full
            return sample_path(space, rng, strategy, layernorm=layernorm)
        drawn = sample_path(space, rng, strategy, layernorm=layernorm)
        if p_full <= 0:
            return drawn
        blocks = tuple(f if rng.random() < p_full else s for f, s in zip(full.blocks, drawn.blocks))
        return Architecture(blocks, layernorm=layernorm)

    return path_fn


def train_supernet(
    supernet: nn.Module,
    cache: Any,
    *,
    space: SearchSpace,
    strategy: str = "default",
    epochs: int = 1,
    max_steps: int | None = None,
    batch_size: int | None = None,
    lr: float = 0.12,
    optimizer: str = "adagrad",
    warmup_slope: float | None = WARMUP_SLOPE,
    full_path_steps: int | None = None,
    coin: str = "path",
    seed: int = 0,
    shuffle: bool = False,
    device: str | torch.device = "cpu",
    ckpt_path: str | Path | None = None,
    ckpt_every: int = 1000,
    resume: bool = True,
    metrics_path: str | Path | None = None,
    log_every: int = 100,
    loader: Iterable[Batch] | None = None,
    after_backward: Callable[[Sequence[nn.Parameter]], None] | None = None,
    is_main: bool = True,
    stop_at: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train `supernet` on the cache's train split (spec: Adagrad lr 0.12, clip 5).

    An untrained supernet's head bias starts at the train split's base-rate logit (its head
    weights start at zero, so every path starts at the base-rate entropy).
    The rate warms up from ~0 gaining at most `warmup_slope` a step, and peaks lower than `lr` when
    the run is too short to reach it (`bounded_warmup`); `warmup_slope=None` is the spec's plain
    schedule (10% of the steps, then `lr`), which diverges on short runs (docs/supernet.md).
    `optimizer="adam"` (dense Adam, SparseAdam tables) warms up linearly over 10% of the steps to
    `lr`: Adam's step is about the rate from the first step on, so the slope bound does not apply.
    `loader` overrides the default BatchLoader (a distributed run passes its rank's shard).
    """
    schema = supernet.schema
    bs = batch_size or default_batch_size(schema)
    if loader is None:
        loader = _data.make_loader(cache, "train", bs, shuffle=shuffle, seed=seed, drop_last=True)
    total = epochs * len(loader)  # type: ignore[arg-type]
    if max_steps is not None:
        total = min(total, int(max_steps)) if total > 0 else int(max_steps)
    T = default_full_path_steps(schema, total) if full_path_steps is None else int(full_path_steps)
    if warmup_slope is None or optimizer == "adam":
        lr_warm, peak = warmup_steps(total, 0.1), lr
    else:
        lr_warm, peak = bounded_warmup(total, lr, slope=warmup_slope)
    path_fn = warmup_path_fn(
        space, strategy=strategy, full_path_steps=T, coin=coin, layernorm=supernet.layernorm
    )
    config = {
        "kind": "supernet",
        "space": space.to_dict(),
        "strategy": strategy,
        "batch_size": bs,
        "full_path_steps": T,
        "coin": coin,
        "requested_lr": lr,
        "warmup_slope": warmup_slope if optimizer == "adagrad" else None,
        "shuffle": shuffle,
        "schema": schema.to_dict(),
        "layernorm": bool(supernet.layernorm),
    }
    _prior_bias(supernet, cache)
    return train(
        supernet,
        loader,
        lr=peak,
        optimizer=optimizer,
        steps=total,
        warmup=lr_warm,
        clip=5.0,
        path_fn=path_fn,
        seed=seed,
        device=device,
        ckpt_path=ckpt_path,
        ckpt_every=ckpt_every,
        resume=resume,
        metrics_path=metrics_path,
        log_every=log_every,
        config=config,
        after_backward=after_backward,
        is_main=is_main,
        stop_at=stop_at,
        progress=progress,
        desc="supernet",
    )


def load_supernet(
    path: str | Path, *, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a trained supernet from its checkpoint; returns (supernet in eval mode, config)."""
    from recnas.nn import Supernet

    ck = load_checkpoint(path)
    cfg = ck.get("config") or {}
    if cfg.get("kind") != "supernet":
        raise CheckpointError(f"{path} is not a supernet checkpoint (kind={cfg.get('kind')!r})")
    try:
        space = SearchSpace.from_dict(cfg["space"])
        schema = FeatureSchema.from_dict(cfg["schema"])
    except (KeyError, TypeError, ConfigError) as e:
        raise CheckpointError(f"{path}: unreadable supernet config ({e})") from None
    net = Supernet(schema, space, layernorm=bool(cfg.get("layernorm", True)))
    load_model_state(path, net, ck["model"])
    cfg = {**cfg, "step": int(ck["step"]), "space_obj": space}
    return net.to(device).eval(), cfg
