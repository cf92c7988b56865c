"""`recnas train`: train architectures from scratch (method.md §7); several = top-k retraining.

One ARCH: trained on --splits, evaluated on val (or, with val among the splits, tested with --test).
Several ARCHs: each trained on train, the best on val retrained on train+val and tested once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recnas.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `recnas train`."""
    parser.add_argument(
        "arch",
        type=Path,
        nargs="+",
        help="architecture JSON (recnas or published NASRec); several = top-k",
    )
    parser.add_argument("--data", type=Path, required=True, help="prepared cache directory")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--splits", default="train", help="training splits, comma-separated")
    parser.add_argument("--test", action="store_true", help="evaluate on test once at the end")
    parser.add_argument("--epochs", type=int, default=1, help="epochs (default 1)")
    parser.add_argument("--lr", type=float, help="default: 0.12, or the spec's final lr with val")
    parser.add_argument(
        "--batch-size", type=int, help="default: 512 (KDD 1024), or the final batch"
    )
    parser.add_argument(
        "--layernorm",
        default="arch",
        choices=("arch", "reference", "on", "off"),
        help="arch: the architecture's own; reference: off like the reference",
    )
    parser.add_argument(
        "--full-tables",
        action="store_true",
        help="require an uncapped cache (the final model, method.md 7.3)",
    )
    parser.add_argument(
        "--final-data", type=Path, help="top-k: uncapped cache for the winner's final retraining"
    )
    parser.add_argument("--max-steps", type=int, help="cap the number of steps")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def run(args: argparse.Namespace) -> int:
    """Train, write metrics.json, print the main figures."""
    from recnas.data import open_cache
    from recnas.space import load_architecture
    from recnas.train import final_settings
    from recnas.train import retrain_topk
    from recnas.train import train_architecture

    ln = {"on": True, "off": False}.get(args.layernorm, args.layernorm)
    archs = [load_architecture(p) for p in args.arch]
    cache = open_cache(args.data)
    if len(archs) > 1:
        res = retrain_topk(
            archs,
            cache,
            topk_dir=args.out / "topk",
            final_dir=args.out / "final",
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            layernorm=ln,
            seed=args.seed,
            max_steps=args.max_steps,
            device=args.device,
            final_cache=open_cache(args.final_data) if args.final_data else None,
        )
        final = res["final"]
        print(
            json.dumps(
                {
                    "best": str(args.arch[res["best_index"]]),
                    "test_logloss": final["logloss"],
                    "test_auc": final["auc"],
                    "out": str(args.out),
                }
            )
        )
        return 0
    splits = tuple(s.strip() for s in args.splits.split(",") if s.strip())
    if "test" in splits:
        raise ConfigError("--splits must not include test; use --test to evaluate on it once")
    lr, bs = args.lr, args.batch_size
    if "val" in splits:  # the final retraining: the spec's final settings unless given
        f_lr, f_bs = final_settings(archs[0], cache.schema)
        lr, bs = lr or f_lr, bs or f_bs
    m = train_architecture(
        archs[0],
        cache,
        out_dir=args.out,
        splits=splits,
        eval_split=None if "val" in splits else "val",
        test=args.test,
        epochs=args.epochs,
        lr=lr,
        batch_size=bs,
        layernorm=ln,
        seed=args.seed,
        max_steps=args.max_steps,
        device=args.device,
        full_tables=args.full_tables,
    )
    print(
        json.dumps(
            {
                k: m.get(k)
                for k in (
                    "evaluated_on",
                    "logloss",
                    "auc",
                    "flops",
                    "params",
                    "train_seconds",
                    "samples_per_s",
                )
            }
        )
    )
    return 0
