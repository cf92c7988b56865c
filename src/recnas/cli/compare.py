"""`recnas compare RUN_DIR`: train baselines on a run's data with the searched model's recipe and add
the comparison table to the run's report (report_sections/50_baselines.md; issue 5).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recnas.runs import RunDir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `recnas compare`."""
    from recnas.nn.baselines._compare import DEFAULT_MODELS
    from recnas.nn.baselines._compare import DEFAULT_PRESET

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
    parser.add_argument("--epochs", type=int, help="default: the run's final.epochs")
    parser.add_argument("--max-steps", type=int, help="default: the run's final.max_steps")
    parser.add_argument("--lr", type=float, help="default: the searched model's final lr")
    parser.add_argument("--batch-size", type=int, help="default: the searched model's final batch")
    parser.add_argument("--seed", type=int, help="default: the run's final.seed")
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
    from recnas.nn.baselines import compare_run

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    out = compare_run(
        args.run,
        models=models,
        preset=args.preset,
        epochs=args.epochs,
        max_steps=args.max_steps,
        lr=args.lr,
        batch_size=args.batch_size,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
    )
    print(Path(out["table"]).read_text())
    report = RunDir(args.run).report
    if report.is_file():  # a finished run: its report now includes the comparison
        from recnas.report import write_report

        print(f"report: {write_report(args.run)}")
    return 0
