"""`recnas space`: sample, import/export NASRec JSON, check, list ops and count a search space.

Thin layer over `recnas.space` (method.md §2, §4.1, §6, §8).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from recnas.errors import ConfigError
from recnas.space import STRATEGIES
from recnas.space import Architecture
from recnas.space import arch_hash
from recnas.space import dead_blocks
from recnas.space import get_space
from recnas.space import is_nasrec
from recnas.space import list_spaces
from recnas.space import load_architecture
from recnas.space import nasrec_space
from recnas.space import sample_arch
from recnas.space import sample_path
from recnas.space import save_architecture
from recnas.space import to_nasrec

DATASETS: tuple[str, ...] = ("criteo", "avazu", "kdd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands: sample, import-nasrec, export-nasrec, check, ops, size."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("sample", help="print a sampled architecture (or training path) as JSON")
    p.add_argument("--space", default="full", help="search space: small or full (default full)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--strategy",
        default="default",
        choices=(*STRATEGIES, "random"),
        help="path strategy (method.md 4.1), or 'random' for the initial-population "
        "distribution (uniform input counts)",
    )
    p.add_argument("--out", type=Path, help="also write the JSON to this file")
    p = sub.add_parser(
        "import-nasrec", help="print a published NASRec JSON as recnas JSON with FLOPs"
    )
    p.add_argument("file", type=Path, help="NASRec (or recnas) architecture JSON")
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        help="schema for FLOPs and params (default: inferred from the file path)",
    )
    p.add_argument("--out", type=Path, help="write the recnas JSON to this file")
    p = sub.add_parser("export-nasrec", help="print an architecture in the published NASRec format")
    p.add_argument("file", type=Path, help="recnas (or NASRec) architecture JSON")
    p.add_argument(
        "--space",
        help="node table: small (autoctr) or full (xlarge); default: the "
        "input file's own table if it is NASRec JSON, else full",
    )
    p = sub.add_parser(
        "check", help="validate an architecture against a space; print hash and dead blocks"
    )
    p.add_argument("file", type=Path, help="recnas or NASRec architecture JSON")
    p.add_argument("--space", default="full", help="search space: small or full (default full)")
    p = sub.add_parser("ops", help="list the op names of each space")
    p.add_argument("--space", help="only this space")
    p = sub.add_parser("size", help="number of architectures in a space (method.md 2.5)")
    p.add_argument("--space", help="only this space")


def _sample(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    rng = random.Random(args.seed)
    arch = (
        sample_arch(space, rng)
        if args.strategy == "random"
        else sample_path(space, rng, args.strategy)
    )
    if args.out:
        save_architecture(arch, args.out)
    print(arch.to_json(indent=2))
    return 0


def infer_dataset(path: Path) -> str | None:
    """'criteo', 'avazu' or 'kdd' if exactly one of them appears in the path, else None."""
    text = str(path).lower()
    found = [d for d in DATASETS if d in text]
    return found[0] if len(found) == 1 else None


def flops_line(arch: Architecture, dataset: str) -> str:
    """One line with MACs, FLOPs and params on the reference schema, or why they are unavailable."""
    try:
        from recnas.data.schema import reference_schema
        from recnas.hardware.flops import count
    except ImportError as e:
        return f"FLOPs/params: unavailable ({e})"
    try:
        c = count(arch, reference_schema(dataset))
    except Exception as e:  # noqa: BLE001 - another area's counter must not break this printout
        return f"FLOPs/params: counting failed ({type(e).__name__}: {e})"
    return (
        f"{dataset} reference schema: {c.macs / 1e6:.3f} M multiply-adds, "
        f"{c.flops / 1e6:.3f} MFLOPs "
        f"(2 per multiply-add), {c.params / 1e6:.3f} M params"
    )


def _import(args: argparse.Namespace) -> int:
    arch = load_architecture(args.file)
    if args.out:
        save_architecture(arch, args.out)
    print(arch.to_json(indent=2))
    dataset = args.dataset or infer_dataset(args.file)
    dead = ", ".join(map(str, dead_blocks(arch))) or "none"
    print(f"dead blocks (never reach the head): {dead}")
    if dataset is None:
        print(
            "FLOPs/params: dataset not recognised in the file path; pass --dataset criteo|avazu|kdd"
        )
    else:
        print(flops_line(arch, dataset))
    return 0


def _export(args: argparse.Namespace) -> int:
    arch = load_architecture(args.file)
    space = args.space
    if space is None:  # keep a NASRec file's own node table
        d = json.loads(args.file.read_text(encoding="utf-8"))
        space = nasrec_space(d).name if is_nasrec(d) else "full"
    print(json.dumps(to_nasrec(arch, space)))
    return 0


def _check(args: argparse.Namespace) -> int:
    space = get_space(args.space)
    arch = space.validate_arch(load_architecture(args.file))
    dead = ", ".join(map(str, dead_blocks(arch))) or "none"
    print(
        f"{args.file}: valid in space {space.name!r}; hash {arch_hash(arch)}; dead blocks: {dead}"
    )
    return 0


def _names(name: str | None) -> tuple[str, ...]:
    return (get_space(name).name,) if name else list_spaces()


def _ops(args: argparse.Namespace) -> int:
    for name in _names(args.space):
        s = get_space(name)
        print(f"{name}: dense {', '.join(s.dense_ops)}; sparse {', '.join(s.sparse_ops)}")
    return 0


def _size(args: argparse.Namespace) -> int:
    for name in _names(args.space):
        s = get_space(name)
        print(
            f"{name}: {float(s.size()):.2e} architectures with every gene counted; "
            f"{float(s.size(dead_genes=False)):.2e} without dead genes ({s.num_blocks} blocks)"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen subcommand."""
    actions = {
        "sample": _sample,
        "import-nasrec": _import,
        "export-nasrec": _export,
        "check": _check,
        "ops": _ops,
        "size": _size,
    }
    if args.action not in actions:
        raise ConfigError(f"unknown action {args.action!r}; choose from {', '.join(actions)}")
    return actions[args.action](args)
