"""`recnas run`: the whole pipeline in one run directory, resumable stage by stage (issue 4.6).

The resolved config is saved as config.yaml; a later run on the same directory must resolve to the
same config (keys that do not change results, such as device or workers, may differ) unless forced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recnas.config import RunConfig, config_changes, dump_config, to_dict
from recnas.errors import ConfigError
from recnas.pipeline._context import Context, _stderr
from recnas.pipeline._optional import stage_baselines, stage_codesign
from recnas.pipeline.stages import (
    Stage,
    stage_controls,
    stage_data,
    stage_final,
    stage_search,
    stage_supernet,
    stage_topk,
)
from recnas.pipeline.state import PipelineState
from recnas.runs import RunDir, atomic_write_text

STAGES: tuple[Stage, ...] = (
    Stage("data", stage_data, help="synthesize, prepare or open the data cache"),
    Stage("supernet", stage_supernet, help="train the weight-sharing supernet"),
    Stage("search", stage_search, help="score candidates through the supernet"),
    Stage("topk", stage_topk, help="train the top k from scratch, select on val"),
    Stage("final", stage_final, help="test the winner per seed (nasrec: retrain on train+val)"),
    Stage(
        "controls",
        stage_controls,
        enabled=lambda c: c.final.random_controls > 0,
        help="random architectures trained with the winner's recipe",
    ),
    Stage(
        "codesign",
        stage_codesign,
        enabled=lambda c: c.codesign.enabled,
        help="PIM hardware co-design",
    ),
    Stage(
        "baselines",
        stage_baselines,
        enabled=lambda c: c.baselines.enabled,
        help="hand-crafted baselines on the same data",
    ),
)

# the first stage whose result depends on each config section (--force redoes it and later ones)
FIRST_STAGE = {
    "data": "data",
    "supernet": "supernet",
    "search": "search",
    "final": "topk",
    "codesign": "codesign",
    "baselines": "baselines",
}


@dataclass
class RunResult:
    """What `run_pipeline` did."""

    root: Path
    report: Path | None
    ran: list[str]
    skipped: list[str]
    seconds: float


def resolve_out(cfg: RunConfig, out: str | Path | None) -> Path:
    """The run directory: --out, else the config's `out`, else runs/<name>."""
    return Path(out) if out is not None else Path(cfg.out) if cfg.out else Path("runs") / cfg.name


def check_resume(
    rd: RunDir,
    cfg: RunConfig,
    *,
    force: bool,
    stages: Sequence[Stage] = STAGES,
    log: Callable[[str], None] = _stderr,
) -> None:
    """Refuse a run directory made with another config; with `force`, redo the stages it changes."""
    if not rd.config.is_file():
        return
    try:
        old = yaml.safe_load(rd.config.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{rd.config}: unreadable saved config ({e})") from None
    changes = config_changes(old, to_dict(cfg))
    if not changes:
        return
    if not force:
        shown = "; ".join(changes[:6]) + (
            f"; and {len(changes) - 6} more" if len(changes) > 6 else ""
        )
        raise ConfigError(
            f"{rd.root} was started with a different config ({shown}); resume with the "
            f"same config, choose another --out, or pass --force to continue with the new "
            f"one (stages it affects are redone)"
        )
    state = PipelineState.load(rd.state)
    order = [s.name for s in stages]
    firsts = [FIRST_STAGE.get(c.split(".")[0], "data") for c in changes]
    start = min(order.index(f) for f in firsts if f in order)
    aside = rd.superseded / time.strftime("%Y%m%d-%H%M%S")
    for name in order[start:]:
        state.reset(name)
        _move_aside(rd, name, aside)
    log(
        f"--force: config changed ({'; '.join(changes)}); redoing stages from {order[start]!r} "
        f"(their old outputs moved to {aside})"
    )


def _artifacts(rd: RunDir, stage: str) -> list[Path]:
    """The outputs a stage resumes from, which a forced config change must not resume."""
    journals = sorted(rd.root.glob(f"{rd.journal.stem}*.jsonl"))
    return {
        "supernet": [rd.supernet, rd.supernet_metrics],
        "search": journals,
        "topk": [rd.best, rd.topk],
        "final": [rd.final, rd.metrics],
    }.get(stage, [])


def _move_aside(rd: RunDir, stage: str, aside: Path) -> None:
    for p in _artifacts(rd, stage):
        if p.exists():
            aside.mkdir(parents=True, exist_ok=True)
            p.rename(aside / p.name)


def run_pipeline(
    cfg: RunConfig,
    *,
    out: str | Path | None = None,
    force: bool = False,
    stop_after: str | None = None,
    stages: Sequence[Stage] = STAGES,
    log: Callable[[str], None] = _stderr,
    report: bool = True,
) -> RunResult:
    """Run (or resume) every enabled stage of `cfg` in its run directory, then write the report.

    `stop_after` ends the run after that stage (as an interruption would).
    """
    t0 = time.perf_counter()
    rd = RunDir(resolve_out(cfg, out)).ensure()
    check_resume(rd, cfg, force=force, stages=stages, log=log)
    for notice in cfg.notices:  # also written atop config.yaml
        log(f"notice: {notice}")
    atomic_write_text(rd.config, dump_config(cfg))
    _set_threads(cfg.threads)
    _check_device(cfg.device)
    ctx = Context(cfg, rd, PipelineState.load(rd.state), log=log)
    active = [s for s in stages if s.enabled(cfg)]
    if stop_after is not None and stop_after not in [s.name for s in active]:
        raise ConfigError(
            f"--stop-after {stop_after!r}: not a stage of this run; "
            f"stages: {', '.join(s.name for s in active)}"
        )
    ran, skipped = [], []
    for i, stage in enumerate(active, 1):
        if ctx.state.is_done(stage.name):
            skipped.append(stage.name)
            log(f"[{i}/{len(active)}] {stage.name}: done earlier, skipped")
        else:
            log(f"[{i}/{len(active)}] {stage.name}: {stage.help}")
            s0 = time.perf_counter()
            summary = stage.run(ctx)
            ctx.state.mark_done(stage.name, seconds=time.perf_counter() - s0, summary=summary)
            ran.append(stage.name)
            log(
                f"[{i}/{len(active)}] {stage.name}: finished in {time.perf_counter() - s0:.1f} s "
                f"{_brief(summary)}"
            )
        if stage.name == stop_after:
            break
    path = None
    if report:
        from recnas.report import write_report

        path = write_report(rd.root)
    return RunResult(rd.root, path, ran, skipped, time.perf_counter() - t0)


def _brief(summary: dict[str, Any]) -> str:
    items = [
        f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in summary.items()
        if isinstance(v, (int, float, str)) and not isinstance(v, bool)
    ]
    return "(" + ", ".join(items[:5]) + ")" if items else ""


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(int(threads))


def _check_device(device: str) -> None:
    """Refuse a CUDA device this machine does not have before any stage starts."""
    if not device.startswith("cuda"):
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        raise ConfigError(
            f"device={device!r}, but this machine has {count} CUDA device(s); use device=cpu "
            f"or device=auto"
        )


__all__ = ["FIRST_STAGE", "STAGES", "RunResult", "check_resume", "resolve_out", "run_pipeline"]
