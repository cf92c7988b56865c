"""Training an architecture from scratch (method.md §7): top-k on train, selection on val, and the
winner retrained on train+val and tested once. Results go to metrics.json in the output folder.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any
from typing import Sequence

import torch

from recnas.errors import ConfigError
from recnas.hardware.flops import count
from recnas.runs import atomic_write_json
from recnas.space import Architecture
from recnas.train import _data
from recnas.train._loop import train
from recnas.train._metrics import evaluate
from recnas.train._protocol import Protocol
from recnas.train._protocol import Recipe
from recnas.train._protocol import fit
from recnas.train._schedule import PAPER_WARMUP_SLOPE
from recnas.train._supernet import dataset_key
from recnas.train._supernet import default_batch_size

TOPK_LR = 0.12  # §7.2
# §7.3 final retraining: (lr, batch) per space and dataset
FINAL_SETTINGS: dict[tuple[str, str], tuple[float, int]] = {
    ("small", "criteo"): (0.10, 256),
    ("small", "avazu"): (0.10, 256),
    ("small", "kdd"): (0.10, 512),
    ("full", "criteo"): (0.16, 256),
    ("full", "avazu"): (0.20, 256),
    ("full", "kdd"): (0.16, 512),
}
SMALL_OPS = {"fc", "dot_product", "efc"}
RECIPES = ("auto", "nasrec", "adam")  # the searched model's recipes (searched_recipe)
ADAM_RECIPE = Recipe("adam", 1e-3, 1e-5,
                     source="BARS deep-model recipe (Adam 1e-3, embedding regularizer 1e-5)")


def space_of(arch: Architecture) -> str:
    """'small' if the architecture uses only NASRec-Small's operators, else 'full'."""
    ops = {o for b in arch.blocks for o in b.dense_ops + b.sparse_ops}
    return "small" if ops <= SMALL_OPS else "full"


def final_settings(arch: Architecture, schema: Any) -> tuple[float, int]:
    """The spec's final-retraining (lr, batch) for the architecture's space and the dataset."""
    return FINAL_SETTINGS[(space_of(arch), dataset_key(schema))]


def resolve_recipe(kind: str, nasrec_lr: float, train_rows: int, batch: int) -> str:
    """"nasrec" or "adam" for `kind`; "auto" takes NASRec's recipe (peak `nasrec_lr`) only when its
    warm-up (10% of epoch one) gains the rate no faster per step than the paper's supernet schedule
    (0.12 over 7,162 steps): true at full Criteo, Avazu and KDD scale, false on samples and the
    demo."""
    if kind not in RECIPES:
        raise ConfigError(f"unknown searched-model recipe {kind!r}; choose from {list(RECIPES)}")
    if kind != "auto":
        return kind
    warm = max(1, int(0.1 * max(1, train_rows // max(1, batch))))
    return "nasrec" if nasrec_lr / warm <= PAPER_WARMUP_SLOPE else "adam"


def searched_recipe(
    arch: Architecture, schema: Any, lr: float | None = None, kind: str = "nasrec"
) -> Recipe:
    """The searched model's own recipe under the fair protocol.

    "nasrec": NASRec's final Adagrad (§7.3 lr for the architecture's space and dataset, eps 1e-2,
    clip 5) with a linear warm-up over 10% of epoch one. On small data that warm-up is a few dozen
    steps, and Adagrad's first steps then make training depend on the seed (docs/baselines.md).
    "adam": the BARS recipe of deep CTR models (Adam 1e-3, embedding L2 1e-5), the baselines' own.
    """
    if kind == "adam":
        return ADAM_RECIPE if lr is None else dataclasses.replace(ADAM_RECIPE, lr=float(lr))
    if kind != "nasrec":
        raise ConfigError(f"searched-model recipe {kind!r}: give 'nasrec' or 'adam' "
                          f"('auto' is resolved by resolve_recipe)")
    base = final_settings(arch, schema)[0]
    return Recipe("adagrad", float(lr if lr is not None else base), warmup=0.1, clip=5.0,
                  source="NASRec final training (method.md §7.3): Adagrad, lr per space and dataset, clip 5")


def train_arch_protocol(
    arch: Architecture,
    cache: Any,
    *,
    out_dir: str | Path,
    recipe: Recipe,
    protocol: Protocol = Protocol(),
    layernorm: bool | str | None = "arch",
    seed: int = 0,
    test: bool = True,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train `arch` from scratch under the fair protocol (recnas.train._protocol.fit); -> metrics with
    flops, macs, params and embedding_params added. Writes out_dir/arch.json too."""
    from recnas.nn import build_model

    ln = _layernorm(arch, layernorm)
    arch = arch.with_layernorm(ln)
    out = Path(out_dir)
    atomic_write_json(out / "arch.json", arch.to_dict())
    torch.manual_seed(seed)
    model = build_model(arch, cache.schema, layernorm=ln)
    m = fit(model, cache, recipe=recipe, protocol=protocol, out_dir=out, seed=seed, test=test, device=device,
            settings={"arch": arch.to_dict(), "layernorm": ln, "cap": _cache_cap(cache),
                      "table_sizes": list(cache.schema.table_sizes)},
            progress=progress, desc=f"arch s{seed}")
    if "flops" not in m:
        fc = count(arch, cache.schema)
        m.update(flops=fc.flops, macs=fc.macs, params=fc.params, embedding_params=fc.embedding_params)
        atomic_write_json(out / "metrics.json", m)
    return m


def _layernorm(arch: Architecture, layernorm: bool | str | None) -> bool:
    if layernorm is None or layernorm == "arch":
        return arch.layernorm
    if layernorm == "reference":
        return False  # the reference's final trainer builds without LayerNorm
    if isinstance(layernorm, bool):
        return layernorm
    raise ConfigError(f"layernorm must be 'arch', 'reference', true or false, not {layernorm!r}")


def _cache_cap(cache: Any) -> int | None:
    """The table cap the cache was prepared with (None = full tables)."""
    meta = getattr(cache, "meta", None) or {}
    return (meta.get("options") or {}).get("cap")


def _evaluate_split(
    model: torch.nn.Module, cache: Any, split: str, batch_size: int, device: torch.device
) -> dict[str, Any]:
    loader = _data.make_loader(cache, split, batch_size, shuffle=False, drop_last=False)
    model.eval()
    return evaluate(lambda b: model(b.dense, b.sparse), loader, device=device)


def train_architecture(
    arch: Architecture,
    cache: Any,
    *,
    out_dir: str | Path,
    splits: Sequence[str] = ("train",),
    eval_split: str | None = "val",
    test: bool = False,
    epochs: int = 1,
    lr: float | None = None,
    batch_size: int | None = None,
    layernorm: bool | str | None = "arch",
    seed: int = 0,
    shuffle: bool = False,
    max_steps: int | None = None,
    device: str | torch.device = "cpu",
    eval_batch_size: int = 8192,
    ckpt_every: int = 1000,
    log_every: int = 100,
    full_tables: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train `arch` from scratch on `splits`, evaluate on `eval_split` (and on test once if `test`).

    Writes out_dir/{arch.json, checkpoint.pt, train_metrics.jsonl, metrics.json}; a finished
    out_dir with the same settings is returned as is, an interrupted one resumes.
    """
    from recnas.nn import build_model

    out, device = Path(out_dir), torch.device(device)
    schema, cap = cache.schema, _cache_cap(cache)
    if full_tables and cap is not None:
        raise ConfigError(
            f"full tables asked for, but the cache was prepared with a table cap of {cap}; "
            "prepare a cache without --cap for the final model"
        )
    ln = _layernorm(arch, layernorm)
    arch = arch.with_layernorm(ln)
    lr = TOPK_LR if lr is None else float(lr)
    bs = batch_size or default_batch_size(schema)
    if eval_split is not None and eval_split in splits:
        raise ConfigError(f"eval split {eval_split!r} is also a training split {list(splits)}")
    settings = {
        "arch": arch.to_dict(),
        "splits": list(splits),
        "eval_split": eval_split,
        "test": test,
        "epochs": epochs,
        "lr": lr,
        "batch_size": bs,
        "layernorm": ln,
        "seed": seed,
        "shuffle": shuffle,
        "max_steps": max_steps,
        "cap": cap,
        "table_sizes": list(schema.table_sizes),
    }
    done = out / "metrics.json"
    if done.is_file():
        prev = json.loads(done.read_text())
        if prev.get("settings") == settings:
            return prev
    atomic_write_json(out / "arch.json", arch.to_dict())
    torch.manual_seed(seed)
    model = build_model(arch, schema, layernorm=ln).to(device)
    loader = _data.make_loader(cache, list(splits), bs, shuffle=shuffle, seed=seed, drop_last=True)
    steps = epochs * len(loader) if max_steps is None else min(epochs * len(loader), int(max_steps))
    t0 = time.perf_counter()
    res = train(
        model,
        loader,
        lr=lr,
        steps=steps,
        warmup=0.1,
        clip=5.0,
        seed=seed,
        device=device,
        ckpt_path=out / "checkpoint.pt",
        ckpt_every=ckpt_every,
        metrics_path=out / "train_metrics.jsonl",
        log_every=log_every,
        config={"kind": "standalone", **settings},
        arch=arch,
        progress=progress,
        desc="train",
    )
    metrics = _metrics(arch, schema, settings, res, time.perf_counter() - t0)
    if eval_split is not None:
        metrics[eval_split] = _evaluate_split(model, cache, eval_split, eval_batch_size, device)
    if test:
        metrics["test"] = _evaluate_split(model, cache, "test", eval_batch_size, device)  # once
    main = metrics.get(eval_split) if eval_split is not None else metrics.get("test")
    if main is not None:
        metrics.update(logloss=main["logloss"], auc=main["auc"], evaluated_on=eval_split or "test")
    atomic_write_json(done, metrics)
    return metrics


def _metrics(
    arch: Architecture, schema: Any, settings: dict[str, Any], res: Any, seconds: float
) -> dict[str, Any]:
    fc = count(arch, schema)
    return {
        "settings": settings,
        "flops": fc.flops,
        "macs": fc.macs,
        "params": fc.params,
        "embedding_params": fc.embedding_params,
        "steps": res.step,
        "train_seconds": seconds,
        "samples_per_s": res.samples_per_s,
        "final_train_loss": res.loss,
    }


def retrain_topk(
    archs: Sequence[Architecture],
    cache: Any,
    *,
    topk_dir: str | Path,
    final_dir: str | Path,
    epochs: int = 1,
    lr: float | None = None,
    batch_size: int | None = None,
    final_lr: float | None = None,
    final_batch_size: int | None = None,
    layernorm: bool | str | None = "arch",
    seed: int = 0,
    max_steps: int | None = None,
    device: str | torch.device = "cpu",
    final_cache: Any | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train each candidate on train, pick the best val log loss, retrain on train+val, test once.

    `final_cache`: an uncapped cache of the same data for the final model (full tables, §7.3).
    """
    if not archs:
        raise ConfigError("retrain_topk: no architectures given")
    rows = []
    for i, arch in enumerate(archs):
        m = train_architecture(
            arch,
            cache,
            out_dir=Path(topk_dir) / f"{i:02d}",
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            layernorm=layernorm,
            seed=seed,
            max_steps=max_steps,
            device=device,
            progress=progress,
        )
        rows.append(
            {
                "index": i,
                "val_logloss": m["logloss"],
                "val_auc": m["auc"],
                "flops": m["flops"],
                "params": m["params"],
            }
        )
    best = min(rows, key=lambda r: r["val_logloss"])["index"]
    f_lr, f_bs = final_settings(archs[best], cache.schema)
    final = train_architecture(
        archs[best],
        final_cache or cache,
        out_dir=final_dir,
        splits=("train", "val"),
        full_tables=final_cache is not None,
        eval_split=None,
        test=True,
        epochs=epochs,
        lr=final_lr or f_lr,
        batch_size=final_batch_size or f_bs,
        layernorm=layernorm,
        seed=seed,
        max_steps=max_steps,
        device=device,
        progress=progress,
    )
    summary = {"candidates": rows, "best_index": best, "final": final}
    atomic_write_json(Path(topk_dir) / "summary.json", summary)
    return summary
