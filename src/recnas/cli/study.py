"""`recnas study ranking`: Kendall tau, supernet scores vs training from scratch (§5)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommand: ranking."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("ranking", help="train K random subnets and rank-correlate supernet scores")
    p.add_argument("--supernet", type=Path, required=True, help="supernet checkpoint (supernet.pt)")
    p.add_argument("--data", type=Path, required=True, help="prepared cache directory")
    p.add_argument(
        "--out", type=Path, required=True, help="output folder (ranking.json, ranking.md)"
    )
    p.add_argument("--k", type=int, default=8, help="number of random subnets (default 8)")
    p.add_argument(
        "--train-steps", type=int, help="from-scratch steps per subnet (default 1 epoch)"
    )
    p.add_argument("--batch-size", type=int, help="default: 512 (KDD 1024)")
    p.add_argument(
        "--finetune-steps", type=int, default=500, help="head fine-tune steps (default 500)"
    )
    p.add_argument(
        "--val-rows", type=int, default=1_228_800, help="val rows scored (default 1228800)"
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def run(args: argparse.Namespace) -> int:
    """Run the study and print the two taus."""
    from recnas.data import open_cache
    from recnas.train import ranking_study

    r = ranking_study(
        args.supernet,
        open_cache(args.data),
        out_dir=args.out,
        k=args.k,
        train_steps=args.train_steps,
        batch_size=args.batch_size,
        finetune_steps=args.finetune_steps,
        val_rows=args.val_rows,
        seed=args.seed,
        device=args.device,
    )
    print(
        json.dumps(
            {
                "kendall_tau_finetuned": r["kendall_tau_finetuned"]["tau"],
                "kendall_tau_1step": r["kendall_tau_1step"]["tau"],
                "report": str(args.out / "ranking.md"),
            }
        )
    )
    return 0
