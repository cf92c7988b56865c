"""`recnas compare RUN_DIR`: train baselines on a run's data under the fair protocol (each with its own
BARS recipe, N seeds) and add the comparison table to the run's report (report_sections/50_baselines.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recnas.runs import RunDir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `recnas compare`."""
    from recnas.train._compare import DEFAULT_MODELS
    from recnas.train._compare import DEFAULT_PRESET

    parser.add_argument("run", type=Path, help="run directory (holds data.json and metrics.json)")
    parser.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated baselines (default {','.join(DEFAULT_MODELS)})",
    )
    parser.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        help="preset for every model: small (default, fast) or paper",
    )
    parser.add_argument("--seeds", type=int, help="seeds per model (default: the run's baselines.seeds, else 1)")
    parser.add_argument("--max-epochs", type=int, help="protocol epoch cap (default: the run's, else 50)")
    parser.add_argument("--patience", type=int, help="epochs without improvement before stopping (default 2)")
    parser.add_argument("--batch-size", type=int, help="default: the run's protocol batch, else 512 (KDD 1024)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads (default torch's); 1 is fastest for small models on a busy machine",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Train the baselines, write RUN/baselines/*.json and the report fragment, print the table,
    and re-render RUN/report.md when the run has one."""
    from recnas.train import compare_run
    from recnas.train._compare import run_protocol

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    protocol, seeds = run_protocol(args.run, max_epochs=args.max_epochs, patience=args.patience,
                                   batch_size=args.batch_size, seeds=args.seeds)
    out = compare_run(
        args.run,
        models=models,
        preset=args.preset,
        seeds=seeds,
        protocol=protocol,
        device=args.device,
        progress=not args.no_progress,
    )
    print(Path(out["table"]).read_text())
    report = RunDir(args.run).report
    if report.is_file():  # a finished run: its report now includes the comparison
        from recnas.report import write_report

        print(f"report: {write_report(args.run)}")
    return 0
