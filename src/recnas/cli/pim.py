"""`recnas pim`: validate the ReRAM cost model, cost an architecture, report a run's co-design
(pim.md).

Thin layer over `recnas.hardware` (cost model, validation) and `recnas.pipeline.codesign` /
`recnas.pipeline.pim_report` (co-search, report).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recnas.errors import ConfigError
from recnas.errors import RecnasError

DATASETS: tuple[str, ...] = ("criteo", "avazu", "kdd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands: validate, cost, search, report."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser(
        "validate", help="check the cost model against ISAAC/ADC numbers and invariants"
    )
    p.add_argument("--json", action="store_true", help="print the checks as one JSON object")
    p = sub.add_parser("cost", help="print the PIM cost breakdown of an architecture JSON")
    p.add_argument("file", type=Path, help="recnas or NASRec architecture JSON")
    p.add_argument(
        "--dataset", choices=DATASETS, default="criteo", help="reference schema (default criteo)"
    )
    p.add_argument(
        "--preset",
        default="fair",
        help="PIM preset: fair, fair16, naive or isaac (default fair)",
    )
    p.add_argument(
        "--genes", type=Path, help="hardware genes JSON (recnas-hw-v1) overriding the preset"
    )
    p.add_argument("--mapping", choices=("auto", "naive"), help="override the preset's mapping")
    p.add_argument("--bits", type=int, choices=(4, 8, 16), help="override the preset's w/a bits")
    p.add_argument("--layers", action="store_true", help="also print every layer")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p = sub.add_parser(
        "search", help="co-search architecture + hardware genes over a trained supernet"
    )
    add_search_arguments(p)
    p = sub.add_parser(
        "report", help="co-design report of a run: ratios, Pareto plots, report section"
    )
    p.add_argument(
        "run_dir", type=Path, help="run directory (best architecture + co-search journal)"
    )
    p.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    p.add_argument(
        "--logloss-tol",
        type=float,
        default=None,
        help="log-loss slack of the pick (default: 2 standard errors on the validation rows)",
    )


def run(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand."""
    if args.action == "validate":
        return _validate(args)
    if args.action == "cost":
        return _cost(args)
    if args.action == "search":
        return run_search_command(args)
    from recnas.pipeline.pim_report import pim_report

    report = pim_report(args.run_dir, logloss_tol=args.logloss_tol)
    if args.json:
        print(json.dumps(report["comparison"], indent=2, default=float))
    else:
        print(report["markdown"])
    return 0


def _validate(args: argparse.Namespace) -> int:
    from recnas.hardware.validate import format_checks
    from recnas.hardware.validate import run_checks

    checks = run_checks()
    failed = [c for c in checks if c.status == "FAIL"]
    if args.json:
        print(
            json.dumps({"checks": [c.to_dict() for c in checks], "failed": len(failed)}, indent=2)
        )
    else:
        print(format_checks(checks))
        counts = {
            s: sum(c.status == s for c in checks)
            for s in ("PASS", "FAIL", "NOT_REPRODUCED", "SKIP")
        }
        print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 1 if failed else 0


def _cost(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from recnas.data.schema import reference_schema
    from recnas.hardware.config import HardwareGenes
    from recnas.hardware.config import preset
    from recnas.hardware.pim import cost
    from recnas.space import load_architecture

    arch = load_architecture(args.file)
    cfg = preset(args.preset)
    if args.mapping:
        cfg = replace(cfg, mapping=args.mapping)
    if args.bits:
        cfg = replace(cfg, w_bits=args.bits, a_bits=args.bits)
    genes = None
    if args.genes:
        try:
            genes = HardwareGenes.from_dict(json.loads(args.genes.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"{args.genes}: cannot read hardware genes ({e})") from None
    c = cost(arch, reference_schema(args.dataset), cfg, genes)
    if args.json:
        print(
            json.dumps(
                c.to_dict() if args.layers else {**c.summary(), "config": c.config.to_dict()},
                indent=2,
            )
        )
        return 0
    print(format_cost(c, layers=args.layers))
    return 0


def format_cost(c: object, *, layers: bool = False) -> str:
    """Human-readable cost breakdown of a `PIMCost`."""
    from recnas.hardware.pim import PIMCost

    assert isinstance(c, PIMCost)
    s = c.summary()
    out = [
        f"energy   {s['energy_pj'] / 1e3:12.2f} nJ/sample (leakage and embeddings included; "
        f"tables {s['embedding_mb']:.1f} MB in {s['embedding_placement']})"
    ]
    out += [
        f"  {k:10} {v / 1e3:12.2f} nJ  {v / max(s['energy_pj'], 1e-12):6.1%}"
        for k, v in c.energy.items()
    ]
    out += [
        f"latency  {s['latency_crit_ns'] / 1e3:12.2f} us critical path, "
        f"{s['latency_seq_ns'] / 1e3:.2f} us sequential",
        f"through. {s['throughput']:12.1f} samples/s (pipelined)",
        f"area     {s['area_mm2']:12.4f} mm2, {s['n_xbar']} crossbars, utilisation {s['util']:.1%}",
        f"leakage  {s['static_mw']:12.3f} mW; runtime-write lifetime {s['lifetime_years']:.3g} "
        f"years ({'ok' if s['endurance_ok'] else 'INFEASIBLE'})",
        f"MACs     {s['macs']:12d}   FLOPs (2/MAC) {s['flops']}",
    ]
    if layers:
        out.append(
            f"{'block':>5} {'layer':28} {'kind':7} {'MACs':>9} "
            f"{'energy nJ':>10} {'lat ns':>9} {'xbars':>6} {'util':>6}"
        )
        out += [
            f"{lc.block:5d} {lc.name[:28]:28} {lc.kind:7} {lc.macs:9d} {lc.energy_pj / 1e3:10.3f} "
            f"{lc.latency_ns:9.1f} {lc.n_xbar:6d} {lc.util:6.1%}"
            for lc in c.layers
        ]
    return "\n".join(out)


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `recnas pim search`."""
    p.add_argument(
        "run_dir",
        type=Path,
        help="run directory with supernet.pt, data.json, best_architectures.json",
    )
    p.add_argument("--mode", choices=("pareto", "budget"), default="pareto")
    p.add_argument(
        "--objectives",
        nargs="+",
        default=["logloss", "energy", "latency"],
        help="logloss first, then any of flops energy latency area",
    )
    p.add_argument(
        "--budget",
        action="append",
        default=[],
        metavar="NAME=LIMIT",
        help="budget mode limit, SI units (energy J/sample, latency s/sample, area mm2, flops)",
    )
    p.add_argument(
        "--beta", type=float, default=1.0, help="penalty per unit relative excess (inf: reject)"
    )
    p.add_argument("--population", type=int, default=32)
    p.add_argument("--sample", type=int, default=16)
    p.add_argument("--generations", type=int, default=24)
    p.add_argument("--children", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--mp-steps", type=int, help="mixed-precision supernet steps (default: half of its steps)"
    )
    p.add_argument(
        "--finetune-steps",
        type=int,
        help="head fine-tune steps (default: the run's search setting)",
    )
    p.add_argument(
        "--val-rows", type=int, help="val rows per score (default: the run's search setting)"
    )
    p.add_argument(
        "--chip-factor",
        type=float,
        default=2.0,
        help="chip area as a multiple of the reference's own area (iso-area budget, default 2)",
    )
    p.add_argument(
        "--retrain-seeds",
        type=int,
        default=3,
        help="standalone retraining seeds of the pick and the reference (0: skip; default 3)",
    )
    p.add_argument("--retrain-epochs", type=int, default=1, help="epochs per retraining")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    p.add_argument("--no-progress", action="store_true")


def parse_budgets(items: list[str]) -> dict[str, float]:
    """NAME=LIMIT strings to a dict; a one-line error names the bad item."""
    out = {}
    for it in items:
        name, _, val = it.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise RecnasError(f"--budget {it!r}: expected NAME=NUMBER, e.g. energy=1e-6") from None
    return out


def run_search_command(args: argparse.Namespace) -> int:
    """`recnas pim search`: co-search then print the comparison JSON."""
    budgets = parse_budgets(args.budget)
    if args.mode == "budget" and not budgets:
        raise RecnasError("--mode budget needs at least one --budget NAME=LIMIT")
    if args.threads is not None:
        if args.threads < 1:
            raise RecnasError(f"--threads {args.threads}: expected a positive number")
        import torch

        torch.set_num_threads(args.threads)
    from recnas.pipeline.codesign import codesign_run

    out = codesign_run(
        args.run_dir,
        mode=args.mode,
        objectives=args.objectives,
        budgets=budgets,
        population=args.population,
        sample=args.sample,
        generations=args.generations,
        children=args.children,
        seed=args.seed,
        device=args.device,
        progress=not args.no_progress,
        beta=args.beta,
        mp_steps=args.mp_steps,
        finetune_steps=args.finetune_steps,
        val_rows=args.val_rows,
        chip_factor=args.chip_factor,
        retrain_seeds=args.retrain_seeds,
        retrain_epochs=args.retrain_epochs,
    )
    print(json.dumps(out, indent=2, default=float))
    return 0
