"""`recnas compare`: every baseline trained on a run's data under the fair protocol, over N seeds, and the
comparison table (mean +- std, standard error, oracle regret, AUC) as report_sections/50_baselines.md.

Protocol (recnas.train._protocol): each model trains on train with its own BARS recipe, keeps its best
epoch on val (plateau decay, early stopping) and is tested once per seed. The searched model's row comes
from the run's metrics.json, written by the pipeline's final stage under the same protocol.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.runs import RunDir
from recnas.runs import atomic_write_json
from recnas.runs import atomic_write_text
from recnas.train._baselines import baseline_recipe
from recnas.train._baselines import train_baseline
from recnas.train._protocol import Protocol

DEFAULT_MODELS = ("lr", "fm", "dnn", "wide_deep", "deepfm", "dcnv2", "xdeepfm", "autoint_plus", "dlrm")
DEFAULT_PRESET = "small"  # sized for a 2-core demo; "paper" for real data
SECTION = "50_baselines.md"
# BARS-CTR Criteo_x4_001 test AUC / log loss (data.md §3.1): another split and recipe, for orientation only
BARS_CRITEO_X4 = {
    "lr": (0.7934, 0.4568),
    "fm": (0.8086, 0.4431),
    "dnn": (0.8140, 0.4380),
    "wide_deep": (0.8142, 0.4377),
    "deepfm": (0.8143, 0.4376),
    "dcnv2": (0.8145, 0.4376),
    "dcnv2_parallel": (0.8145, 0.4376),
    "xdeepfm": (0.8143, 0.4376),
    "autoint_plus": (0.8132, 0.4390),
}


def seed_stats(values: Sequence[float]) -> dict[str, float | int | None]:
    """Mean, sample standard deviation and standard error of the mean over seeds (std/se None for n < 2)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "std": None, "se": None}
    mean = sum(values) / n
    if n < 2:
        return {"n": 1, "mean": mean, "std": None, "se": None}
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return {"n": n, "mean": mean, "std": std, "se": std / math.sqrt(n)}


def summarize_seeds(per_seed: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Row fields from per-seed protocol metrics: test log loss / AUC / regret mean, std, se."""
    ll = seed_stats([m["test"]["logloss"] for m in per_seed])
    auc = seed_stats([m["test"]["auc"] for m in per_seed])
    regrets = [m["regret"] for m in per_seed if m.get("regret") is not None]
    return {
        "seeds": ll["n"],
        "test_logloss": ll["mean"],
        "test_logloss_std": ll["std"],
        "test_logloss_se": ll["se"],
        "test_auc": auc["mean"],
        "test_auc_std": auc["std"],
        "regret": seed_stats(regrets)["mean"] if regrets else None,
        "train_seconds": sum(m["train_seconds"] for m in per_seed) / len(per_seed),
        "epochs": [m["best_epoch"] for m in per_seed],
        "per_seed": [{"seed": m["settings"]["seed"], "test_logloss": m["test"]["logloss"],
                      "test_auc": m["test"]["auc"], "best_epoch": m["best_epoch"]} for m in per_seed],
    }


def significance(a: dict[str, Any], b: dict[str, Any]) -> str:
    """'better' / 'worse' when a's mean test log loss differs from b's by more than 2 combined standard
    errors, else 'tie' ('n/a' without standard errors, i.e. one seed)."""
    if a.get("test_logloss_se") is None or b.get("test_logloss_se") is None:
        return "n/a"
    se = math.hypot(a["test_logloss_se"], b["test_logloss_se"])
    d = a["test_logloss"] - b["test_logloss"]
    return "better" if d < -2 * se else ("worse" if d > 2 * se else "tie")


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise RecnasError(f"{path}: not valid JSON ({e})") from None


def searched_row(rd: RunDir) -> dict[str, Any] | None:
    """The searched model's table row from run/metrics.json (written by the pipeline's final stage)."""
    s = ((_read_json(rd.metrics) or {}).get("searched")) or None
    if not s:
        return None
    keys = ("test_logloss", "test_logloss_std", "test_logloss_se", "test_auc", "test_auc_std", "regret",
            "seeds", "flops", "params", "train_seconds", "per_seed")
    return {"name": "searched", "title": "NASRec searched (this run)", "preset": "-",
            "recipe": s.get("recipe_source", "-"), **{k: s.get(k) for k in keys}}


def _pm(mean: Any, std: Any, spec: str) -> str:
    if mean is None:
        return "n/a"
    return format(mean, spec) + ("" if std is None else " ± " + format(std, spec))


def _fmt(x: Any, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def comparison_table(rows: Sequence[dict[str, Any]], *, bars: bool = False) -> str:
    """Markdown table sorted by mean test log loss: mean ± std, SE, oracle regret, AUC, cost, and the
    searched model's gap to each row with its 2-SE verdict."""
    ref = next((r for r in rows if r["name"] == "searched"), None)
    head = ["Model", "Preset", "Seeds", "Test log loss (mean ± std)", "SE", "Oracle regret",
            "Test AUC (mean ± std)", "MFLOPs/sample", "Params", "Train s/seed", "Searched vs this (2 SE)"]
    if bars:
        head.append("BARS Criteo_x4_001 AUC / log loss (other split)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = sorted(rows, key=lambda r: (r["test_logloss"] is None, r["test_logloss"] or 0.0))
    for r in order:
        verdict = "-"
        if ref is not None and r is not ref and r["test_logloss"] is not None and ref["test_logloss"] is not None:
            verdict = f"{ref['test_logloss'] - r['test_logloss']:+.4f} ({significance(ref, r)})"
        cells = [
            f"**{r['title']}**" if r["name"] == "searched" else r["title"],
            r["preset"],
            str(r.get("seeds") or 1),
            _pm(r["test_logloss"], r.get("test_logloss_std"), ".4f"),
            _fmt(r.get("test_logloss_se"), ".4f"),
            _fmt(r.get("regret"), ".4f"),
            _pm(r.get("test_auc"), r.get("test_auc_std"), ".4f"),
            _fmt(None if r.get("flops") is None else r["flops"] / 1e6, ".3f"),
            _fmt(r.get("params"), ",d"),
            _fmt(r.get("train_seconds"), ".1f"),
            verdict,
        ]
        if bars:
            pub = BARS_CRITEO_X4.get(r["name"])
            cells.append(f"{pub[0]:.4f} / {pub[1]:.4f}" if pub else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_section(rows: Sequence[dict[str, Any]], *, protocol: Protocol, dataset: str,
                   oracle: dict[str, Any] | None, test_rows: int) -> str:
    """The report fragment: heading, protocol sentence, table and notes."""
    bars = "criteo" in dataset.lower()
    mine = next((r.get("recipe") for r in rows if r["name"] == "searched"), None) or "final.recipe"
    notes = [
        f"Each model: its own recipe (docs/baselines.md; the searched model: {mine}), trained on "
        f"train, validated after every epoch (best epoch kept, lr x{protocol.lr_decay} on a plateau, "
        f"stop after {protocol.patience} epochs without improvement, at most {protocol.max_epochs}), "
        f"tested once per seed on {test_rows:,} rows. SE = standard error of the mean over seeds; the last "
        "column is the searched model's mean minus this row's, 'better'/'worse' only beyond 2 combined SE.",
        "FLOPs: 2 per multiply-add, per sample (recnas.hardware.flops convention); params include embeddings.",
    ]
    if oracle:
        notes.append(f"Oracle regret = test log loss minus the Bayes-optimal {oracle['logloss']:.4f} of the "
                     f"generator's hidden model (oracle AUC {oracle['auc']:.4f}; base rate "
                     f"{oracle.get('base_logloss', float('nan')):.4f}).")
    if not any(r["name"] == "searched" for r in rows):
        notes.append("No searched-model row: run/metrics.json has no `searched` entry yet.")
    if bars:
        notes.append("The BARS column is published (data.md §3.1) on another split and recipe: for orientation, "
                     "not comparable.")
    if 0 < test_rows < 20_000:
        notes.append(f"Only {test_rows:,} test rows: differences of a few 1e-3 are within sampling noise of "
                     "the test set itself, which seeds do not capture.")
    return (f"## Hand-crafted baselines ({dataset})\n\n{comparison_table(rows, bars=bars)}\n"
            + "\n".join(f"- {n}" for n in notes) + "\n")


def _run_config(rd: RunDir) -> dict[str, Any]:
    """The run's saved config.yaml as a dict ({} without one)."""
    if not rd.config.is_file():
        return {}
    import yaml

    doc = yaml.safe_load(rd.config.read_text()) or {}
    return doc if isinstance(doc, dict) else {}


def run_protocol(
    run: str | Path,
    *,
    max_epochs: int | None = None,
    patience: int | None = None,
    batch_size: int | None = None,
    seeds: int | None = None,
) -> tuple[Protocol, int]:
    """The protocol and seed count a run used for its final model (metrics.json's `searched.protocol`,
    else config `final:` / `baselines:`); explicit values take precedence, defaults fill the rest."""
    rd = RunDir(run)
    cfg = _run_config(rd)
    final, base = dict(cfg.get("final") or {}), dict(cfg.get("baselines") or {})
    used = dict(((_read_json(rd.metrics) or {}).get("searched") or {}).get("protocol") or {})
    d = Protocol()
    proto = Protocol(
        max_epochs=int(max_epochs or used.get("max_epochs") or final.get("max_epochs") or d.max_epochs),
        patience=int(patience or used.get("patience") or final.get("patience") or d.patience),
        lr_decay=float(used.get("lr_decay") or d.lr_decay),
        batch_size=batch_size or used.get("batch_size") or final.get("batch") or None,
    )
    n = seeds or base.get("seeds") or final.get("seeds") or 1
    return proto, int(n)


def compare_run(
    run: str | Path,
    *,
    models: Sequence[str] | None = None,
    preset: str | None = None,
    seeds: int = 1,
    protocol: Protocol | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train `models` on RUN's data cache under the fair protocol with `seeds` seeds; write the table."""
    from recnas.data import open_cache
    from recnas.nn.baselines import get_baseline

    rd = RunDir(run)
    ref = _read_json(rd.data_ref)
    if ref is None or "cache" not in ref:
        raise RecnasError(f"{rd.data_ref} is missing or names no cache: run the pipeline's data stage "
                          f"in {rd.root} first")
    names = [get_baseline(n).name for n in (models or DEFAULT_MODELS)]  # unknown names fail first
    cache = open_cache(ref["cache"])
    proto = protocol or Protocol()
    searched = searched_row(rd)
    rows = [searched] if searched else []
    for name in names:
        per_seed = [
            train_baseline(name, cache, out_dir=rd.baselines / name / f"seed-{s}", preset=preset or DEFAULT_PRESET,
                           protocol=proto, seed=s, device=device, progress=progress)
            for s in range(seeds)
        ]
        first = per_seed[0]
        row = {"name": name, "title": first["title"], "preset": first["preset"],
               "recipe": baseline_recipe(name).source, "flops": first["flops"], "params": first["params"],
               **summarize_seeds(per_seed)}
        atomic_write_json(rd.baselines / f"{name}.json", row)
        rows.append(row)
    oracle = (cache.meta.get("oracle") or {}).get("test")
    test_rows = int(cache.num_rows("test"))
    dataset = cache.schema.name or "data"
    atomic_write_json(rd.baselines / "comparison.json",
                      {"protocol": proto.__dict__, "seeds": seeds, "oracle": oracle, "rows": rows})
    section = rd.report_sections / SECTION
    atomic_write_text(section, render_section(rows, protocol=proto, dataset=dataset, oracle=oracle,
                                              test_rows=test_rows))
    return {"models": names, "table": str(section), "rows": len(rows)}
