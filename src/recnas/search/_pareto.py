"""Pareto utilities (minimisation) and NSGA-II-style parent selection inside the aging population.

Used by the PIM co-search (issue 6.4): log loss plus any of FLOPs, energy, latency, area.
Pure functions, so the report's Pareto plot reuses `pareto_front` (style example 12).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from recnas.search._genome import Genome
from recnas.search._genome import SearchRandom
from recnas.search._journal import COMPLETE
from recnas.search._journal import Record
from recnas.search._searchers import DEFAULT_RETRIES
from recnas.search._searchers import RegularizedEvolution

Point = Sequence[float]


def dominates(a: Point, b: Point) -> bool:
    """True if `a` is no worse than `b` in every objective and better in one (minimisation)."""
    pairs = list(zip(a, b, strict=True))
    return all(x <= y for x, y in pairs) and any(x < y for x, y in pairs)


def non_dominated_sort(points: Sequence[Point]) -> list[list[int]]:
    """Fronts of point indices, best first (Deb et al. 2002); equal points share a front."""
    n = len(points)
    beats: list[list[int]] = [[] for _ in range(n)]  # indices each point dominates
    beaten_by = [0] * n
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(points[j], points[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    fronts: list[list[int]] = []
    front = [i for i in range(n) if beaten_by[i] == 0]
    while front:
        fronts.append(sorted(front))
        nxt = []
        for i in front:
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    nxt.append(j)
        front = nxt
    return fronts


def crowding_distance(points: Sequence[Point]) -> list[float]:
    """NSGA-II crowding distance of each point within one front: boundary points get +inf,
    others the sum over objectives of the normalised gap between their neighbours."""
    n = len(points)
    dist = [0.0] * n
    if n == 0:
        return dist
    for m in range(len(points[0])):
        order = sorted(range(n), key=lambda i: (points[i][m], i))
        lo, hi = points[order[0]][m], points[order[-1]][m]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue  # the objective does not separate the points
        for k in range(1, n - 1):
            dist[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / (hi - lo)
    return dist


def objective_points(records: Sequence[Record], objectives: Sequence[str]) -> list[list[float]]:
    """Each record's objective vector (`Record.value`: metrics, then flops/params/seconds)."""
    return [[r.value(k) for k in objectives] for r in records]


def pareto_front(records: Sequence[Record], objectives: Sequence[str]) -> list[Record]:
    """The non-dominated COMPLETE records (one per hash), sorted by the first objective."""
    seen: set[str] = set()
    pool = []
    for r in records:
        if r.state == COMPLETE and r.hash not in seen and _finite(r, objectives):
            seen.add(r.hash)
            pool.append(r)
    if not pool:
        return []
    front = [pool[i] for i in non_dominated_sort(objective_points(pool, objectives))[0]]
    return sorted(front, key=lambda r: ([r.value(k) for k in objectives], r.n))


def _finite(r: Record, objectives: Sequence[str]) -> bool:
    return all(math.isfinite(r.value(k)) for k in objectives)


def rank_and_crowding(points: Sequence[Point]) -> tuple[list[int], list[float]]:
    """Each point's front number (0 = non-dominated) and its crowding distance within that front."""
    rank = [0] * len(points)
    crowd = [0.0] * len(points)
    for f, front in enumerate(non_dominated_sort(points)):
        for i, d in zip(front, crowding_distance([points[i] for i in front]), strict=True):
            rank[i], crowd[i] = f, d
    return rank, crowd


class ParetoTournament:
    """NSGA-II selection: the tournament entrant with the best (front, -crowding)."""

    def __init__(self, sample: int, objectives: Sequence[str]) -> None:
        if not objectives:
            raise ValueError("ParetoTournament needs at least one objective")
        self.sample = sample
        self.objectives = tuple(objectives)

    def eligible(self, r: Record) -> bool:
        """Population members: scored candidates with every objective finite."""
        return r.state == COMPLETE and _finite(r, self.objectives)

    def __call__(self, population: Sequence[Record], rng: random.Random) -> Record:
        """The parent; ranks and crowding are computed over the whole current population."""
        rank, crowd = rank_and_crowding(objective_points(population, self.objectives))
        pos = {id(r): i for i, r in enumerate(population)}
        entrants = rng.sample(list(population), min(self.sample, len(population)))
        return min(entrants, key=lambda r: (rank[pos[id(r)]], -crowd[pos[id(r)]], r.n))

    def describe(self) -> dict[str, Any]:
        """Settings."""
        return {"selection": "pareto", "sample": self.sample, "objectives": list(self.objectives)}


class ParetoEvolution:
    """Aging evolution whose parent is chosen by non-dominated rank and crowding."""

    def __init__(
        self,
        genome: Genome,
        *,
        objectives: Sequence[str],
        population: int = 128,
        sample: int = 64,
        generations: int = 240,
        children: int = 8,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.genome = genome
        self.objectives = tuple(objectives)
        self._evo = RegularizedEvolution(
            genome,
            population=population,
            sample=sample,
            generations=generations,
            children=children,
            selection=ParetoTournament(sample, objectives),
            retries=retries,
        )

    @property
    def budget(self) -> int:
        """Proposals of a full run."""
        return self._evo.budget

    def propose(self, history: Sequence[Record], rng: SearchRandom) -> Any:
        """As RegularizedEvolution, with Pareto parent selection."""
        return self._evo.propose(history, rng)

    def sync_point(self, n: int) -> int:
        """The end of n's generation."""
        return self._evo.sync_point(n)

    def population_of(self, history: Sequence[Record], g: int) -> list[Record]:
        """Generation g's aging population."""
        return self._evo.population_of(history, g)

    def describe(self) -> dict[str, Any]:
        """Settings."""
        return {**self._evo.describe(), "algo": "pareto_evolution"}
