"""Ranking study (method.md §5): does the supernet's score rank subnets as training them does?

`k` distinct subnets are drawn from the space and trained from scratch once (the ground truth,
cached line by line in ground_truth.jsonl, so an interrupted study resumes). Each supernet variant
then scores the same subnets exactly as the search does (CandidateScorer with the search stage's
settings); Kendall's tau between score and scratch val log loss gets a bootstrap 95% interval
(subnets resampled with replacement) and scipy's p-value. Scores are cached per variant too.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Mapping

import numpy as np
import torch
from scipy.stats import kendalltau
from tqdm.auto import tqdm

from recnas.errors import RecnasError
from recnas.runs import atomic_write_json
from recnas.runs import atomic_write_text
from recnas.space import Architecture
from recnas.space import SearchSpace
from recnas.space import arch_hash
from recnas.space import sample_arch
from recnas.train._scoring import SPEC_VAL_ROWS
from recnas.train._scoring import CandidateScorer
from recnas.train._protocol import Protocol
from recnas.train._standalone import ADAM_RECIPE
from recnas.train._standalone import final_settings
from recnas.train._standalone import searched_recipe
from recnas.train._standalone import train_arch_protocol
from recnas.train._supernet import load_supernet

# fit(arch, cache, out_dir, seed) -> {"val_logloss": float, "val_auc": float, ...}
FitFn = Callable[[Architecture, Any, Path, int], dict[str, Any]]
BOOTSTRAP = 2000


@dataclass(frozen=True)
class ScoringSettings:
    """The search stage's CandidateScorer settings (the study must score as the search does)."""

    finetune_steps: int = 500
    lr: float = 0.04
    batch_size: int | None = None  # None: the dataset's supernet batch
    val_rows: int | None = SPEC_VAL_ROWS  # None: the whole val split
    seed: int = 0
    warmup: float = 0.1  # share of the fine-tune steps (the spec's 50 of 500)
    finetune: str = "head"  # "head" (the spec's) or "path" (blocks and head, Adam at path_lr)
    path_lr: float = 1e-3


def scratch_fit(
    *,
    max_epochs: int = 3,
    patience: int = 1,
    batch_size: int | None = None,
    recipe: str = "nasrec",
    device: str | torch.device = "cpu",
) -> tuple[FitFn, dict[str, Any]]:
    """(fit, recipe): the fair protocol (early stopping on val) with the searched model's recipe.

    `recipe` is final.recipe's choice (`searched_recipe`): "nasrec" (Adagrad at the §7.3 lr, 10%
    warm-up of the first epoch, clip 5) or "adam" (BARS: Adam 1e-3, embedding L2 1e-5); the batch
    defaults to the §7.3 one. The best epoch's val log loss is the ground truth.
    """
    if recipe not in ("nasrec", "adam"):
        raise RecnasError(f"ground-truth recipe must be 'nasrec' or 'adam', not {recipe!r} "
                          f"(resolve 'auto' first: recnas.train.resolve_recipe)")
    if recipe == "adam":
        desc: dict[str, Any] = {"trainer": "fit", "optimizer": "adam", "lr": ADAM_RECIPE.lr,
                                "embedding_l2": ADAM_RECIPE.embedding_l2}
    else:
        desc = {"trainer": "fit", "optimizer": "adagrad", "lr": "final_settings", "warmup": 0.1,
                "clip": 5.0}
    desc.update({"max_epochs": max_epochs, "patience": patience,
                 "batch_size": batch_size or "final_settings"})

    def run(arch: Architecture, cache: Any, out: Path, seed: int) -> dict[str, Any]:
        proto = Protocol(max_epochs=max_epochs, patience=patience,
                         batch_size=batch_size or final_settings(arch, cache.schema)[1])
        recipe_ = searched_recipe(arch, cache.schema, kind=recipe)
        m = train_arch_protocol(arch, cache, out_dir=out, recipe=recipe_, protocol=proto,
                                seed=seed, test=False, device=device, progress=False)
        return {"val_logloss": m["val"]["logloss"], "val_auc": m["val"]["auc"],
                "best_epoch": m["best_epoch"], "epochs_run": m["epochs_run"], "steps": m["steps"]}

    return run, desc


def draw_subnets(space: SearchSpace, k: int, *, seed: int, layernorm: bool) -> list[Architecture]:
    """`k` architectures from the search's random distribution, distinct as networks."""
    rng, out, seen = random.Random(f"recnas-study:{seed}"), [], set()
    for _ in range(100 * k):
        arch = sample_arch(space, rng, layernorm=layernorm)
        h = arch_hash(arch)
        if h not in seen:
            seen.add(h)
            out.append(arch)
            if len(out) == k:
                return out
    raise RecnasError(f"could not draw {k} distinct subnets from the space")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL cache: a torn last line (killed writer) is dropped, a bad inner one fails."""
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines):
                break
            msg = f"{path}:{i}: not a JSON line; delete the file to start over"
            raise RecnasError(msg) from None
    return rows


def _append_jsonl(path: Path, row: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _cached(
    path: Path, archs: list[Architecture], settings: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """Cached rows by index, checked against the subnets and the settings they were made with."""
    done: dict[int, dict[str, Any]] = {}
    for row in read_jsonl(path):
        i = int(row["index"])
        if i >= len(archs) or row["hash"] != arch_hash(archs[i]) or row["settings"] != settings:
            raise RecnasError(
                f"{path}: row {i} was made for another subnet or other settings "
                f"(k, seed or recipe changed); use a new --out or delete the file"
            )
        done[i] = row
    return done


def ground_truth(
    archs: list[Architecture],
    cache: Any,
    fit: FitFn,
    *,
    out_dir: Path,
    recipe: dict[str, Any],
    seed: int,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train every subnet from scratch with `fit` (cached in ground_truth.jsonl, resumable).

    `shard=(r, n)` trains only subnets i with i % n == r (n processes share one cache file, each
    appending whole lines) and returns the rows known so far.
    """
    path = out_dir / "ground_truth.jsonl"
    done = _cached(path, archs, recipe)
    r, n = shard
    todo = [i for i in range(len(archs)) if i not in done and i % n == r]
    for i in tqdm(todo, desc="from scratch", disable=not progress):
        t0 = time.perf_counter()
        res = fit(archs[i], cache, out_dir / "subnets" / f"{i:03d}", seed)
        row = {
            "index": i,
            "hash": arch_hash(archs[i]),
            "settings": recipe,
            "arch": archs[i].to_dict(),
            **res,
            "seconds": time.perf_counter() - t0,
        }
        _append_jsonl(path, row)
        done[i] = row
    return [done[i] for i in range(len(archs)) if i in done]


def score_variant(
    name: str,
    supernet_path: str | Path,
    archs: list[Architecture],
    cache: Any,
    settings: ScoringSettings,
    *,
    out_dir: Path,
    device: str | torch.device = "cpu",
    one_step: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Score every subnet through one supernet as the search does (and the 1-step ablation)."""
    path = out_dir / f"scores_{name}.jsonl"
    key = {"supernet": str(Path(supernet_path).resolve()), **asdict(settings)}
    done = _cached(path, archs, key)
    todo = [i for i in range(len(archs)) if i not in done]
    if todo:
        net, _ = load_supernet(supernet_path, device=device)
        scorer = CandidateScorer(net, cache, **asdict(settings), device=device)
        for i in tqdm(todo, desc=f"score {name}", disable=not progress):
            tuned = scorer.score(archs[i])
            raw = scorer.score(archs[i], finetune_steps=1) if one_step else {"logloss": None}
            row = {
                "index": i,
                "hash": arch_hash(archs[i]),
                "settings": key,
                "logloss": tuned["logloss"],
                "auc": tuned["auc"],
                "logloss_1step": raw["logloss"],
                "seconds": tuned["seconds"],
            }
            _append_jsonl(path, row)
            done[i] = row
    return [done[i] for i in range(len(archs))]


def tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair of x, y [R, n] (ties handled; nan for a constant row)."""
    dx = np.sign(x[:, :, None] - x[:, None, :])
    dy = np.sign(y[:, :, None] - y[:, None, :])
    den = np.sqrt((dx * dx).sum((1, 2)) * (dy * dy).sum((1, 2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dx * dy).sum((1, 2)) / den


def kendall(
    truth: list[float], score: list[float], *, boot: int = BOOTSTRAP, seed: int = 0
) -> dict[str, float]:
    """Kendall's tau-b with scipy's p-value and a percentile bootstrap 95% interval."""
    x, y = np.asarray(truth, dtype=float), np.asarray(score, dtype=float)
    tau, p = kendalltau(x, y)
    idx = np.random.default_rng(seed).integers(0, len(x), (boot, len(x)))
    taus = tau_b(x[idx], y[idx])
    taus = taus[np.isfinite(taus)]
    lo, hi = np.percentile(taus, [2.5, 97.5]) if taus.size else (math.nan, math.nan)
    return {"tau": float(tau), "p_value": float(p), "ci_low": float(lo), "ci_high": float(hi)}


def _one_step(y: list[float], rows: list[dict[str, Any]], seed: int) -> dict[str, float] | None:
    raw = [r.get("logloss_1step") for r in rows]
    return None if any(v is None for v in raw) else kendall(y, raw, seed=seed)


def ranking_study(
    variants: Mapping[str, str | Path],
    cache: Any,
    fit: FitFn,
    *,
    out_dir: str | Path,
    recipe: dict[str, Any],
    k: int = 30,
    settings: ScoringSettings = ScoringSettings(),
    seed: int = 0,
    device: str | torch.device = "cpu",
    one_step: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Ground truth once, every variant scored on the same subnets; writes ranking.{json,md}.

    `variants` maps a name to a supernet checkpoint; all must share one search space. `recipe`
    describes `fit` (it keys the ground-truth cache).
    """
    if not variants:
        raise RecnasError("ranking study: no supernet given")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    first = next(iter(variants.values()))
    net, cfg = load_supernet(first, device="cpu")
    archs = draw_subnets(cfg["space_obj"], k, seed=seed, layernorm=net.layernorm)
    del net
    truth = ground_truth(
        archs, cache, fit, out_dir=out, recipe=recipe, seed=seed, progress=progress
    )
    y = [r["val_logloss"] for r in truth]
    table = []
    for name, path in variants.items():
        rows = score_variant(
            name, path, archs, cache, settings, out_dir=out, device=device, one_step=one_step,
            progress=progress,
        )
        table.append(
            {
                "variant": name,
                "supernet": str(path),
                "k": k,
                "finetuned": kendall(y, [r["logloss"] for r in rows], seed=seed),
                "one_step": _one_step(y, rows, seed),
                "scores": [r["logloss"] for r in rows],
            }
        )
    result = {
        "k": k,
        "seed": seed,
        "scoring": asdict(settings),
        "recipe": recipe,
        "variants": table,
        "subnets": truth,
    }
    atomic_write_json(out / "ranking.json", result)
    atomic_write_text(out / "ranking.md", _markdown(result))
    return result


def _ci(t: dict[str, float]) -> str:
    return f"[{t['ci_low']:.3f}, {t['ci_high']:.3f}]"


def _markdown(r: dict[str, Any]) -> str:
    s = r["scoring"]
    lines = [
        "# Supernet ranking study",
        "",
        f"{r['k']} distinct random subnets (seed {r['seed']}), each trained from scratch: "
        f"{json.dumps(r['recipe'], sort_keys=True)}. Scored through each supernet as the search "
        f"does: head fine-tune {s['finetune_steps']} steps at lr {s['lr']}, "
        f"val rows {s['val_rows'] or 'all'}. Kendall tau-b against the scratch val log loss; "
        f"95% interval from {BOOTSTRAP} bootstrap resamples of the subnets.",
        "",
        "| Supernet | k | Kendall tau | 95% CI | p-value | tau, 1-step (no fine-tune) |",
        "|---|---|---|---|---|---|",
    ]
    for v in r["variants"]:
        ft, one = v["finetuned"], v["one_step"]
        lines.append(
            f"| {v['variant']} | {v['k']} | {ft['tau']:.3f} | {_ci(ft)} | {ft['p_value']:.2g} | "
            f"{'-' if one is None else format(one['tau'], '.3f')} |"
        )
    names = [v["variant"] for v in r["variants"]]
    lines += [
        "",
        "| Subnet | scratch val log loss | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for i, sub in enumerate(r["subnets"]):
        cells = " | ".join(f"{v['scores'][i]:.5f}" for v in r["variants"])
        lines.append(f"| {i} | {sub['val_logloss']:.5f} | {cells} |")
    return "\n".join(lines) + "\n"
