"""`recnas demo [--out DIR]` (`make demo`): the whole pipeline on synthetic Criteo-schema data.

Sizes come from the shipped `demo` preset (configs/demo.yaml), chosen to finish in <= 10 minutes on
2 CPU cores. The last line printed is `report: PATH`.
"""

from __future__ import annotations

import argparse

from recnas.cli.run import allow_intermixed, execute
from recnas.config import load_config, preset_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--out, --force and optional dotted overrides of the demo preset."""
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides of the demo preset, e.g. search.generations=4",
    )
    parser.add_argument("--out", default="runs/demo", help="run directory (default runs/demo)")
    parser.add_argument(
        "--force", action="store_true", help="reuse --out even if it was made with other settings"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    allow_intermixed(parser)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the demo pipeline and print its summary."""
    overrides = list(args.overrides) + (["progress=false"] if args.no_progress else [])
    cfg = load_config(preset_path("demo"), overrides)
    return execute(cfg, out=args.out, force=args.force, stop_after=None)
