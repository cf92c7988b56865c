"""`recnas baseline`: train one hand-crafted baseline under the fair protocol with its BARS recipe.

Trained on train, validated after every epoch (best kept, lr decay on plateau, early stopping), tested
once; writes OUT/metrics.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from recnas.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `recnas baseline`."""
    parser.add_argument("--model", help="baseline name (see --list), e.g. dlrm, deepfm, dcnv2")
    parser.add_argument("--data", type=Path, help="prepared cache directory")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument("--preset", help="named preset (default: the paper's; see --list)")
    parser.add_argument("--no-test", action="store_true", help="skip the one evaluation on test")
    parser.add_argument("--max-epochs", type=int, default=50, help="epoch cap (default 50)")
    parser.add_argument("--patience", type=int, default=2,
                        help="epochs without improvement on val before stopping (default 2)")
    parser.add_argument("--lr", type=float, help="override the recipe's learning rate (BARS: 1e-3)")
    parser.add_argument("--batch-size", type=int, help="default: 512 (KDD 1024)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default torch's); 1 is fastest for small models on a busy machine",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the baselines and their presets, then exit"
    )


def _list() -> int:
    from recnas.nn.baselines import get_baseline
    from recnas.nn.baselines import list_baselines

    for name in list_baselines():
        spec = get_baseline(name)
        print(f"{name:15s} {spec.title} ({spec.reference})")
        for pname, preset in spec.presets.items():
            mark = "*" if pname == spec.default_preset else " "
            print(f"  {mark} {pname:8s} {dataclasses.asdict(preset)}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Train, select on val, test once, print the main figures."""
    if args.list:
        return _list()
    missing = [f"--{k}" for k in ("model", "data", "out") if getattr(args, k) is None]
    if missing:
        raise ConfigError(f"missing {', '.join(missing)} (or use --list)")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from recnas.data import open_cache
    from recnas.nn.baselines import get_baseline
    from recnas.train import Protocol
    from recnas.train import baseline_recipe
    from recnas.train import train_baseline

    name = get_baseline(args.model).name
    m = train_baseline(
        name,
        open_cache(args.data),
        out_dir=args.out,
        preset=args.preset,
        recipe=baseline_recipe(name, lr=args.lr),
        protocol=Protocol(max_epochs=args.max_epochs, patience=args.patience, batch_size=args.batch_size),
        seed=args.seed,
        test=not args.no_test,
        device=args.device,
    )
    test = m.get("test") or {}
    print(
        json.dumps(
            {
                "model": m["model"],
                "best_epoch": m["best_epoch"],
                "epochs_run": m["epochs_run"],
                "evaluated_on": m.get("evaluated_on"),
                "logloss": m.get("logloss"),
                "auc": m.get("auc"),
                "test_logloss": test.get("logloss"),
                "regret": m.get("regret"),
                "test_auc": test.get("auc"),
                "flops": m["flops"],
                "params": m["params"],
                "wall_seconds": m["wall_seconds"],
                "out": str(args.out),
            }
        )
    )
    return 0
