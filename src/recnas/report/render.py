"""report.md and plots/ of a run directory, rendered from what the stages wrote (issue 4.6).

Sections other areas own are appended from the run directory: every JSON file under pim/ and
baselines/ as a table, and every Markdown fragment report_sections/*.md verbatim, in name order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from recnas.report import tables as T
from recnas.runs import RunDir, atomic_write_text



def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError:
        return None


def load_records(rd: RunDir) -> list[Any]:
    """The search journal's records (empty when the search has not run)."""
    if not rd.journal.exists():
        return []
    from recnas.search import Journal

    return Journal(rd.journal).records()


def _state(rd: RunDir) -> dict[str, Any]:
    doc = _json(rd.state) or {}
    return doc.get("stages", {})


def final_comparison_rows(rd: RunDir) -> list[dict[str, Any]]:
    """Searched model, random controls and baseline rows (baselines/*.json with test_logloss)."""
    rows = T.final_rows(_json(rd.metrics) or {})
    for p in sorted(rd.baselines.glob("*.json")) if rd.baselines.is_dir() else []:
        doc = _json(p)
        items = doc.get("rows") if isinstance(doc, dict) else doc
        for r in items if isinstance(items, list) else []:
            name = (
                r.get("title") or r.get("model") or r.get("name") if isinstance(r, dict) else None
            )
            if (
                name is None
                or r.get("name") == "searched"
                or str(name).startswith("searched")
                or not isinstance(r.get("test_logloss"), (int, float))
            ):
                continue
            rows.append(
                {
                    "model": str(name),
                    "test_logloss": r["test_logloss"],
                    "test_logloss_std": r.get("test_logloss_std"),
                    "regret": r.get("regret"),
                    "seeds": r.get("seeds"),
                    "test_auc": r.get("test_auc"),
                    "flops": r.get("flops"),
                    "params": r.get("params"),
                    "train_seconds": r.get("train_seconds", r.get("seconds")),
                }
            )
    return rows


def write_report(root: str | Path) -> Path:
    """Render report.md and the PNG plots of the run in `root`; returns the report's path."""
    rd = RunDir(root)
    rd.plots.mkdir(parents=True, exist_ok=True)
    records = load_records(rd)
    parts = [_header(rd)]
    parts += _search_section(rd, records)
    parts += _topk_section(rd)
    parts += _final_section(rd)
    parts += _extra_json_sections(rd)
    parts += _fragments(rd)
    stages = _state(rd)
    if stages:
        parts += ["## Stages", "", T.stage_table(stages).markdown(), ""]
    atomic_write_text(rd.report, "\n".join(parts).rstrip() + "\n")
    return rd.report


def _header(rd: RunDir) -> str:
    cfg = yaml.safe_load(rd.config.read_text()) if rd.config.is_file() else {}
    data = _json(rd.data_ref) or {}
    name = cfg.get("name", rd.root.name)
    lines = [f"# recnas run report: {name}", ""]
    if cfg:
        sn, se = cfg.get("supernet", {}), cfg.get("search", {})
        lines.append(
            f"Space **{sn.get('space')}** ({sn.get('num_blocks')} blocks), search "
            f"**{se.get('algo')}**, seed {cfg.get('seed')}. Resolved config: `config.yaml`."
        )
    if data:
        rows = data.get("rows", {})
        lines.append(
            f"Data: {data.get('source')} ({data.get('format')}), rows train/val/test = "
            f"{rows.get('train')}/{rows.get('val')}/{rows.get('test')}; "
            f"cache `{data.get('cache')}`."
        )
    notices = _notices(rd)
    if notices:
        lines += ["", "Notices (settings this run ignores or fills in):", ""]
        lines += [f"- {n}" for n in notices]
    return "\n".join(lines) + "\n"


def _notices(rd: RunDir) -> list[str]:
    """The run's notices: atop config.yaml (load time) and in the stages' summaries (run time)."""
    notes = []
    if rd.config.is_file():
        prefix = "# notice: "
        lines = rd.config.read_text().splitlines()
        notes += [x[len(prefix) :] for x in lines if x.startswith(prefix)]
    for stage in _state(rd).values():
        notes += list((stage.get("summary") or {}).get("notices") or [])
    return notes


def _search_section(rd: RunDir, records: list[Any]) -> list[str]:
    if not records:
        return []
    from recnas.report.plots import plot_score_vs_flops, plot_search_progress

    summary = T.search_summary(records)
    best = _json(rd.best) or {}
    top_hashes = [a["hash"] for a in best.get("architectures", [])]
    plot_search_progress(T.search_progress(records), rd.plots / "search_progress.png")
    plot_score_vs_flops(
        T.score_vs_flops(records), rd.plots / "score_vs_flops.png", highlight=top_hashes
    )
    return [
        "## Search",
        "",
        T.search_table(summary).markdown(),
        "",
        "![search progress](plots/search_progress.png)",
        "",
        "![score against FLOPs](plots/score_vs_flops.png)",
        "",
    ]


def _topk_section(rd: RunDir) -> list[str]:
    doc = _json(rd.topk / "summary.json")
    if not doc:
        return []
    return [
        "## Top-k retrained from scratch (selection on val)",
        "",
        T.topk_table(doc).markdown(),
        "",
    ]


def _final_section(rd: RunDir) -> list[str]:
    rows = final_comparison_rows(rd)
    if not rows:
        return []
    from recnas.report.plots import plot_final_comparison

    plot_final_comparison(rows, rd.plots / "final_comparison.png")
    fair = "protocol" in ((_json(rd.metrics) or {}).get("searched") or {})
    how = ("fair protocol: trained on train, best epoch on val, tested once per seed" if fair
           else "trained on train+val, tested once")
    return [
        f"## Final models ({how})",
        "",
        T.final_table(rows).markdown(),
        "",
        "![final comparison](plots/final_comparison.png)",
        "",
    ]


def _extra_json_sections(rd: RunDir) -> list[str]:
    """JSON under pim/ and baselines/ as tables, for a folder whose owner wrote no fragment."""
    out: list[str] = []
    fragments = [p.stem for p in rd.report_sections.glob("*.md")]
    for title, folder in (("PIM co-design", rd.pim), ("Baselines", rd.baselines)):
        if any(folder.name in f for f in fragments):
            continue  # its owner's fragment is the section
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        tables = [(p, T.generic_table(_json(p))) for p in files]
        tables = [(p, t) for p, t in tables if t is not None and t.rows]
        if not tables:
            continue
        out += [f"## {title}", ""]
        for p, t in tables:
            out += [f"`{p.relative_to(rd.root)}`", "", t.markdown(), ""]
    return out


def _fragments(rd: RunDir) -> list[str]:
    folder = rd.report_sections
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    return [p.read_text().rstrip() + "\n" for p in files]


def summary_lines(root: str | Path) -> list[str]:
    """Three lines for the terminal: search, the searched model's test, the comparison."""
    rd = RunDir(root)
    s = T.search_summary(load_records(rd))
    m = _json(rd.metrics) or {}
    sr = m.get("searched", {})
    lines = [
        f"search: {s['scored']} candidates scored, best proxy log loss {T.fmt(s['best_logloss'])} "
        f"({T.fmt(s['seconds_per_candidate'], 2)} s/candidate)"
    ]
    lines.append(
        f"searched model: test log loss {T.fmt(sr.get('test_logloss'))}, AUC "
        f"{T.fmt(sr.get('test_auc'), 4)}, {T.si(sr.get('flops'))} FLOPs/sample, "
        f"{T.si(sr.get('params'))} params"
    )
    others = [r for r in final_comparison_rows(rd) if not r["model"].startswith("searched")]
    if others and sr.get("test_logloss") is not None:
        best = min(others, key=lambda r: r["test_logloss"])
        delta = sr["test_logloss"] - best["test_logloss"]
        lines.append(
            f"vs best other ({best['model']}): test log loss {T.fmt(best['test_logloss'])}, "
            f"searched {'better' if delta < 0 else 'worse'} by {abs(delta):.5f}"
        )
    else:
        lines.append("no comparison models were trained (final.random_controls: 0, baselines off)")
    return lines
