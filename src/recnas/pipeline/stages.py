"""The pipeline's stages (issue 4.6; method.md §1): data -> supernet -> search -> topk -> final ->
controls (-> codesign -> baselines). Each stage is idempotent: it reuses finished outputs and
resumes interrupted ones (supernet from its checkpoint, search from its journal, each model from
its folder).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.pipeline._context import Context, need
from recnas.pipeline._scoring import ScorerFactory
from recnas.runs import atomic_write_json


@dataclass(frozen=True)
class Stage:
    """A named step; `enabled(cfg)` says whether the config asks for it."""

    name: str
    run: Callable[[Context], dict[str, Any]]
    enabled: Callable[[Any], bool] = lambda cfg: True
    help: str = ""


# --------------------------------------------------------------------------- data


def stage_data(ctx: Context) -> dict[str, Any]:
    """Make or find the data cache and record it in data.json."""
    d = ctx.cfg.data
    cache_dir = Path(d.cache_dir) if d.cache_dir else ctx.rd.root / "data"
    if d.source == "synth":
        synth_cache = need("recnas.data", "synth_cache", "data")
        path = Path(
            synth_cache(
                cache_dir,
                rows=d.synth_rows,
                seed=d.synth_seed,
                fmt=d.format,
                table_cap=d.synth_table_cap,
                protocol=d.protocol,
                cap=d.cap,
                progress=ctx.progress,
            )
        )
    elif d.source == "prepare":
        prepare_dataset = need("recnas.data", "prepare_dataset", "data")
        files = {k: _existing(v, f"data.files.{k}") for k, v in (d.files or {}).items()}
        res = prepare_dataset(
            _existing(d.input, "data.input") if d.input else None,
            cache_dir,
            fmt=d.format,
            profile=_existing(d.profile, "data.profile") if d.profile else None,
            schema=_existing(d.schema, "data.schema") if d.schema else None,
            options=prepare_options(d),
            progress=ctx.progress,
            **({"files": files} if files else {}),
        )
        path = cache_dir
        ctx.log(f"  cache {'reused' if res.reused else 'written'}: {path}")
    else:
        path = _existing(d.input, "data.input")
    ctx._cache = None
    cache = need("recnas.data", "open_cache", "data")(path)
    ctx._cache = cache
    rows = {s: int(cache.num_rows(s)) for s in ("train", "val", "test")}
    ref = {
        "cache": str(path.resolve()),
        "source": d.source,
        "format": d.format,
        "rows": rows,
        "schema": cache.schema.to_dict(),
    }
    atomic_write_json(ctx.rd.data_ref, ref)
    notices = [n for n in [_recipe_notice(ctx.cfg, cache.schema)] if n]
    for n in notices:
        ctx.log(f"notice: {n}")
    summary = {"cache": str(path), **{f"{k}_rows": v for k, v in rows.items()}}
    return {**summary, "notices": notices} if notices else summary


def _recipe_notice(cfg: Any, schema: Any) -> str | None:
    """Say so when a dataset without a recipe of its own gets Criteo's defaults (dataset_key)."""
    known = need("recnas.train", "SUPERNET_DEFAULTS", "data")
    name = (schema.name or "").lower()
    if any(k in name for k in known):
        return None
    s, f = cfg.supernet, cfg.final
    unset = [
        k
        for k, v in {
            "supernet.batch": s.batch,
            "supernet.warmup": s.warmup,
            "final.lr": f.lr,
            "final.batch": f.batch,
        }.items()
        if v is None
    ]
    if not unset:
        return None
    return (
        f"dataset {schema.name!r} has no recipe of its own: {', '.join(unset)} follow "
        f"Criteo's defaults (set them in the config to choose)"
    )


# PrepareOptions field -> the data.* key that sets it (where the names differ)
_PREPARE_KEYS = {"seed": "split_seed"}


def prepare_options(d: Any) -> Any:
    """`recnas prepare`'s PrepareOptions from a run config's data section (every option)."""
    cls = need("recnas.data", "PrepareOptions", "data")
    kwargs = {}
    for f in dataclasses.fields(cls):
        value = getattr(d, _PREPARE_KEYS.get(f.name, f.name))
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def _existing(p: str | None, key: str) -> Path:
    if not p or not Path(p).exists():
        raise RecnasError(
            f"{key}: {p!r} does not exist (a relative path in a config file is read from the "
            f"file's folder, unless it sets relative_to: cwd)"
        )
    return Path(p).resolve()


# --------------------------------------------------------------------------- supernet


def stage_supernet(ctx: Context) -> dict[str, Any]:
    """Train the supernet (resumes from supernet.pt if a run was interrupted)."""
    import torch

    Supernet = need("recnas.nn", "Supernet", "supernet")
    train_supernet = need("recnas.train", "train_supernet", "supernet")
    s, cache = ctx.cfg.supernet, ctx.cache()
    torch.manual_seed(s.seed)  # the initial weights; resume overwrites them from the checkpoint
    net = Supernet(cache.schema, ctx.space(), layernorm=s.layernorm).to(ctx.device)
    res = train_supernet(
        net,
        cache,
        space=ctx.space(),
        strategy=s.strategy,
        epochs=s.epochs,
        max_steps=s.max_steps,
        batch_size=s.batch,
        lr=s.lr,
        optimizer=s.optimizer,
        warmup_slope=s.warmup_slope,
        full_path_steps=s.warmup,
        coin=s.coin,
        seed=s.seed,
        device=ctx.device,
        ckpt_path=ctx.rd.supernet,
        ckpt_every=s.ckpt_every,
        metrics_path=ctx.rd.supernet_metrics,
        log_every=max(1, min(100, (s.max_steps or 1000) // 20)),
        progress=ctx.progress,
    )
    # nan when a finished supernet trained no step now: state.json stays valid JSON with null
    loss = res.loss if math.isfinite(res.loss) else None
    return {"steps": res.step, "samples_per_s": round(res.samples_per_s, 1), "final_loss": loss}


# --------------------------------------------------------------------------- search


def _searcher(ctx: Context, genome: Any) -> Any:
    s = ctx.cfg.search
    if s.algo == "random":
        return need("recnas.search", "RandomSearch", "search")(genome)
    evo = need("recnas.search", "RegularizedEvolution", "search")
    return evo(
        genome,
        population=s.population,
        sample=s.sample,
        generations=s.generations,
        children=s.children,
    )


def stage_search(ctx: Context) -> dict[str, Any]:
    """Score candidates through the supernet; every one lands in journal.jsonl as it finishes."""
    s = ctx.cfg.search
    Genome = need("recnas.search", "Genome", "search")
    Journal = need("recnas.search", "Journal", "search")
    run_search = need("recnas.search", "run_search", "search")
    searcher = _searcher(ctx, Genome.for_space(ctx.space()))
    budget = s.budget if s.budget is not None else searcher.budget
    factory = ScorerFactory(
        supernet=str(ctx.rd.supernet),
        cache=str(ctx.cache_path()),
        finetune_steps=s.finetune_steps,
        lr=s.finetune_lr,
        batch_size=s.finetune_batch or ctx.cfg.supernet.batch,
        val_rows=s.val_rows,
        seed=s.seed,
        device=ctx.device,
        threads=ctx.cfg.threads,
        finetune=s.finetune,
        path_lr=s.path_lr,
    )
    settings = need("recnas.search", "score_settings", "search")(
        factory.supernet,
        factory.cache,
        finetune_steps=factory.finetune_steps,
        lr=factory.lr,
        batch_size=factory.batch_size,
        val_rows=factory.val_rows,
        warmup=0.1,  # CandidateScorer's share of the fine-tune steps; a resume must match it
        finetune=factory.finetune,
        path_lr=factory.path_lr,
    )
    common = dict(
        searcher=searcher,
        journal=Journal(ctx.rd.journal),
        budget=budget,
        seed=s.seed,
        progress=ctx.progress,
        settings=settings,
    )
    if s.workers == 1:
        res = run_search(score_fn=factory(), **common)
    else:
        res = run_search(make_scorer=factory, workers=s.workers, **common)
    losses = [r.values["logloss"] for r in res.records if r.state == "COMPLETE"]
    if not losses:
        raise RecnasError(
            f"search scored no candidate successfully; see the errors in {ctx.rd.journal}"
        )
    return {
        "proposals": len(res.records),
        **{k.lower(): v for k, v in res.counts.items()},
        "rescored": res.rescored,
        "best_proxy_logloss": min(losses),
    }


# --------------------------------------------------------------------------- top-k, final, controls


def _records(ctx: Context) -> list[Any]:
    Journal = need("recnas.search", "Journal", "search")
    return Journal(ctx.rd.journal).records()


def stage_topk(ctx: Context) -> dict[str, Any]:
    """Export the top k, train each from scratch, select the best on val (method.md §7)."""
    f = ctx.cfg.final
    export_best = need("recnas.search", "export_best", "topk")
    train_architecture = need("recnas.train", "train_architecture", "topk")
    Architecture = need("recnas.space", "Architecture", "topk")
    export_best(ctx.rd.best, _records(ctx), f.top_k)
    best = json.loads(ctx.rd.best.read_text())["architectures"]
    rows = []
    for i, entry in enumerate(best, 1):
        ctx.log(
            f"  top-k {i}/{len(best)}: {entry['hash'][:12]} "
            f"(proxy {entry['values']['logloss']:.5f})"
        )
        arch = Architecture.from_dict(entry["arch"])
        out_dir = ctx.rd.topk / f"{i:02d}-{entry['hash'][:12]}"
        if f.protocol == "fair":  # from scratch, best epoch on val: the final model's protocol
            m = _train_fair(ctx, arch, out_dir, seed=f.seed, test=False)
        else:
            m = train_architecture(
                arch,
                ctx.cache(),
                out_dir=out_dir,
                splits=("train",),
                eval_split="val",
                epochs=f.topk_epochs,
                lr=f.topk_lr,
                batch_size=f.topk_batch or ctx.cfg.supernet.batch,
                layernorm=ctx.layernorm_for_training(),
                seed=f.seed,
                max_steps=f.max_steps,
                device=ctx.device,
                progress=ctx.progress,
            )
        rows.append(
            {
                "rank": i,
                "hash": entry["hash"],
                "proxy_logloss": entry["values"]["logloss"],
                "val_logloss": m["logloss"],
                "val_auc": m["auc"],
                "flops": m["flops"],
                "params": m["params"],
                "train_seconds": m["train_seconds"],
                "arch": entry["arch"],
            }
        )
    winner = min(rows, key=lambda r: (r["val_logloss"], r["rank"]))
    atomic_write_json(ctx.rd.topk / "summary.json", {"candidates": rows, "winner": winner["rank"]})
    return {
        "trained": len(rows),
        "winner_rank": winner["rank"],
        "winner_val_logloss": winner["val_logloss"],
    }


def _final_recipe(ctx: Context, arch: Any) -> tuple[float, int]:
    f = ctx.cfg.final
    lr, batch = need("recnas.train", "final_settings", "final")(arch, ctx.cache().schema)
    return (f.lr if f.lr is not None else lr), (f.batch if f.batch is not None else batch)


def _train_final(
    ctx: Context, arch: Any, out_dir: Path, recipe: tuple[float, int]
) -> dict[str, Any]:
    f = ctx.cfg.final
    train_architecture = need("recnas.train", "train_architecture", "final")
    return train_architecture(
        arch,
        ctx.cache(),
        out_dir=out_dir,
        splits=("train", "val"),
        eval_split=None,
        test=True,
        epochs=f.epochs,
        lr=recipe[0],
        batch_size=recipe[1],
        layernorm=ctx.layernorm_for_training(),
        seed=f.seed,
        max_steps=f.max_steps,
        device=ctx.device,
        progress=ctx.progress,
    )


def final_protocol(ctx: Context) -> Any:
    """The fair protocol of this run: the searched model, the controls and every baseline share it."""
    f = ctx.cfg.final
    Protocol = need("recnas.train", "Protocol", "final")
    batch = f.batch or need("recnas.train", "default_batch_size", "final")(ctx.cache().schema)
    return Protocol(max_epochs=f.max_epochs, patience=f.patience, batch_size=batch)


def _train_fair(ctx: Context, arch: Any, out_dir: Path, *, seed: int, test: bool = True) -> dict[str, Any]:
    """`arch` from scratch under the fair protocol with the searched model's recipe (final.recipe)."""
    f, cache = ctx.cfg.final, ctx.cache()
    proto = final_protocol(ctx)
    nasrec_lr = f.lr or need("recnas.train", "final_settings", "final")(arch, cache.schema)[0]
    kind = need("recnas.train", "resolve_recipe", "final")(
        f.recipe, nasrec_lr, cache.num_rows("train"), proto.batch_size)
    recipe = need("recnas.train", "searched_recipe", "final")(arch, cache.schema, f.lr, kind)
    return need("recnas.train", "train_arch_protocol", "final")(
        arch,
        cache,
        out_dir=out_dir,
        recipe=recipe,
        protocol=proto,
        layernorm=ctx.layernorm_for_training(),
        seed=seed,
        test=test,
        device=ctx.device,
        progress=ctx.progress,
    )


def _fair_seeds(ctx: Context, arch: Any, out_dir: Path, first: Path | None = None) -> dict[str, Any]:
    """`arch` trained with final.seeds seeds (out_dir/seed-N); the summary row (mean, std, SE, regret).

    `first`: the folder where the first seed already trained without its test (the top-k winner): it
    is tested there instead of trained again."""
    f = ctx.cfg.final
    dirs = [out_dir / f"seed-{f.seed + k}" for k in range(f.seeds)]
    if first is not None:
        dirs[0] = first
    runs = [_train_fair(ctx, arch, d, seed=f.seed + k) for k, d in enumerate(dirs)]
    row = need("recnas.train", "summarize_seeds", "final")(runs)
    recipe = runs[0]["settings"]["recipe"]
    return {
        **row,
        "flops": runs[0]["flops"],
        "params": runs[0]["params"],
        "lr": recipe["lr"],
        "batch": runs[0]["settings"]["protocol"]["batch_size"],
        "protocol": runs[0]["settings"]["protocol"],
        "recipe_source": recipe["source"],
    }


def winner_arch(ctx: Context) -> Any:
    """The architecture that won the top-k selection."""
    Architecture = need("recnas.space", "Architecture", "final")
    doc = json.loads((ctx.rd.topk / "summary.json").read_text())
    row = next(r for r in doc["candidates"] if r["rank"] == doc["winner"])
    return Architecture.from_dict(row["arch"])


def stage_final(ctx: Context) -> dict[str, Any]:
    """Train the winner from scratch and test it once per seed (fair protocol; nasrec: on train+val)."""
    arch = winner_arch(ctx)
    if ctx.cfg.final.protocol == "fair":
        doc = json.loads((ctx.rd.topk / "summary.json").read_text())
        won = next(r for r in doc["candidates"] if r["rank"] == doc["winner"])
        row = _fair_seeds(ctx, arch, ctx.rd.final, first=ctx.rd.topk / f"{won['rank']:02d}-{won['hash'][:12]}")
        atomic_write_json(ctx.rd.metrics, {"searched": {"arch": arch.to_dict(), **row}})
        return {k: row[k] for k in ("test_logloss", "test_logloss_std", "test_auc", "regret", "seeds")}
    recipe = _final_recipe(ctx, arch)
    m = _train_final(ctx, arch, ctx.rd.final, recipe)
    test = m["test"]
    doc = {
        "searched": {
            "arch": arch.to_dict(),
            "test_logloss": test["logloss"],
            "test_auc": test["auc"],
            "flops": m["flops"],
            "params": m["params"],
            "train_seconds": m["train_seconds"],
            "lr": recipe[0],
            "batch": recipe[1],
        }
    }
    atomic_write_json(ctx.rd.metrics, doc)
    return {"test_logloss": test["logloss"], "test_auc": test["auc"]}


def stage_controls(ctx: Context) -> dict[str, Any]:
    """Random architectures of the same space trained with the winner's recipe (controls)."""
    sample_arch = need("recnas.space", "sample_arch", "controls")
    f = ctx.cfg.final
    recipe = _final_recipe(ctx, winner_arch(ctx))
    rows = []
    for i in range(f.random_controls):
        rng = random.Random(f"recnas-control:{f.seed}:{i}")
        arch = sample_arch(ctx.space(), rng, layernorm=bool(ctx.cfg.supernet.layernorm))
        ctx.log(f"  random control {i + 1}/{f.random_controls}")
        out_dir = ctx.rd.final / "controls" / f"random-{i:02d}"
        if f.protocol == "fair":
            rows.append({"name": f"random-{i:02d}", "arch": arch.to_dict(), **_fair_seeds(ctx, arch, out_dir)})
            continue
        m = _train_final(ctx, arch, out_dir, recipe)
        rows.append(
            {
                "name": f"random-{i:02d}",
                "arch": arch.to_dict(),
                "test_logloss": m["test"]["logloss"],
                "test_auc": m["test"]["auc"],
                "flops": m["flops"],
                "params": m["params"],
                "train_seconds": m["train_seconds"],
            }
        )
    doc = json.loads(ctx.rd.metrics.read_text())
    doc["random"] = rows
    atomic_write_json(ctx.rd.metrics, doc)
    best = min(r["test_logloss"] for r in rows)
    return {
        "controls": len(rows),
        "best_random_test_logloss": best,
        "searched_minus_best_random": doc["searched"]["test_logloss"] - best,
    }
