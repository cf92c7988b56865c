"""Ranking study (method.md §5): does the supernet's score rank subnets like training them does?

K random subnets are trained from scratch (short runs) and scored through the supernet with the
head fine-tune and without it (1 step); Kendall's tau compares each score with the scratch val loss.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
from scipy.stats import kendalltau
from tqdm.auto import tqdm

from recnas.runs import atomic_write_json
from recnas.runs import atomic_write_text
from recnas.space import sample_arch
from recnas.train._scoring import SPEC_VAL_ROWS
from recnas.train._scoring import CandidateScorer
from recnas.train._standalone import train_architecture
from recnas.train._supernet import load_supernet


def ranking_study(
    supernet_path: str | Path,
    cache: Any,
    *,
    out_dir: str | Path,
    k: int = 8,
    train_steps: int | None = None,
    batch_size: int | None = None,
    finetune_steps: int = 500,
    val_rows: int = SPEC_VAL_ROWS,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train `k` random subnets, score them via the supernet, write ranking.json and ranking.md."""
    out = Path(out_dir)
    net, cfg = load_supernet(supernet_path, device=device)
    space = cfg["space_obj"]
    rng = random.Random(seed)
    archs = [sample_arch(space, rng, layernorm=net.layernorm) for _ in range(k)]
    scorer = CandidateScorer(
        net,
        cache,
        finetune_steps=finetune_steps,
        batch_size=batch_size,
        val_rows=val_rows,
        seed=seed,
        device=device,
    )
    rows = []
    for i, arch in enumerate(tqdm(archs, desc="ranking study", disable=not progress)):
        scratch = train_architecture(
            arch,
            cache,
            out_dir=out / f"subnet_{i:02d}",
            max_steps=train_steps,
            batch_size=batch_size,
            seed=seed,
            device=device,
            progress=False,
        )
        tuned = scorer.score(arch)
        raw = scorer.score(arch, finetune_steps=1)
        rows.append(
            {
                "index": i,
                "arch": arch.to_dict(),
                "scratch_val_logloss": scratch["logloss"],
                "scratch_val_auc": scratch["auc"],
                "supernet_logloss": tuned["logloss"],
                "supernet_logloss_1step": raw["logloss"],
                "score_seconds": tuned["seconds"],
            }
        )
    result = {
        "k": k,
        "strategy": cfg.get("strategy"),
        "supernet": str(supernet_path),
        "finetune_steps": finetune_steps,
        "train_steps": train_steps,
        "kendall_tau_finetuned": _tau(rows, "supernet_logloss"),
        "kendall_tau_1step": _tau(rows, "supernet_logloss_1step"),
        "subnets": rows,
    }
    atomic_write_json(out / "ranking.json", result)
    atomic_write_text(out / "ranking.md", _markdown(result))
    return result


def _tau(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    tau, p = kendalltau([r["scratch_val_logloss"] for r in rows], [r[key] for r in rows])
    return {"tau": float(tau), "p_value": float(p)}


def _markdown(r: dict[str, Any]) -> str:
    ft, one = r["kendall_tau_finetuned"], r["kendall_tau_1step"]
    lines = [
        "# Supernet ranking study",
        "",
        f"{r['k']} random subnets; supernet strategy `{r['strategy']}`; trained from scratch for "
        f"{r['train_steps'] or 'one epoch of'} steps.",
        "",
        "| Score | Kendall tau | p-value |",
        "|---|---|---|",
        f"| supernet, head fine-tuned {r['finetune_steps']} steps | {ft['tau']:.3f} "
        f"| {ft['p_value']:.3g} |",
        f"| supernet, 1 step (no fine-tuning) | {one['tau']:.3f} | {one['p_value']:.3g} |",
        "",
        "| Subnet | Scratch val log loss | Supernet (fine-tuned) | Supernet (1 step) |",
        "|---|---|---|---|",
    ]
    for s in r["subnets"]:
        lines.append(
            f"| {s['index']} | {s['scratch_val_logloss']:.5f} | {s['supernet_logloss']:.5f} | "
            f"{s['supernet_logloss_1step']:.5f} |"
        )
    return "\n".join(lines) + "\n"
