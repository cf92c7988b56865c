"""How the search draws, mutates, hashes and stores candidates; the proposal RNG (method.md §6).

The searchers never name `Architecture`: a `Genome` bundles the space functions, so the PIM
co-search can extend the genome with hardware genes and reuse the same searchers, loop and journal.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SearchRandom(random.Random):
    """Proposal n's RNG, seeded by (seed, n): a resumed run proposes what an uninterrupted would."""

    def __init__(self, seed: int, n: int) -> None:
        # str seeds go through SHA-512 in CPython: stable across processes and PYTHONHASHSEED
        super().__init__(f"recnas-search:{seed}:{n}")
        self.search_seed = seed
        self.n = n

    def derive(self, *key: object) -> random.Random:
        """An RNG shared by all proposals passing the same key (one tournament per generation)."""
        return random.Random(f"recnas-search:{self.search_seed}:" + ":".join(map(str, key)))


@dataclass(frozen=True)
class Genome:
    """The candidate operations a searcher needs; `for_space` builds the architecture one."""

    name: str
    sample: Callable[[random.Random], Any]
    mutate: Callable[[Any, random.Random], Any]
    hash: Callable[[Any], str]
    to_dict: Callable[[Any], dict[str, Any]]
    from_dict: Callable[[dict[str, Any]], Any]
    num_mutations: Callable[[int, int], int]

    @classmethod
    def for_space(cls, space: Any) -> Genome:
        """NASRec architectures in `space` (recnas.space functions, canonical hash)."""
        from recnas.space import Architecture
        from recnas.space import arch_hash
        from recnas.space import mutate
        from recnas.space import num_mutations
        from recnas.space import sample_arch

        return cls(
            name=f"arch:{getattr(space, 'name', space)}",
            sample=_Bound(sample_arch, space),
            mutate=_BoundMutate(mutate, space),
            hash=arch_hash,
            to_dict=Architecture.to_dict,
            from_dict=Architecture.from_dict,
            num_mutations=num_mutations,
        )


@dataclass(frozen=True)
class _Bound:
    """`fn(space, rng)` as a picklable `f(rng)`."""

    fn: Callable[[Any, random.Random], Any]
    space: Any

    def __call__(self, rng: random.Random) -> Any:
        return self.fn(self.space, rng)


@dataclass(frozen=True)
class _BoundMutate:
    """`mutate(arch, space, rng)` as a picklable `f(arch, rng)`."""

    fn: Callable[[Any, Any, random.Random], Any]
    space: Any

    def __call__(self, arch: Any, rng: random.Random) -> Any:
        return self.fn(arch, self.space, rng)
