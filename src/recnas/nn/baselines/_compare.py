"""`recnas compare`: baselines trained on a run's data with the searched model's final recipe, and the
comparison table (test log loss, AUC, FLOPs, params, wall time) as report_sections/50_baselines.md.

Protocol: like the pipeline's final stage, each baseline trains from scratch on train+val with the
same trainer, lr, batch, epochs and step cap as the searched model, and is tested once.
"""

from __future__ import annotations

from collections.abc import Sequence
import json
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.nn.baselines._harness import BASELINE_LR
from recnas.nn.baselines._harness import train_baseline
from recnas.nn.baselines._registry import get_baseline
from recnas.runs import RunDir
from recnas.runs import atomic_write_json
from recnas.runs import atomic_write_text

DEFAULT_MODELS = ("lr", "fm", "deepfm", "dcnv2", "dlrm")
DEFAULT_PRESET = (
    "small"  # a demo run must finish its baselines in minutes on 2 cores; "paper" for real data
)
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


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise RecnasError(f"{path}: not valid JSON ({e})") from None


def _final_config(rd: RunDir) -> dict[str, Any]:
    """The run's `final:` section (epochs, max_steps, seed), or {} without a config."""
    if not rd.config.is_file():
        return {}
    import yaml

    doc = yaml.safe_load(rd.config.read_text()) or {}
    return dict(doc.get("final") or {}) if isinstance(doc, dict) else {}


def searched_row(rd: RunDir) -> dict[str, Any] | None:
    """The searched model's table row from run/metrics.json (written by the pipeline's final stage)."""
    doc = _read_json(rd.metrics)
    s = (doc or {}).get("searched")
    if not s:
        return None
    return {
        "name": "searched",
        "title": "NASRec searched (this run)",
        "preset": "-",
        "test_logloss": s.get("test_logloss"),
        "test_auc": s.get("test_auc"),
        "flops": s.get("flops"),
        "params": s.get("params"),
        "seconds": s.get("train_seconds"),
        "lr": s.get("lr"),
        "batch": s.get("batch"),
    }


def baseline_row(name: str, m: dict[str, Any]) -> dict[str, Any]:
    """A table row from a baseline's metrics.json."""
    test = m.get("test") or {}
    return {
        "name": name,
        "title": m.get("title", name),
        "preset": m["settings"]["preset"],
        "test_logloss": test.get("logloss"),
        "test_auc": test.get("auc"),
        "flops": m["flops"],
        "params": m["params"],
        "seconds": m.get("train_seconds"),
        "test_rows": test.get("rows"),
    }


def _fmt(x: Any, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def comparison_table(rows: Sequence[dict[str, Any]], *, bars: bool = False) -> str:
    """Markdown table of the rows, sorted by test log loss, with the gap to the searched model."""
    ref = next((r["test_logloss"] for r in rows if r["name"] == "searched"), None)
    head = [
        "Model",
        "Preset",
        "Test log loss",
        "Test AUC",
        "MFLOPs/sample",
        "Params",
        "Train wall time (s)",
        "Δ log loss vs searched",
    ]
    if bars:
        head.append("BARS Criteo_x4_001 AUC / log loss (other split)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = sorted(rows, key=lambda r: (r["test_logloss"] is None, r["test_logloss"] or 0.0))
    for r in order:
        gap = None if ref is None or r["test_logloss"] is None else r["test_logloss"] - ref
        name = f"**{r['title']}**" if r["name"] == "searched" else r["title"]
        cells = [
            name,
            r["preset"],
            _fmt(r["test_logloss"], ".4f"),
            _fmt(r["test_auc"], ".4f"),
            _fmt(None if r["flops"] is None else r["flops"] / 1e6, ".3f"),
            _fmt(r["params"], ",d"),
            _fmt(r["seconds"], ".1f"),
            "-" if r["name"] == "searched" else _fmt(gap, "+.4f"),
        ]
        if bars:
            pub = BARS_CRITEO_X4.get(r["name"])
            cells.append(f"{pub[0]:.4f} / {pub[1]:.4f}" if pub else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_section(rows: Sequence[dict[str, Any]], *, recipe: dict[str, Any], dataset: str) -> str:
    """The report fragment: heading, protocol sentence, table and notes."""
    bars = "criteo" in dataset.lower()
    note = (
        "FLOPs: 2 per multiply-add, per sample (recnas.hardware.flops convention); params include "
        "embeddings. Train wall time: the training loop only, measured on this machine "
        "(baselines/<name>.json also has wall_seconds, evaluation included)."
    )
    if not any(r["name"] == "searched" for r in rows):
        note += " No searched-model row: run/metrics.json has no `searched` entry yet."
    if bars:
        note += (
            " The BARS column is published (data.md §3.1) on another split and recipe: "
            "for orientation, not comparable."
        )
    cap = "no step cap" if recipe["max_steps"] is None else f"at most {recipe['max_steps']} steps"
    n_test = max((r.get("test_rows") or 0 for r in rows), default=0)
    if 0 < n_test < 20_000:  # sampling noise of log loss / AUC on small test sets
        note += f" Only {n_test:,} test rows: differences of a few 1e-3 are noise."
    return (
        f"## Hand-crafted baselines\n\nSame data cache ({dataset}), split, trainer and recipe as the "
        f"searched model: trained from scratch on train+val (lr {recipe['lr']}, batch "
        f"{recipe['batch_size']}, {recipe['epochs']} epoch(s), {cap}), "
        f"tested once ({n_test:,} rows).\n\n"
        f"{comparison_table(rows, bars=bars)}\n{note}\n"
    )


def _recipe(
    rd: RunDir,
    searched: dict[str, Any] | None,
    *,
    epochs: int | None,
    max_steps: int | None,
    lr: float | None,
    batch_size: int | None,
    seed: int | None,
) -> dict[str, Any]:
    final = _final_config(rd)
    return {
        "lr": lr if lr is not None else (searched or {}).get("lr") or BASELINE_LR,
        "batch_size": batch_size or (searched or {}).get("batch"),
        "epochs": epochs or int(final.get("epochs") or 1),
        "max_steps": max_steps if max_steps is not None else final.get("max_steps"),
        "seed": seed if seed is not None else int(final.get("seed") or 0),
    }


def compare_run(
    run: str | Path,
    *,
    models: Sequence[str] | None = None,
    preset: str | None = None,
    epochs: int | None = None,
    max_steps: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train `models` on RUN's data cache with the searched model's recipe; write the table and JSON."""
    rd = RunDir(run)
    ref = _read_json(rd.data_ref)
    if ref is None or "cache" not in ref:
        raise RecnasError(
            f"{rd.data_ref} is missing or names no cache: run the pipeline's data stage "
            f"in {rd.root} first"
        )
    names = [
        get_baseline(n).name for n in (models or DEFAULT_MODELS)
    ]  # unknown names fail before training
    from recnas.data import open_cache
    from recnas.train import default_batch_size

    cache = open_cache(ref["cache"])
    searched = searched_row(rd)
    recipe = _recipe(
        rd, searched, epochs=epochs, max_steps=max_steps, lr=lr, batch_size=batch_size, seed=seed
    )
    recipe["batch_size"] = recipe["batch_size"] or default_batch_size(cache.schema)
    rows = [searched] if searched else []
    for name in names:
        m = train_baseline(
            name,
            cache,
            out_dir=rd.baselines / name,
            preset=preset or DEFAULT_PRESET,
            splits=("train", "val"),
            eval_split=None,
            test=True,
            device=device,
            progress=progress,
            **recipe,
        )
        atomic_write_json(rd.baselines / f"{name}.json", m)
        rows.append(baseline_row(name, m))
    dataset = cache.schema.name or "data"
    atomic_write_json(rd.baselines / "comparison.json", {"recipe": recipe, "rows": rows})
    section = rd.report_sections / SECTION
    atomic_write_text(section, render_section(rows, recipe=recipe, dataset=dataset))
    return {"models": names, "table": str(section), "rows": len(rows)}
