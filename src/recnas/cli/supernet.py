"""`recnas supernet train`: train the weight-sharing supernet on a prepared cache (method.md §4).

Runs as one process, or under `torchrun` (every rank samples the same path; gradients all-reduced).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch

from recnas.errors import ConfigError
from recnas.runs import RunDir
from recnas.space import STRATEGIES
from recnas.space import get_space


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommand: train."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("train", help="train a supernet; resumes from OUT/supernet.pt if present")
    p.add_argument("--data", type=Path, required=True, help="prepared cache directory")
    p.add_argument("--out", type=Path, required=True, help="output folder (supernet.pt, metrics)")
    p.add_argument("--space", default="full", help="search space: small or full (default full)")
    p.add_argument("--strategy", default="default", choices=STRATEGIES,
                   help="path sampling strategy (method.md 4.1; default: the paper's)")
    p.add_argument("--epochs", type=int, default=1, help="epochs over the train split (default 1)")
    p.add_argument("--batch-size", type=int, help="default: 512 (KDD 1024)")
    p.add_argument("--optimizer", choices=("adagrad", "adam"), default="adagrad",
                   help="adagrad (method.md §4.3, default) or adam (dense Adam + SparseAdam tables)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 0.12 Adagrad, 1e-3 Adam)")
    p.add_argument("--warmup-slope", type=float,
                   help="lr gained per warm-up step at most; short runs peak lower "
                        "(default 0.12/7162, the paper's; 0 = the spec's 10%% warm-up)")
    p.add_argument("--warmup-steps", type=int,
                   help="full-path warm-up T (default: the dataset's, at most 20%% of the steps)")
    p.add_argument("--coin", default="path", choices=("path", "block"),
                   help="full-path warm-up coin: one per step or one per block (default path)")
    p.add_argument("--cap", type=int, help="expected table cap of the cache (checked, not applied)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--max-steps", type=int, help="stop after this many steps (the schedule fits them)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--no-layernorm", action="store_true", help="build the supernet without LayerNorm")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--ckpt-every", type=int, default=1000, help="checkpoint every N steps (default 1000)")
    p.add_argument("--log-every", type=int, default=100, help="log metrics every N steps (default 100)")


def check_cap(cache: object, cap: int | None) -> None:
    """Refuse a cache whose table cap differs from the one asked for (ids hash differently)."""
    if cap is None:
        return
    have = (getattr(cache, "meta", {}).get("options") or {}).get("cap")
    if have != cap:
        raise ConfigError(f"cache was prepared with cap {have}, not {cap}; prepare a cache with "
                          f"`recnas prepare ... --cap {cap}`")


def run(args: argparse.Namespace) -> int:
    """Train and report where the checkpoint went."""
    from recnas.data import BatchLoader
    from recnas.data import open_cache
    from recnas.distributed import Prefetcher
    from recnas.distributed import barrier
    from recnas.distributed import finish
    from recnas.distributed import grad_hook
    from recnas.distributed import init_distributed
    from recnas.distributed import rank_batch_size
    from recnas.distributed import reduce_mean
    from recnas.nn import Supernet
    from recnas.train import default_batch_size
    from recnas.train import train_supernet
    from recnas.train._schedule import WARMUP_SLOPE

    env = init_distributed(args.device)
    cache = open_cache(args.data)
    check_cap(cache, args.cap)
    space = get_space(args.space)
    run_dir = RunDir(args.out)
    if args.fresh and run_dir.supernet.exists() and env.is_main:
        run_dir.supernet.unlink()
    barrier(env)  # no rank may resume from the checkpoint that --fresh just removed
    torch.manual_seed(args.seed)  # the same initial weights on every rank
    net = Supernet(cache.schema, space, layernorm=not args.no_layernorm).to(env.device)
    bs = args.batch_size or default_batch_size(cache.schema)
    # torchrun: rank r reads global batch i's r-th slice, so a step equals one on the whole batch
    loader = BatchLoader(cache, "train", rank_batch_size(bs, env), shuffle=False, seed=args.seed,
                         rank=env.rank, world_size=env.world_size, drop_last=True,
                         pin_memory=env.device != "cpu")
    if env.device.startswith("cuda"):
        loader = Prefetcher(loader)  # gather and pin the next batches while the GPU computes
    res = train_supernet(
        net, cache, space=space, strategy=args.strategy, epochs=args.epochs,
        max_steps=args.max_steps, batch_size=bs, optimizer=args.optimizer,
        lr=args.lr if args.lr is not None else (1e-3 if args.optimizer == "adam" else 0.12),
        full_path_steps=args.warmup_steps,
        warmup_slope=WARMUP_SLOPE if args.warmup_slope is None else (args.warmup_slope or None),
        coin=args.coin, seed=args.seed, device=env.device, ckpt_path=run_dir.supernet,
        ckpt_every=args.ckpt_every, resume=True, metrics_path=run_dir.supernet_metrics,
        log_every=args.log_every, loader=loader, is_main=env.is_main,
        after_backward=grad_hook(env))
    loss = reduce_mean(res.loss, env)  # the combined batch's loss, not rank 0's slice
    finish(env)  # rank 0's checkpoint is complete before any rank exits
    if env.is_main:
        print(json.dumps({"checkpoint": str(run_dir.supernet), "steps": res.step,
                          "world_size": env.world_size,
                          "samples_per_s": round(res.samples_per_s * env.world_size, 1),
                          "final_loss": final_loss(loss, run_dir.supernet_metrics)},
                         allow_nan=False))
    return 0


def final_loss(loss: float, metrics: Path) -> float | None:
    """This run's last logged loss; for a finished run that trained no step now (loss nan), the last
    loss in its metrics file; None when neither exists (JSON has no NaN)."""
    if math.isfinite(loss):
        return loss
    last = None
    if metrics.is_file():
        for line in metrics.read_text().splitlines():
            try:
                value = json.loads(line).get("loss")
            except (json.JSONDecodeError, AttributeError):
                continue  # a torn last line
            if isinstance(value, (int, float)) and math.isfinite(value):
                last = float(value)
    return last
