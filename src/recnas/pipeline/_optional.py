"""Optional stages owned by other areas, driven from the run directory: PIM co-design and baselines.

Each writes its results under the run directory (pim/, baselines/) and a Markdown fragment in
report_sections/ that the report renders in name order.
"""

from __future__ import annotations

from typing import Any

from recnas.pipeline._context import Context, need


def _scalars(out: Any) -> dict[str, Any]:
    """The scalar entries of a stage's return value (what state.json keeps as its summary)."""
    if not isinstance(out, dict):
        return {}
    return {k: v for k, v in out.items() if isinstance(v, (int, float, str, bool)) or v is None}


def stage_codesign(ctx: Context) -> dict[str, Any]:
    """PIM co-search and its comparison against the accuracy-only winner (pim.md; issue 6)."""
    c = ctx.cfg.codesign
    run = need("recnas.pipeline.codesign", "codesign_run", "codesign")
    out = run(
        ctx.rd.root,
        mode=c.mode,
        objectives=list(c.objectives),
        budgets=dict(c.budgets),
        population=c.population,
        sample=c.sample,
        generations=c.generations,
        children=c.children,
        seed=c.seed,
        device=ctx.device,
        progress=ctx.progress,
        beta=c.beta,
        mp_steps=c.mp_steps,
        chip_factor=c.chip_factor,
        retrain_seeds=c.retrain_seeds,
        retrain_epochs=c.retrain_epochs,
    )
    return _scalars(out)


def stage_baselines(ctx: Context) -> dict[str, Any]:
    """Hand-crafted baselines, each with its own recipe, under the final model's fair protocol and seeds."""
    from recnas.pipeline.stages import final_protocol

    b = ctx.cfg.baselines
    compare = need("recnas.train", "compare_run", "baselines")
    out = compare(
        ctx.rd.root,
        models=list(b.models) if b.models else None,
        preset=b.preset,
        seeds=b.seeds or ctx.cfg.final.seeds,
        protocol=final_protocol(ctx),
        device=ctx.device,
        progress=ctx.progress,
    )
    return _scalars(out)
