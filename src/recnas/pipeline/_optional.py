"""Optional stages owned by other areas, driven from the run directory: PIM co-design and baselines.

Each writes its results under the run directory (pim/, baselines/) and may add a Markdown fragment to
report_sections/ that the report renders in name order.
"""

from __future__ import annotations

from typing import Any

from recnas.pipeline._context import Context
from recnas.pipeline._context import need


def stage_codesign(ctx: Context) -> dict[str, Any]:
    """PIM co-search and its comparison against the accuracy-only winner (pim.md; issue 6)."""
    c = ctx.cfg.codesign
    run = need("recnas.hardware.pim", "codesign_run", "codesign")
    out = run(ctx.rd.root, mode=c.mode, objectives=list(c.objectives), budgets=dict(c.budgets),
              population=c.population, sample=c.sample, generations=c.generations,
              children=c.children, seed=c.seed, device=ctx.device, progress=ctx.progress)
    return dict(out or {})


def stage_baselines(ctx: Context) -> dict[str, Any]:
    """Hand-crafted baselines trained on the run's data, in the comparison table (issue 5)."""
    b = ctx.cfg.baselines
    compare = need("recnas.nn.baselines", "compare_run", "baselines")
    out = compare(ctx.rd.root, models=list(b.models), epochs=b.epochs, max_steps=b.max_steps,
                  device=ctx.device, progress=ctx.progress)
    return dict(out or {})
