"""Training a baseline in the recnas harness: recnas.train's loop, epoch selection on val, test once.

The one place in recnas.nn that drives recnas.train and recnas.data (imported inside the functions,
so importing recnas.nn.baselines stays light and the nn -> train import order holds at load time).
Outputs, like `recnas train`: out_dir/{checkpoint.pt, best.pt, train_metrics.jsonl, metrics.json}.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses
import json
from pathlib import Path
import time
from typing import Any

import torch

from recnas.errors import ConfigError
from recnas.nn.baselines._registry import create_baseline
from recnas.nn.baselines._registry import flop_count
from recnas.nn.baselines._registry import get_baseline
from recnas.nn.baselines._registry import resolve_preset
from recnas.runs import atomic_torch_save
from recnas.runs import atomic_write_json

BASELINE_LR = 0.12  # method.md §7.2: the from-scratch training rate of the top-k candidates


def make_loader(
    cache: Any,
    splits: str | Sequence[str],
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    drop_last: bool,
) -> Any:
    """A recnas.data.BatchLoader over `splits` of `cache` (tests may substitute an in-memory one)."""
    from recnas.data import BatchLoader

    split = splits if isinstance(splits, str) else list(splits)
    return BatchLoader(cache, split, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)


def _evaluate(
    model: torch.nn.Module, cache: Any, split: str, batch_size: int, device: torch.device
) -> dict[str, Any]:
    from recnas.train import evaluate

    loader = make_loader(cache, split, batch_size, shuffle=False, seed=0, drop_last=False)
    model.eval()
    out = evaluate(lambda b: model(b.dense, b.sparse), loader, device=device)
    model.train()
    return dict(out)


def _settings(
    name: str,
    preset_name: str,
    preset: Any,
    cache: Any,
    *,
    splits: Sequence[str],
    eval_split: str | None,
    test: bool,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    shuffle: bool,
    max_steps: int | None,
) -> dict[str, Any]:
    values = {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(preset).items()
    }
    return {
        "model": name,
        "preset": preset_name,
        "preset_values": values,
        "splits": list(splits),
        "eval_split": eval_split,
        "test": test,
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "shuffle": shuffle,
        "max_steps": max_steps,
        "table_sizes": list(cache.schema.table_sizes),
    }


def _epoch_ends(steps_per_epoch: int, epochs: int, total: int) -> list[int]:
    return sorted({min(e * steps_per_epoch, total) for e in range(1, epochs + 1)})


def train_baseline(
    name: str,
    cache: Any,
    *,
    out_dir: str | Path,
    preset: str | Any | None = None,
    splits: Sequence[str] = ("train",),
    eval_split: str | None = "val",
    test: bool = True,
    epochs: int = 1,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    shuffle: bool = False,
    max_steps: int | None = None,
    device: str | torch.device = "cpu",
    eval_batch_size: int = 8192,
    log_every: int = 100,
    progress: bool = True,
) -> dict[str, Any]:
    """Train baseline `name` on `splits`, keep the epoch best on `eval_split`, test it once; -> metrics.

    A finished out_dir with the same settings is returned as is; an interrupted one resumes from
    its checkpoint (recnas.train's bit-exact resume).
    """
    from recnas.train import default_batch_size

    spec = get_baseline(name)
    preset_name = (
        preset if isinstance(preset, str) else (spec.default_preset if preset is None else "custom")
    )
    pobj = resolve_preset(spec.name, preset)
    if eval_split is not None and eval_split in splits:
        raise ConfigError(f"eval split {eval_split!r} is also a training split {list(splits)}")
    if "test" in splits:
        raise ConfigError("the test split is for the one final evaluation, not for training")
    lr = BASELINE_LR if lr is None else float(lr)
    bs = int(batch_size or default_batch_size(cache.schema))
    settings = _settings(
        spec.name,
        preset_name,
        pobj,
        cache,
        splits=splits,
        eval_split=eval_split,
        test=test,
        epochs=epochs,
        lr=lr,
        batch_size=bs,
        seed=seed,
        shuffle=shuffle,
        max_steps=max_steps,
    )
    out = Path(out_dir)
    done = out / "metrics.json"
    if done.is_file():
        prev = json.loads(done.read_text())
        if prev.get("settings") == settings:
            return prev
        for stale in ("checkpoint.pt", "best.pt", "val_epochs.json", "train_metrics.jsonl"):
            (out / stale).unlink(missing_ok=True)  # a finished run with other settings: start over
    return _run(
        spec.name,
        pobj,
        cache,
        out,
        settings,
        device=torch.device(device),
        eval_batch_size=eval_batch_size,
        log_every=log_every,
        progress=progress,
    )


def _run(
    name: str,
    preset: Any,
    cache: Any,
    out: Path,
    settings: dict[str, Any],
    *,
    device: torch.device,
    eval_batch_size: int,
    log_every: int,
    progress: bool,
) -> dict[str, Any]:
    from recnas.train import train

    t0 = time.perf_counter()
    torch.manual_seed(settings["seed"])
    model = create_baseline(name, cache.schema, preset).to(device)
    loader = make_loader(
        cache,
        settings["splits"],
        settings["batch_size"],
        shuffle=settings["shuffle"],
        seed=settings["seed"],
        drop_last=True,
    )
    per_epoch = len(loader)
    total = settings["epochs"] * per_epoch
    total = total if settings["max_steps"] is None else min(total, int(settings["max_steps"]))
    if total <= 0:
        raise ConfigError(
            f"baseline {name}: no training steps ({per_epoch} batches of "
            f"{settings['batch_size']} in {settings['splits']})"
        )
    epochs_file, best_file = out / "val_epochs.json", out / "best.pt"
    val_rows: list[dict[str, Any]] = (
        json.loads(epochs_file.read_text()) if epochs_file.is_file() else []
    )
    seconds, res = 0.0, None
    for k, end in enumerate(_epoch_ends(per_epoch, settings["epochs"], total), 1):
        res = train(
            model,
            loader,
            lr=settings["lr"],
            steps=total,
            warmup=0.1,
            clip=5.0,
            seed=settings["seed"],
            device=device,
            ckpt_path=out / "checkpoint.pt",
            metrics_path=out / "train_metrics.jsonl",
            log_every=log_every,
            config={"kind": "baseline", **settings},
            stop_at=end,
            progress=progress,
            desc=f"{name} epoch {k}",
        )
        seconds += res.seconds
        if settings["eval_split"] is None or any(r["epoch"] == k for r in val_rows):
            continue  # no selection, or this epoch was already scored before an interruption
        row = {
            "epoch": k,
            "step": end,
            **_evaluate(model, cache, settings["eval_split"], eval_batch_size, device),
        }
        val_rows.append(row)
        if row["logloss"] <= min(r["logloss"] for r in val_rows):
            atomic_torch_save(best_file, model.state_dict())
        atomic_write_json(epochs_file, val_rows)
    return _finish(
        name,
        preset,
        model,
        cache,
        out,
        settings,
        val_rows,
        res,
        seconds=seconds,
        t0=t0,
        device=device,
        eval_batch_size=eval_batch_size,
    )


def _finish(
    name: str,
    preset: Any,
    model: torch.nn.Module,
    cache: Any,
    out: Path,
    settings: dict[str, Any],
    val_rows: list[dict[str, Any]],
    res: Any,
    *,
    seconds: float,
    t0: float,
    device: torch.device,
    eval_batch_size: int,
) -> dict[str, Any]:
    cost = flop_count(name, cache.schema, preset)
    m: dict[str, Any] = {
        "model": name,
        "title": get_baseline(name).title,
        "settings": settings,
        **cost.to_dict(),
        "steps": res.step,
        "train_seconds": seconds,
        "samples_per_s": res.samples_per_s,
        "final_train_loss": res.loss,
    }
    if val_rows:
        best = min(val_rows, key=lambda r: (r["logloss"], r["epoch"]))
        m["val_by_epoch"], m["best_epoch"] = val_rows, best["epoch"]
        m[settings["eval_split"]] = {k: v for k, v in best.items() if k not in ("epoch", "step")}
        if best["epoch"] != val_rows[-1]["epoch"]:
            state = torch.load(out / "best.pt", map_location=device, weights_only=True)
            model.load_state_dict(state)
    if settings["test"]:
        m["test"] = _evaluate(model, cache, "test", eval_batch_size, device)  # touched once
    main_split = settings["eval_split"] if val_rows else ("test" if settings["test"] else None)
    if main_split is not None:
        m.update(
            logloss=m[main_split]["logloss"], auc=m[main_split]["auc"], evaluated_on=main_split
        )
    m["wall_seconds"] = time.perf_counter() - t0
    atomic_write_json(out / "metrics.json", m)
    return m
