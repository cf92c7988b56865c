"""Toy scorers and genomes for the search tests (no torch; deterministic functions of the genes)."""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any

from recnas.search import Genome
from recnas.space import Architecture
from recnas.space import arch_hash
from recnas.space import get_space

SEED = 3


def arch_genome(space: str = "small") -> Genome:
    """The real genome of a recnas search space."""
    return Genome.for_space(get_space(space))


def toy_score(arch: Architecture) -> dict[str, float]:
    """A loss that prefers wide dense outputs and FC, plus a small gene-dependent wobble."""
    widths = sum(b.dense_width for b in arch.blocks) / (1024 * len(arch.blocks))
    fc = sum(b.dense_ops == ("fc",) for b in arch.blocks) / len(arch.blocks)
    wobble = sum(
        (k + 1) * (b.sparse_width + 3 * len(b.dense_idx)) for k, b in enumerate(arch.blocks)
    )
    return {
        "logloss": 0.5 - 0.05 * widths - 0.01 * fc + (wobble % 97) * 1e-5,
        "auc": 0.7 + widths / 10,
    }


@dataclass(frozen=True)
class SleepyScorer:
    """`toy_score` after a short sleep (so a process can be killed mid-search); picklable."""

    sleep: float = 0.0
    log: str | None = None  # each call appends the candidate's hash here (to count re-scores)

    def __call__(self, arch: Architecture) -> dict[str, float]:
        time.sleep(self.sleep)
        if self.log:
            with open(self.log, "a") as f:
                f.write(arch_hash(arch) + "\n")
        return toy_score(arch)


@dataclass(frozen=True)
class make_sleepy_scorer:
    """Picklable factory for worker processes."""

    sleep: float = 0.0
    log: str | None = None

    def __call__(self) -> SleepyScorer:
        return SleepyScorer(self.sleep, self.log)


def broken_factory() -> SleepyScorer:
    """A scorer factory that fails (a missing checkpoint, say) inside the worker."""
    from recnas.errors import CheckpointError

    raise CheckpointError("checkpoint not found: /nowhere/supernet.pt")


def int_genome(values: int) -> Genome:
    """A tiny genome: candidates are ints 0..values-1 (duplicates are frequent)."""
    return Genome(
        name=f"int{values}",
        sample=lambda rng: rng.randrange(values),
        mutate=lambda c, rng: (c + rng.choice((-1, 1))) % values,
        hash=lambda c: f"i{c}",
        to_dict=lambda c: {"v": c},
        from_dict=lambda d: d["v"],
        num_mutations=lambda g, G: 1,
    )


class Spy:
    """Wraps a genome and logs every mutate call as (input hash, output hash)."""

    def __init__(self, genome: Genome) -> None:
        self.calls: list[tuple[str, str]] = []
        self.genome = replace(genome, mutate=self._mutate)
        self._inner = genome

    def _mutate(self, c: Any, rng: random.Random) -> Any:
        out = self._inner.mutate(c, rng)
        self.calls.append((self._inner.hash(c), self._inner.hash(out)))
        return out


def main(argv: list[str]) -> None:
    """`python _search_toy.py JOURNAL WORKERS SLEEP CALL_LOG`: a small search (kill test)."""
    from _search_toy import (
        SleepyScorer as Scorer,  # by module name, so worker processes can unpickle
    )
    from _search_toy import make_sleepy_scorer as factory

    from recnas.search import Journal
    from recnas.search import run_search

    journal, workers, sleep, log = Path(argv[0]), int(argv[1]), float(argv[2]), argv[3]
    run_search(
        searcher=evolution(),
        journal=Journal(journal),
        seed=SEED,
        workers=workers,
        score_fn=Scorer(sleep, log),
        make_scorer=factory(sleep, log),
        progress=False,
    )


def evolution() -> Any:
    """The evolution used by the crash and worker tests: 16 + 10 x 4 = 56 proposals."""
    from recnas.search import RegularizedEvolution

    return RegularizedEvolution(
        arch_genome("small"), population=16, sample=8, generations=10, children=4
    )


def dist_main(argv: list[str]) -> None:
    """`python _search_toy.py --dist JOURNAL RANK WORLD PORT`: one gloo rank of a search."""
    import torch.distributed as dist

    from recnas.search import DistributedExecutor
    from recnas.search import Journal
    from recnas.search import run_search

    journal, rank, world, port = Journal(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world
    )
    ex = DistributedExecutor(SleepyScorer(), journal, rank=rank, world_size=world)
    run_search(
        searcher=evolution(),
        journal=journal,
        seed=SEED,
        budget=40,
        executor=ex,
        is_main=rank == 0,
        progress=False,
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    if sys.argv[1] == "--dist":
        dist_main(sys.argv[2:])
    else:
        main(sys.argv[1:])
