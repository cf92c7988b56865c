"""Run reports: pure table functions (tables), matplotlib plots (plots), report.md (render)."""

from recnas.report.render import final_comparison_rows, summary_lines, write_report
from recnas.report.tables import (
    Table,
    final_table,
    score_vs_flops,
    search_progress,
    search_summary,
    topk_table,
)

__all__ = [
    "Table",
    "final_comparison_rows",
    "final_table",
    "score_vs_flops",
    "search_progress",
    "search_summary",
    "summary_lines",
    "topk_table",
    "write_report",
]
