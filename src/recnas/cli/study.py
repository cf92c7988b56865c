"""`recnas study ranking`: Kendall tau of supernet scores against training from scratch (§5)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommand: ranking."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "ranking",
        help="train K random subnets from scratch once and rank-correlate each supernet's scores",
    )
    p.add_argument(
        "--supernet",
        action="append",
        required=True,
        metavar="[NAME=]CKPT",
        help="supernet checkpoint, repeatable to compare variants on the same subnets",
    )
    p.add_argument("--data", type=Path, required=True, help="prepared cache directory")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    p.add_argument(
        "--config",
        type=Path,
        help="run config whose search stage's scoring settings to use (default: the spec's)",
    )
    p.add_argument("--k", type=int, default=30, help="number of random subnets (default 30)")
    p.add_argument("--seed", type=int, default=0, help="subnet draw and training seed (default 0)")
    p.add_argument("--finetune-steps", type=int, help="head fine-tune steps (default: config/500)")
    p.add_argument("--finetune-lr", type=float, help="head fine-tune lr (default: config/0.04)")
    p.add_argument("--batch-size", type=int, help="fine-tune batch (default: config/dataset's)")
    p.add_argument("--val-rows", type=int, help="val rows scored (default: config/1228800)")
    p.add_argument("--finetune", choices=("head", "path"),
                   help="what the scorer fine-tunes (default: config/head)")
    p.add_argument("--max-epochs", type=int, default=3,
                   help="from-scratch epochs per subnet at most (early stopping; default 3)")
    p.add_argument("--patience", type=int, default=1,
                   help="stop after this many epochs without a better val log loss (default 1)")
    p.add_argument("--train-batch-size", type=int, help="from-scratch batch (default: dataset's)")
    p.add_argument("--recipe", choices=("auto", "nasrec", "adam"),
                   help="from-scratch recipe (default: the config's final.recipe, else nasrec)")
    p.add_argument("--one-step", action="store_true",
                   help="also score with a 1-step head fine-tune (the no-fine-tune ablation)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def _variants(specs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, spec in enumerate(specs):
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = (Path(spec).parent.name or f"supernet{i}"), spec
        if name in out:
            raise RecnasError(f"--supernet: the name {name!r} is given twice; use NAME=CKPT")
        out[name] = path
    return out


def _config(args: argparse.Namespace) -> Any:
    """The run config given by --config, or None."""
    if args.config is None:
        return None
    from recnas.config import load_config

    return load_config(args.config)


def _settings(args: argparse.Namespace, cfg: Any = None) -> Any:
    """The search stage's scorer settings: from `cfg` as stage_search builds them, then flags."""
    from recnas.train import ScoringSettings

    base: dict[str, Any] = {}
    if cfg is not None:
        s = cfg.search
        base = {
            "finetune_steps": s.finetune_steps,
            "lr": s.finetune_lr,
            "batch_size": s.finetune_batch or cfg.supernet.batch,
            "val_rows": s.val_rows,
            "seed": s.seed,
            "finetune": s.finetune,
            "path_lr": s.path_lr,
        }
    flags = {
        "finetune_steps": args.finetune_steps,
        "lr": args.finetune_lr,
        "batch_size": args.batch_size,
        "val_rows": args.val_rows,
        "finetune": args.finetune,
    }
    base.update({k: v for k, v in flags.items() if v is not None})
    return ScoringSettings(**base)


def _recipe(kind: str, cache: Any, batch: int | None) -> str:
    """'auto' resolved for this cache as the final stage does (NASRec-Full's lr and batch)."""
    from recnas.train import resolve_recipe
    from recnas.train._standalone import FINAL_SETTINGS
    from recnas.train._supernet import dataset_key

    lr, default_batch = FINAL_SETTINGS[("full", dataset_key(cache.schema))]
    return resolve_recipe(kind, lr, cache.num_rows("train"), batch or default_batch)


def run(args: argparse.Namespace) -> int:
    """Run the study and print each variant's tau and interval."""
    from recnas.data import open_cache
    from recnas.train import ranking_study
    from recnas.train import scratch_fit

    cache, cfg = open_cache(args.data), _config(args)
    kind = args.recipe or (cfg.final.recipe if cfg is not None else "nasrec")
    fit, recipe = scratch_fit(
        max_epochs=args.max_epochs,
        patience=args.patience,
        batch_size=args.train_batch_size,
        recipe=_recipe(kind, cache, args.train_batch_size),
        device=args.device,
    )
    r = ranking_study(
        _variants(args.supernet),
        cache,
        fit,
        out_dir=args.out,
        recipe=recipe,
        k=args.k,
        settings=_settings(args, cfg),
        seed=args.seed,
        device=args.device,
        one_step=args.one_step,
    )
    summary = {
        v["variant"]: {
            "tau": round(v["finetuned"]["tau"], 4),
            "ci95": [round(v["finetuned"]["ci_low"], 4), round(v["finetuned"]["ci_high"], 4)],
            "p": v["finetuned"]["p_value"],
        }
        for v in r["variants"]
    }
    print(json.dumps({"k": r["k"], "variants": summary, "report": str(args.out / "ranking.md")}))
    return 0
