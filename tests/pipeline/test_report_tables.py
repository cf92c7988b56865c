"""Report tables are pure functions of the records; the renderer writes report.md and plots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from recnas.report import final_comparison_rows, summary_lines, write_report
from recnas.report import tables as T
from recnas.runs import RunDir, atomic_write_json


@dataclass
class Rec:
    n: int
    state: str
    values: dict = field(default_factory=dict)
    flops: float | None = None
    params: float | None = None
    seconds: float | None = None
    hash: str = ""


RECORDS = [
    Rec(0, "COMPLETE", {"logloss": 0.50}, 1e6, 10, 2.0, "a"),
    Rec(1, "FAIL", {}, None, None, 1.0, "b"),
    Rec(2, "COMPLETE", {"logloss": 0.47}, 3e6, 20, 4.0, "c"),
    Rec(3, "SKIPPED", {}, None, None, None, "c"),
    Rec(4, "COMPLETE", {"logloss": 0.49}, 2e6, 30, 3.0, "d"),
    Rec(5, "COMPLETE", {"logloss": float("nan")}, 2e6, 30, 3.0, "e"),
]


def test_search_summary_counts_and_best() -> None:
    s = T.search_summary(RECORDS)
    assert (s["proposals"], s["scored"], s["failed"], s["skipped"]) == (6, 3, 1, 1)
    assert s["best_logloss"] == 0.47 and s["best_n"] == 2
    assert (
        s["median_logloss"] == 0.49
        and s["seconds_per_candidate"] == 3.0
        and s["total_seconds"] == 9.0
    )


def test_search_progress_is_best_so_far() -> None:
    assert T.search_progress(RECORDS) == [(1, 0.50, 0.50), (2, 0.47, 0.47), (3, 0.49, 0.47)]
    assert T.search_progress([]) == []


def test_score_vs_flops_points() -> None:
    assert T.score_vs_flops(RECORDS) == [(1e6, 0.50, "a"), (3e6, 0.47, "c"), (2e6, 0.49, "d")]


def test_topk_and_final_tables() -> None:
    topk = {
        "winner": 2,
        "candidates": [
            {
                "rank": 1,
                "hash": "h1" * 8,
                "proxy_logloss": 0.47,
                "val_logloss": 0.452,
                "val_auc": 0.7,
                "flops": 2.5e6,
                "params": 1200,
                "train_seconds": 3.0,
            },
            {
                "rank": 2,
                "hash": "h2" * 8,
                "proxy_logloss": 0.48,
                "val_logloss": 0.450,
                "val_auc": 0.71,
                "flops": 1e6,
                "params": 900,
                "train_seconds": 2.0,
            },
        ],
    }
    md = T.topk_table(topk).markdown()
    assert "| 2 (winner) | h2h2h2h2h2h2 | 0.48000 | 0.45000 | 0.7100 | 1M | 900 | 2.0 |" in md
    rows = T.final_rows(
        {
            "searched": {
                "test_logloss": 0.44,
                "test_logloss_std": 0.002,
                "regret": 0.1,
                "seeds": 3,
                "test_auc": 0.8,
                "flops": 1e6,
                "params": 5,
                "train_seconds": 1.0,
            },
            "random": [
                {
                    "name": "random-00",
                    "test_logloss": 0.46,
                    "test_auc": 0.7,
                    "flops": 2e6,
                    "params": 6,
                    "train_seconds": 1.0,
                }
            ],
        }
    )
    assert [r["model"] for r in rows] == ["searched (NASRecNet)", "random architecture (random-00)"]
    md = T.final_table(rows).markdown()
    assert "| searched (NASRecNet) | 3 | 0.44000 ± 0.00200 | 0.10000 | 0.8000 | 1M | 5 | 1.0 |" in md
    assert "| random architecture (random-00) | 1 | 0.46000 | – | 0.7000 | 2M | 6 | 1.0 |" in md


def test_generic_table_from_other_stages_json() -> None:
    t = T.generic_table({"rows": [{"model": "dlrm", "test_logloss": 0.45, "nested": {"x": 1}}]})
    assert (
        t is not None
        and t.headers == ("model", "test_logloss")
        and t.rows == (("dlrm", "0.45000"),)
    )
    t = T.generic_table({"energy_ratio": 2.5, "flops_ratio": 3.0, "detail": [1, 2]})
    assert t is not None and t.rows == (("energy_ratio", "2.50000"), ("flops_ratio", "3.00000"))
    assert T.generic_table([1, 2]) is None


def test_render_report_with_fragments_and_baselines(tmp_path: Path) -> None:
    rd = RunDir(tmp_path / "run").ensure()
    atomic_write_json(
        rd.metrics,
        {
            "searched": {
                "test_logloss": 0.44,
                "test_logloss_std": 0.002,
                "regret": 0.1,
                "seeds": 3,
                "test_auc": 0.8,
                "flops": 1e6,
                "params": 5,
                "train_seconds": 1.0,
            }
        },
    )
    rd.baselines.mkdir()
    atomic_write_json(
        rd.baselines / "compare.json",
        {"rows": [{"model": "dlrm", "test_logloss": 0.45, "test_auc": 0.79}]},
    )
    (rd.root / "report_sections").mkdir()
    (rd.root / "report_sections" / "20-b.md").write_text("## Second fragment\n")
    (rd.root / "report_sections" / "10-a.md").write_text("## First fragment\n")
    path = write_report(rd.root)
    text = path.read_text()
    assert text.index("## First fragment") < text.index("## Second fragment")
    assert "| dlrm | 0.45000 |" in text and "plots/final_comparison.png" in text
    assert (rd.plots / "final_comparison.png").stat().st_size > 1000
    assert [r["model"] for r in final_comparison_rows(rd)] == ["searched (NASRecNet)", "dlrm"]
    lines = summary_lines(rd.root)
    assert (
        len(lines) == 3 and "vs best other (dlrm)" in lines[2] and "better by 0.01000" in lines[2]
    )
    assert json.loads(rd.metrics.read_text())["searched"]["test_logloss"] == 0.44
