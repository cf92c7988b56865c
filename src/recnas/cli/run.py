"""`recnas run CONFIG.yaml [KEY=VALUE ...]`: the whole pipeline in one resumable run directory.

Example: `recnas run configs/criteo.yaml search.generations=50 --out runs/criteo`.
"""

from __future__ import annotations

import argparse
import os
import time

from recnas.config import RunConfig, list_presets, load_config, preset_path
from recnas.errors import ConfigError

# Spin-waiting OpenMP workers burn the other core whenever the machine is shared (measured:
# 7x the CPU time for the same supernet steps with 2 threads under load); torch reads it on load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """CONFIG, dotted overrides, --out, --force, --stop-after, --threads, --no-progress."""
    parser.add_argument(
        "config", nargs="?", help="YAML config file, or the name of a shipped preset (see --list)"
    )
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides, e.g. search.generations=50 supernet.max_steps=2000",
    )
    parser.add_argument(
        "--out", help="run directory (default: the config's `out`, else runs/<name>)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="continue a run directory whose saved config differs (redoes the stages "
        "the change affects)",
    )
    parser.add_argument(
        "--stop-after", metavar="STAGE", help="stop after this stage (resume later)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument(
        "--threads", type=int, metavar="N", help="torch CPU threads (sets `threads`)"
    )
    parser.add_argument("--list", action="store_true", help="list the shipped presets and exit")
    allow_intermixed(parser)


def allow_intermixed(parser: argparse.ArgumentParser) -> None:
    """Accept options between the positionals (`CONFIG --out DIR KEY=VALUE`), as users type them."""
    parser.parse_args = parser.parse_intermixed_args  # type: ignore[method-assign]


def run(args: argparse.Namespace) -> int:
    """Load and validate the config, run or resume the pipeline, print the summary."""
    if args.list:
        for p in list_presets():
            print(f"{p.stem:18s} {p}")
        return 0
    if not args.config:
        raise ConfigError("recnas run needs a CONFIG (a YAML file or a preset name; see --list)")
    overrides = list(args.overrides) + (["progress=false"] if args.no_progress else [])
    if args.threads is not None:
        overrides.append(f"threads={args.threads}")  # validated with the config (>= 1)
    cfg = load_config(preset_path(args.config), overrides)
    return execute(cfg, out=args.out, force=args.force, stop_after=args.stop_after)


def execute(cfg: RunConfig, *, out: str | None, force: bool, stop_after: str | None) -> int:
    """Run the pipeline and print the three summary lines, then `report: PATH` last."""
    from recnas.pipeline import run_pipeline
    from recnas.report import summary_lines

    t0 = time.perf_counter()
    res = run_pipeline(cfg, out=out, force=force, stop_after=stop_after)
    done = res.report is not None and stop_after is None
    print(
        f"run: {res.root} ({len(res.ran)} stages run, {len(res.skipped)} reused, "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    if done:
        for line in summary_lines(res.root):
            print(line)
    if res.report is not None:
        print(f"report: {res.report}")
    return 0
