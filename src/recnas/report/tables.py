"""Report tables as pure functions of the run's records (style example 12: compute, then render).

Inputs are plain data: search records (objects with n, state, values, flops, params, seconds, hash),
the top-k summary, and the final metrics dicts, as written by the pipeline stages.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class Table:
    """A titled table: a header row and data rows of already-formatted cells."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        """GitHub-flavoured Markdown."""

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        sep = "|" + "|".join("---" for _ in self.headers) + "|"
        return "\n".join([line(self.headers), sep, *(line(r) for r in self.rows)])


def fmt(v: Any, digits: int = 5) -> str:
    """A cell: floats to `digits` decimals, large counts with SI suffixes, None as a dash."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def si(v: float | None) -> str:
    """1234567 -> '1.23M'."""
    if v is None:
        return "–"
    v = float(v)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def _loss(r: Any) -> float:
    v = (r.values or {}).get("logloss")
    return float(v) if v is not None else math.inf


def completed(records: Sequence[Any]) -> list[Any]:
    """Records scored successfully with a finite log loss, in proposal order."""
    return [r for r in records if r.state == COMPLETE and math.isfinite(_loss(r))]


def search_summary(records: Sequence[Any]) -> dict[str, Any]:
    """Counts by state, the best and median proxy log loss, and time per candidate."""
    done = completed(records)
    secs = [r.seconds for r in done if r.seconds is not None]
    losses = [_loss(r) for r in done]
    best = min(done, key=lambda r: (_loss(r), r.n)) if done else None
    return {
        "proposals": len(records),
        "scored": len(done),
        "failed": sum(r.state == "FAIL" for r in records),
        "skipped": sum(r.state == "SKIPPED" for r in records),
        "best_logloss": _loss(best) if best else None,
        "best_n": best.n if best else None,
        "median_logloss": statistics.median(losses) if losses else None,
        "seconds_per_candidate": statistics.mean(secs) if secs else None,
        "total_seconds": sum(secs) if secs else None,
    }


def search_progress(records: Sequence[Any]) -> list[tuple[int, float, float]]:
    """(k-th scored candidate, its proxy loss, best loss so far) in proposal order."""
    out, best = [], math.inf
    for k, r in enumerate(completed(records), 1):
        best = min(best, _loss(r))
        out.append((k, _loss(r), best))
    return out


def score_vs_flops(records: Sequence[Any]) -> list[tuple[float, float, str]]:
    """(FLOPs per sample, proxy log loss, hash) of every scored candidate with a FLOPs count."""
    return [(float(r.flops), _loss(r), r.hash) for r in completed(records) if r.flops is not None]


def search_table(summary: dict[str, Any]) -> Table:
    """Key figures of the search."""
    rows = [
        ("candidates proposed", fmt(summary["proposals"])),
        ("scored", fmt(summary["scored"])),
        ("failed", fmt(summary["failed"])),
        ("duplicates skipped", fmt(summary["skipped"])),
        ("best proxy log loss (val)", fmt(summary["best_logloss"])),
        ("median proxy log loss", fmt(summary["median_logloss"])),
        ("seconds per candidate", fmt(summary["seconds_per_candidate"], 2)),
        ("scoring time (s)", fmt(summary["total_seconds"], 1)),
    ]
    return Table(("search", "value"), tuple(rows))


def topk_table(summary: dict[str, Any]) -> Table:
    """The top-k candidates retrained from scratch: proxy loss vs trained val loss."""
    rows = []
    for c in summary.get("candidates", []):
        mark = " (winner)" if c["rank"] == summary.get("winner") else ""
        rows.append(
            (
                f"{c['rank']}{mark}",
                c["hash"][:12],
                fmt(c["proxy_logloss"]),
                fmt(c["val_logloss"]),
                fmt(c.get("val_auc"), 4),
                si(c.get("flops")),
                si(c.get("params")),
                fmt(c.get("train_seconds"), 1),
            )
        )
    return Table(
        ("rank", "hash", "proxy log loss", "val log loss", "val AUC", "FLOPs", "params", "train s"),
        tuple(rows),
    )


def final_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """The searched model and each random control as comparable rows (test split)."""
    rows = []
    s = metrics.get("searched")
    if s:
        rows.append({"model": "searched (NASRecNet)", **_pick(s)})
    for r in metrics.get("random", []):
        rows.append({"model": f"random architecture ({r['name']})", **_pick(r)})
    return rows


def _pick(d: dict[str, Any]) -> dict[str, Any]:
    keys = ("test_logloss", "test_logloss_std", "test_auc", "regret", "seeds", "flops", "params", "train_seconds")
    return {k: d.get(k) for k in keys}


def _mean_std(mean: Any, std: Any) -> str:
    """'0.43210 ± 0.00120' over seeds, or the plain figure for one seed."""
    return fmt(mean) if std is None else f"{fmt(mean)} ± {fmt(std)}"


def final_table(rows: Sequence[dict[str, Any]]) -> Table:
    """Test log loss (mean ± std over seeds), oracle regret, AUC, FLOPs and parameters of the final models."""
    return Table(
        ("model", "seeds", "test log loss", "oracle regret", "test AUC", "FLOPs/sample", "params", "train s"),
        tuple(
            (
                r["model"],
                str(r.get("seeds") or 1),
                _mean_std(r["test_logloss"], r.get("test_logloss_std")),
                fmt(r.get("regret")),
                fmt(r["test_auc"], 4),
                si(r["flops"]),
                si(r["params"]),
                fmt(r["train_seconds"], 1),
            )
            for r in rows
        ),
    )


def stage_table(stages: dict[str, dict[str, Any]]) -> Table:
    """Wall time of each finished stage."""
    rows = [(name, fmt(s.get("seconds"), 1)) for name, s in stages.items() if s.get("done")]
    total = sum(s.get("seconds", 0.0) for s in stages.values() if s.get("done"))
    return Table(("stage", "seconds"), tuple(rows + [("total", fmt(total, 1))]))


def generic_table(doc: Any) -> Table | None:
    """A table from JSON written by other stages: a list of flat dicts, or one flat dict."""
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        doc = doc["rows"]
    if isinstance(doc, list) and doc and all(isinstance(r, dict) for r in doc):
        keys = [k for k in doc[0] if all(_scalar(r.get(k)) for r in doc)]
        return Table(tuple(keys), tuple(tuple(_cell(r.get(k)) for k in keys) for r in doc))
    if isinstance(doc, dict):
        items = [(k, _cell(v)) for k, v in doc.items() if _scalar(v)]
        return Table(("key", "value"), tuple(items)) if items else None
    return None


def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _cell(v: Any) -> str:
    if isinstance(v, float) and abs(v) >= 1e4:
        return si(v)
    return fmt(v)
