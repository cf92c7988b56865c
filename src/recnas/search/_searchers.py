"""Searchers: random search and regularized (aging) evolution, state from history (method.md §6).

A searcher reads the journal's records (one per proposal index n, `len(history) == n`) and an RNG
seeded by (seed, n); it keeps no state, so a restarted search proposes exactly what it would have.
`sync_point(n)` says how far proposals may run ahead of results: evolution proposes a generation
from the previous generations only, so parallel workers score the same set as one worker.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from recnas.search._genome import Genome
from recnas.search._genome import SearchRandom
from recnas.search._journal import COMPLETE
from recnas.search._journal import Record

DEFAULT_RETRIES = 20  # redraws on a duplicate before the proposal is counted as a skipped duplicate


class Searcher(Protocol):
    """What the search loop asks of a searcher."""

    genome: Genome

    def propose(self, history: Sequence[Record], rng: SearchRandom) -> Any:
        """The candidate for proposal `len(history)`."""
        ...

    def sync_point(self, n: int) -> int:
        """One past the last proposal that may precede the results of proposals >= n."""
        ...

    def describe(self) -> dict[str, Any]:
        """The settings that fix the proposals (stored in the journal; a resume must match them)."""
        ...


def candidate_of(record: Record, genome: Genome) -> Any:
    """The decoded candidate of a record (decoded from its stored dict if needed)."""
    return record.candidate if record.candidate is not None else genome.from_dict(record.arch)


def draw_new(draw: Callable[[], Any], genome: Genome, known: set[str], retries: int) -> Any:
    """Call `draw` until its candidate's hash is not in `known` (at most `retries` times)."""
    cand = draw()
    for _ in range(retries - 1):
        if genome.hash(cand) not in known:
            break
        cand = draw()
    return cand


class RandomSearch:
    """Uniform random architectures (uniform input counts), redrawn on a duplicate."""

    def __init__(self, genome: Genome, *, retries: int = DEFAULT_RETRIES) -> None:
        self.genome = genome
        self.retries = retries

    def propose(self, history: Sequence[Record], rng: SearchRandom) -> Any:
        """A fresh random candidate."""
        known = {r.hash for r in history}
        return draw_new(lambda: self.genome.sample(rng), self.genome, known, self.retries)

    def sync_point(self, n: int) -> int:
        """Random proposals never depend on results."""
        return sys.maxsize

    def describe(self) -> dict[str, Any]:
        """Settings."""
        return {"algo": "random", "genome": self.genome.name}


def tournament(
    population: Sequence[Record], size: int, rng: random.Random, *, key: Callable[[Record], Any]
) -> Record:
    """Sample `size` members without replacement; return the one with the smallest `key`."""
    entrants = rng.sample(list(population), min(size, len(population)))
    return min(entrants, key=lambda r: (key(r), r.n))


class LowestLoss:
    """Regularized evolution's parent: the tournament entrant with the lowest proxy loss."""

    def __init__(self, sample: int, objective: str = "logloss") -> None:
        self.sample = sample
        self.objective = objective

    def eligible(self, r: Record) -> bool:
        """Population members: scored candidates with a finite loss."""
        return r.state == COMPLETE and math.isfinite(r.value(self.objective))

    def __call__(self, population: Sequence[Record], rng: random.Random) -> Record:
        """The parent."""
        return tournament(population, self.sample, rng, key=lambda r: r.value(self.objective))

    def describe(self) -> dict[str, Any]:
        """Settings."""
        return {"selection": "lowest_loss", "sample": self.sample, "objective": self.objective}


class Selection(Protocol):
    """Chooses a generation's parent from the aging population."""

    def eligible(self, r: Record) -> bool:
        """Whether a record may join the population."""
        ...

    def __call__(self, population: Sequence[Record], rng: random.Random) -> Record:
        """The parent."""
        ...

    def describe(self) -> dict[str, Any]:
        """Settings."""
        ...


class RegularizedEvolution:
    """Aging evolution: `population` random candidates, then per generation one parent and
    `children` children with `num_mutations(g, generations)` mutations each."""

    def __init__(
        self,
        genome: Genome,
        *,
        population: int = 128,
        sample: int = 64,
        generations: int = 240,
        children: int = 8,
        objective: str = "logloss",
        selection: Selection | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        if population < 1 or sample < 1 or children < 1 or generations < 0:
            raise ValueError("population, sample and children must be >= 1 and generations >= 0")
        self.genome = genome
        self.population = population
        self.sample = sample
        self.generations = generations
        self.children = children
        self.selection: Selection = selection or LowestLoss(sample, objective)
        self.retries = retries

    @property
    def budget(self) -> int:
        """Proposals of a full run: population + generations x children."""
        return self.population + self.generations * self.children

    def generation(self, n: int) -> int | None:
        """The generation of proposal n (None inside the initial population)."""
        return None if n < self.population else (n - self.population) // self.children

    def sync_point(self, n: int) -> int:
        """The end of n's batch: the initial population, or n's generation."""
        g = self.generation(n)
        return self.population if g is None else self.population + (g + 1) * self.children

    def population_of(self, history: Sequence[Record], g: int) -> list[Record]:
        """Generation g's aging population: the last `population` eligible records before g."""
        start = min(self.population + g * self.children, len(history))
        members: list[Record] = []
        for i in range(start - 1, -1, -1):  # walk back from g's start: O(population), not O(n)
            if self.selection.eligible(history[i]):
                members.append(history[i])
                if len(members) == self.population:
                    break
        return members[::-1]

    def parent(self, history: Sequence[Record], g: int, rng: SearchRandom) -> Record | None:
        """Generation g's single parent: one tournament per generation (its RNG depends on g)."""
        pop = self.population_of(history, g)
        return self.selection(pop, rng.derive("tournament", g)) if pop else None

    def propose(self, history: Sequence[Record], rng: SearchRandom) -> Any:
        """A random initial-population member, or a mutated child of the generation's parent."""
        known = {r.hash for r in history}
        g = self.generation(len(history))
        parent = None if g is None else self.parent(history, g, rng)
        if parent is None:  # initial population (or every earlier candidate failed)
            return draw_new(lambda: self.genome.sample(rng), self.genome, known, self.retries)
        base = candidate_of(parent, self.genome)
        k = max(1, self.genome.num_mutations(g, self.generations))  # type: ignore[arg-type]

        def child() -> Any:
            c = base
            for _ in range(k):
                c = self.genome.mutate(c, rng)
            return c

        return draw_new(child, self.genome, known, self.retries)

    def describe(self) -> dict[str, Any]:
        """Settings."""
        return {
            "algo": "evolution",
            "genome": self.genome.name,
            "population": self.population,
            "generations": self.generations,
            "children": self.children,
            **self.selection.describe(),
        }


class Enqueued:
    """Known candidates proposed first (like Optuna's enqueue_trial), then the wrapped searcher."""

    def __init__(self, searcher: Searcher, candidates: Sequence[Any]) -> None:
        self.genome = searcher.genome
        self.searcher = searcher
        self.candidates = list(candidates)

    def propose(self, history: Sequence[Record], rng: SearchRandom) -> Any:
        """The n-th enqueued candidate, else the searcher's proposal."""
        n = len(history)
        return (
            self.candidates[n] if n < len(self.candidates) else self.searcher.propose(history, rng)
        )

    def sync_point(self, n: int) -> int:
        """As the wrapped searcher."""
        return self.searcher.sync_point(n)

    def describe(self) -> dict[str, Any]:
        """Settings, with the enqueued hashes."""
        return {
            **self.searcher.describe(),
            "enqueued": [self.genome.hash(c) for c in self.candidates],
        }
