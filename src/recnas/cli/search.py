"""`recnas search`: regularized evolution or random search over a trained supernet (method.md §5-7).

Writes `journal.jsonl` and `best_architectures.json` into --out; run it again to resume.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from recnas.errors import ConfigError
from recnas.errors import DataError
from recnas.runs import RunDir
from recnas.search import DistributedExecutor
from recnas.search import Genome
from recnas.search import Journal
from recnas.search import RandomSearch
from recnas.search import RegularizedEvolution
from recnas.search import SearchResult
from recnas.search import export_best
from recnas.search import run_search
from recnas.search import score_settings
from recnas.search import top_k
from recnas.search._scorer import SupernetScorerFactory


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options; spec defaults (population 128, sample 64, 240 generations x 8 children)."""
    parser.add_argument(
        "--supernet",
        type=Path,
        required=True,
        help="supernet checkpoint, or a run directory holding supernet.pt",
    )
    parser.add_argument("--data", type=Path, required=True, help="data cache directory")
    parser.add_argument("--out", type=Path, required=True, help="output directory (journal, best)")
    parser.add_argument(
        "--space",
        choices=("small", "full"),
        help="search space (default: the supernet's; must match it)",
    )
    parser.add_argument("--algo", choices=("evolution", "random"), default="evolution")
    parser.add_argument("--population", type=int, default=128)
    parser.add_argument("--sample", type=int, default=64, help="tournament size")
    parser.add_argument("--generations", type=int, default=240)
    parser.add_argument("--children", type=int, default=8)
    parser.add_argument(
        "--budget",
        type=int,
        help="candidates to propose (default population + generations x children)",
    )
    parser.add_argument("--workers", type=int, default=1, help="scoring processes (default 1)")
    parser.add_argument("--finetune-steps", type=int, default=500, help="head fine-tune steps")
    parser.add_argument("--val-rows", type=int, help="val rows per score (default: spec, ~1.2M)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--top-k", type=int, default=15, help="architectures in best_architectures.json"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument(
        "--threads", type=int, help="torch threads per worker (default cores/workers)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--enqueue", type=Path, action="append", metavar="ARCH_JSON",
                        help="score this architecture first (repeatable; recnas or NASRec JSON)")


def run(args: argparse.Namespace) -> int:
    """Run or resume the search, export the top k, print the best."""
    ckpt = _checkpoint(args.supernet)
    if not args.data.is_dir():
        raise DataError(
            f"data cache not found: {args.data} (create one with `recnas prepare` or "
            "`recnas synth`)"
        )
    space = _space(ckpt, args.space)
    searcher, budget = _searcher(args, Genome.for_space(space))
    enqueue = _enqueued(args, space)
    factory = SupernetScorerFactory(
        str(ckpt),
        str(args.data),
        finetune_steps=args.finetune_steps,
        val_rows=args.val_rows,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        workers=args.workers,
    )
    rd = RunDir(args.out)
    rd.root.mkdir(parents=True, exist_ok=True)
    settings = score_settings(ckpt, args.data, finetune_steps=args.finetune_steps,
                              val_rows=args.val_rows)
    t0 = time.perf_counter()
    if env_world_size() > 1:
        res, is_main = _run_torchrun(args, searcher, factory, rd, budget, enqueue, settings)
    else:
        res = run_search(searcher=searcher, journal=Journal(rd.journal), budget=budget,
                         seed=args.seed, make_scorer=factory, workers=args.workers,
                         enqueue=enqueue, progress=not args.no_progress, settings=settings)
        is_main = True
    if is_main:
        extra = {"space": space.name, "supernet": str(ckpt), "seed": args.seed}
        export_best(rd.best, res.records, args.top_k, extra=extra)
        _print_summary(res, rd, time.perf_counter() - t0)
    return 0


def _searcher(args: argparse.Namespace, genome: Genome) -> tuple[Any, int]:
    """The searcher and its budget (random search defaults to the evolution's candidate count)."""
    evo = RegularizedEvolution(genome, population=args.population, sample=args.sample,
                               generations=args.generations, children=args.children)
    searcher = evo if args.algo == "evolution" else RandomSearch(genome)
    return searcher, args.budget if args.budget is not None else evo.budget


def _enqueued(args: argparse.Namespace, space: Any) -> list[Any]:
    """Architectures from --enqueue files (recnas or published NASRec JSON), scored first."""
    from recnas.space import load_architecture

    archs = []
    for p in args.enqueue or ():
        try:
            archs.append(space.validate_arch(load_architecture(p)))
        except ConfigError as e:
            raise ConfigError(f"--enqueue {p}: {e}") from None
    return archs


def _run_torchrun(args: argparse.Namespace, searcher: Any, factory: SupernetScorerFactory,
                  rd: RunDir, budget: int, enqueue: list[Any],
                  settings: dict[str, Any]) -> tuple[SearchResult, bool]:
    """Under torchrun: every rank runs the same search and scores its share of each batch."""
    from recnas.distributed import finish
    from recnas.distributed import init_distributed
    from recnas.distributed import shutdown_distributed

    if args.workers != 1:
        raise ConfigError("--workers is for one process; under torchrun each rank is one worker")
    env = init_distributed(args.device)
    try:
        score_fn = dataclasses.replace(factory, device=env.device, workers=1)()
        journal = Journal(rd.journal)
        ex = DistributedExecutor(score_fn, journal, rank=env.rank, world_size=env.world_size)
        res = run_search(
            searcher=searcher,
            journal=journal,
            budget=budget,
            seed=args.seed,
            enqueue=enqueue,
            executor=ex,
            is_main=env.is_main,
            progress=env.is_main and not args.no_progress,
            settings=settings,
        )
    except BaseException:
        shutdown_distributed()  # no barrier: a failed peer would never reach it
        raise
    # every rank leaves together: a gloo rank torn down while its peer still talks aborts (SIGABRT)
    finish(env)
    return res, env.is_main


def env_world_size() -> int:
    """WORLD_SIZE as set by torchrun (1 otherwise), read without importing torch."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def _checkpoint(path: Path) -> Path:
    ckpt = RunDir(path).supernet if path.is_dir() else path
    if not ckpt.is_file():
        raise ConfigError(
            f"supernet checkpoint not found: {ckpt} (train one with `recnas supernet train`)"
        )
    return ckpt


def _space(ckpt: Path, name: str | None):
    """The supernet's search space (read from its checkpoint config); --space must agree."""
    from recnas.space import SearchSpace
    from recnas.space import get_space
    from recnas.train import load_checkpoint

    saved = (load_checkpoint(ckpt).get("config") or {}).get("space")
    if saved is None:
        if name is None:
            raise ConfigError(f"{ckpt} does not record its search space; pass --space small|full")
        return get_space(name)
    space = SearchSpace.from_dict(saved)
    if name is not None and get_space(name).name != space.name:
        raise ConfigError(
            f"--space {name} does not match the supernet's space {space.name!r} ({ckpt})"
        )
    return space


def _print_summary(res: SearchResult, rd: RunDir, seconds: float) -> None:
    c = res.counts
    print(
        f"candidates: {c.get('COMPLETE', 0)} complete, {c.get('FAIL', 0)} failed, "
        f"{c.get('SKIPPED', 0)} skipped duplicates ({res.scored} scored in this run, "
        f"{res.rescored} re-scored after an interruption, {seconds:.1f} s)"
    )
    best = top_k(res.records, 1)
    if best:
        b = best[0]
        auc = b.values.get("auc")
        extra = (f", auc {auc:.4f}" if auc is not None else "") + (
            f", {b.flops / 1e6:.3f} MFLOPs" if b.flops is not None else ""
        )
        print(f"best: logloss {b.values['logloss']:.5f}{extra}, hash {b.hash} (candidate {b.n})")
    if res.torn_lines:
        print(f"journal: dropped {res.torn_lines} torn last line(s) left by an interrupted run")
    print(f"journal: {rd.journal}")
    print(f"best architectures: {rd.best}")
