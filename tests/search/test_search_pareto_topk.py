"""Pareto sort and crowding against hand-computed examples; Pareto selection; top-k export."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from _search_toy import arch_genome
from _search_toy import toy_score

from recnas.search import COMPLETE
from recnas.search import FAIL
from recnas.search import Journal
from recnas.search import ParetoEvolution
from recnas.search import ParetoTournament
from recnas.search import Record
from recnas.search import crowding_distance
from recnas.search import export_best
from recnas.search import non_dominated_sort
from recnas.search import pareto_front
from recnas.search import run_search
from recnas.search import top_k

INF = math.inf


def test_non_dominated_sort_by_hand() -> None:
    pts = [(1, 5), (2, 3), (3, 1), (2, 4), (4, 4), (5, 5), (3, 3)]
    # (2,4) and (3,3) are beaten only by (2,3); (4,4) by (3,3); (5,5) by (4,4)
    assert non_dominated_sort(pts) == [[0, 1, 2], [3, 6], [4], [5]]
    assert non_dominated_sort([(1, 1), (1, 1), (2, 2)]) == [
        [0, 1],
        [2],
    ]  # equal points share a front
    assert non_dominated_sort([]) == []


def test_crowding_distance_by_hand() -> None:
    assert crowding_distance([(1, 5), (2, 3), (3, 1)]) == [INF, 2.0, INF]
    # obj 0 (range 10): 4/10, 9/10; obj 1 (range 10): 8/10, 6/10
    assert crowding_distance([(0, 10), (1, 6), (4, 2), (10, 0)]) == [INF, 0.4 + 0.8, 0.9 + 0.6, INF]
    assert crowding_distance([(1, 1), (1, 2), (1, 3)]) == [INF, 1.0, INF]  # a flat objective adds 0
    assert crowding_distance([]) == []


def _rec(n: int, loss: float, flops: float, *, state: str = COMPLETE, h: str = "") -> Record:
    return Record(
        n=n, hash=h or f"h{n}", arch={}, state=state, values={"logloss": loss}, flops=flops
    )


class _Fixed(random.Random):
    """An RNG whose `sample` returns chosen entrants (to test selection without chance)."""

    def __init__(self, pick: list[int]) -> None:
        super().__init__(0)
        self.pick = pick

    def sample(self, population, k):
        return [population[i] for i in self.pick]


def test_pareto_tournament_prefers_rank_then_crowding() -> None:
    pop = [_rec(0, 1, 5), _rec(1, 2, 3), _rec(2, 3, 1), _rec(3, 2, 4), _rec(4, 4, 4)]
    sel = ParetoTournament(sample=2, objectives=("logloss", "flops"))
    assert sel(pop, _Fixed([1, 3])).n == 1  # front 0 beats front 1
    assert sel(pop, _Fixed([3, 4])).n == 3  # front 1 beats front 2
    assert (
        sel(pop, _Fixed([1, 2])).n == 2
    )  # same front: the boundary point (infinite crowding) wins
    assert not sel.eligible(_rec(5, 1, 1, state=FAIL))


def test_pareto_front_of_records() -> None:
    recs = [
        _rec(0, 0.45, 100),
        _rec(1, 0.44, 300),
        _rec(2, 0.46, 50),
        _rec(3, 0.45, 200),
        _rec(4, 0.40, 10, state=FAIL),
        _rec(5, 0.44, 300, h="h1"),
    ]
    front = pareto_front(recs, ["logloss", "flops"])
    assert [r.n for r in front] == [1, 0, 2]  # sorted by log loss; the duplicate hash appears once


def test_pareto_evolution_search(tmp_path: Path) -> None:
    def score(arch):
        return {**toy_score(arch), "flops": sum(b.dense_width for b in arch.blocks)}

    evo = ParetoEvolution(
        arch_genome(),
        objectives=["logloss", "flops"],
        population=10,
        sample=5,
        generations=5,
        children=3,
    )
    res = run_search(
        searcher=evo, journal=Journal(tmp_path / "j.jsonl"), score_fn=score, seed=2, progress=False
    )
    assert len(res.records) == evo.budget == 25 and res.counts["COMPLETE"] == 25
    assert Journal(tmp_path / "j.jsonl").meta()["searcher"]["objectives"] == ["logloss", "flops"]
    front = pareto_front(res.records, ["logloss", "flops"])
    assert front and all(r.flops is not None for r in front)


def test_top_k_and_export(tmp_path: Path) -> None:
    recs = [
        _rec(0, 0.45, 1),
        _rec(1, 0.43, 1),
        _rec(2, 0.40, 1, state=FAIL),
        _rec(3, 0.44, 1),
        _rec(4, 0.42, 1, h="h1"),
        _rec(5, math.nan, 1),
    ]
    assert [(r.n, r.hash) for r in top_k(recs, 10)] == [(4, "h1"), (3, "h3"), (0, "h0")]
    assert [r.n for r in top_k(recs, 2)] == [4, 3]
    path = export_best(tmp_path / "best_architectures.json", recs, 2)
    doc = json.loads(path.read_text())
    assert [a["hash"] for a in doc["architectures"]] == ["h1", "h3"]
    assert doc["architectures"][0]["rank"] == 1 and doc["candidates"] == 5
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temporary file
