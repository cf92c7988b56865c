"""Run reports: pure table functions (tables), matplotlib plots (plots), report.md (render)."""

from recnas.report.render import SECTIONS_DIR
from recnas.report.render import final_comparison_rows
from recnas.report.render import summary_lines
from recnas.report.render import write_report
from recnas.report.tables import Table
from recnas.report.tables import final_table
from recnas.report.tables import search_progress
from recnas.report.tables import search_summary
from recnas.report.tables import score_vs_flops
from recnas.report.tables import topk_table

__all__ = ["SECTIONS_DIR", "Table", "final_comparison_rows", "final_table", "score_vs_flops",
           "search_progress", "search_summary", "summary_lines", "topk_table", "write_report"]
