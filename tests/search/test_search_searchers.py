"""Searchers and the loop in process: evolution invariants, determinism, dedup, failures, resume."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from _search_toy import Spy
from _search_toy import arch_genome
from _search_toy import int_genome
from _search_toy import toy_score

from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.search import COMPLETE
from recnas.search import FAIL
from recnas.search import SKIPPED
from recnas.search import Journal
from recnas.search import RandomSearch
from recnas.search import RegularizedEvolution
from recnas.search import SearchRandom
from recnas.search import run_search
from recnas.space import num_mutations

P, S, G, C = 12, 6, 8, 4


def _evolution(genome=None) -> RegularizedEvolution:
    return RegularizedEvolution(
        genome or arch_genome(), population=P, sample=S, generations=G, children=C
    )


def _run(tmp_path: Path, searcher, *, name: str = "journal.jsonl", seed: int = 0, **kw):
    return run_search(
        searcher=searcher,
        journal=Journal(tmp_path / name),
        seed=seed,
        score_fn=kw.pop("score_fn", toy_score),
        progress=False,
        **kw,
    )


def test_evolution_invariants(tmp_path: Path) -> None:
    G = 25  # noqa: N806 - over 20 generations, so children of early generations get 2 mutations
    spy = Spy(arch_genome())
    evo = RegularizedEvolution(spy.genome, population=P, sample=S, generations=G, children=C)
    res = _run(tmp_path, evo)
    recs = res.records
    assert len(recs) == P + G * C == evo.budget and res.counts["COMPLETE"] == len(recs)
    assert [num_mutations(g, G) for g in (0, 5, 6, 24)] == [2, 2, 1, 1]
    assert len({r.hash for r in recs}) == len(recs)  # dedup against everything scored
    calls = iter(spy.calls)
    redraws = 0
    for g in range(G):
        start = P + g * C
        pop = evo.population_of(recs, g)
        assert pop == recs[start - P : start]  # aging: the last P records; the oldest C dropped
        entrants = SearchRandom(0, start).derive("tournament", g).sample(pop, S)
        parent = min(entrants, key=lambda r: (r.values["logloss"], r.n))  # argmin; ties: oldest
        assert parent == evo.parent(
            recs, g, SearchRandom(0, start + 1)
        )  # the same single parent for every child of the generation
        k = num_mutations(g, G)
        for child in recs[start : start + C]:  # C children, each k mutations stacked on the parent
            # a collision (e.g. only a dead gene changed) redraws from the parent
            for _attempt in range(20):
                chain = [next(calls) for _ in range(k)]
                assert chain[0][0] == parent.hash
                assert all(a[1] == b[0] for a, b in itertools.pairwise(chain))
                if chain[-1][1] == child.hash:
                    break
                redraws += 1
                assert chain[-1][1] in {r.hash for r in recs[: recs.index(child)]}
            else:
                raise AssertionError(f"child {child.n} is not a {k}-mutation chain from its parent")
    assert next(calls, None) is None and redraws < len(recs)


def test_failed_candidates_leave_the_population(tmp_path: Path) -> None:
    def flaky(arch):
        out = toy_score(arch)
        if out["logloss"] < 0.47:
            return {"logloss": math.nan}
        return out

    evo = _evolution()
    res = _run(tmp_path, evo, score_fn=flaky)
    fails = [r for r in res.records if r.state == FAIL]
    assert fails and all("non-finite" in r.error and r.values["logloss"] is None for r in fails)
    for g in range(G):
        pop = evo.population_of(res.records, g)
        ok = [r for r in res.records[: P + g * C] if r.state == COMPLETE]
        assert pop == ok[-P:]  # the last P scored candidates; failures are not members
    for line in (tmp_path / "journal.jsonl").read_text().splitlines():
        json.loads(line)  # NaN never reaches the file


def test_exceptions_are_fail_records_and_the_search_goes_on(tmp_path: Path) -> None:
    calls = []

    def boom(arch):
        calls.append(1)
        if len(calls) % 5 == 0:
            raise MemoryError("CUDA out of memory (simulated)")
        return toy_score(arch)

    res = _run(tmp_path, RandomSearch(arch_genome()), budget=20, score_fn=boom)
    assert res.counts == {"COMPLETE": 16, "FAIL": 4, "SKIPPED": 0}
    assert all(
        r.error.startswith("MemoryError: CUDA out of memory")
        for r in res.records
        if r.state == FAIL
    )


@pytest.mark.parametrize("make", [lambda: RandomSearch(arch_genome("full")), _evolution])
def test_same_seed_same_search(tmp_path: Path, make) -> None:
    a = _run(tmp_path, make(), name="a.jsonl", seed=5, budget=30)
    b = _run(tmp_path, make(), name="b.jsonl", seed=5, budget=30)
    c = _run(tmp_path, make(), name="c.jsonl", seed=6, budget=30)
    assert [r.hash for r in a.records] == [r.hash for r in b.records]
    assert [r.hash for r in a.records] != [r.hash for r in c.records]


def test_duplicates_are_redrawn_then_skipped_and_counted(tmp_path: Path) -> None:
    def score(c):
        return {"logloss": c / 10}

    res = _run(tmp_path, RandomSearch(int_genome(10), retries=3), budget=25, score_fn=score)
    scored = [r.hash for r in res.records if r.state != SKIPPED]
    assert len(scored) == len(set(scored)) and res.skipped == 25 - len(scored) > 0
    assert res.counts == {"COMPLETE": len(scored), "FAIL": 0, "SKIPPED": res.skipped}
    again = _run(tmp_path, RandomSearch(int_genome(10), retries=3), budget=25, score_fn=score)
    assert again.scored == 0 and again.skipped == 0 and again.reused == 25  # resume: nothing new


def test_evolution_redraws_from_the_parent_on_collision(tmp_path: Path) -> None:
    evo = RegularizedEvolution(int_genome(40), population=10, sample=5, generations=6, children=4)
    res = _run(tmp_path, evo, score_fn=lambda c: {"logloss": abs(c - 20) / 10})
    assert res.counts["FAIL"] == 0
    scored = [r.hash for r in res.records if r.state != SKIPPED]
    assert len(scored) == len(set(scored)) and len(res.records) == evo.budget


def test_enqueued_candidates_come_first(tmp_path: Path) -> None:
    genome = arch_genome()
    known = [genome.sample(SearchRandom(99, i)) for i in range(3)]
    res = _run(tmp_path, _evolution(), enqueue=known)
    assert [r.hash for r in res.records[:3]] == [genome.hash(a) for a in known]
    assert len(res.records) == P + G * C


def test_resume_after_interrupt_equals_uninterrupted(tmp_path: Path) -> None:
    full = _run(tmp_path, _evolution(), name="full.jsonl")
    calls = []

    def interrupted(arch):
        calls.append(1)
        if len(calls) == 23:
            raise KeyboardInterrupt  # not a FAIL: the run stops with candidate 22 started
        return toy_score(arch)

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, _evolution(), name="part.jsonl", score_fn=interrupted)
    part = Journal(tmp_path / "part.jsonl").records()
    assert part[-1].state == "PENDING" and len(part) == 23
    res = _run(tmp_path, _evolution(), name="part.jsonl")
    assert res.rescored == 1 and res.scored == len(full.records) - 22
    assert [(r.hash, r.values) for r in res.records] == [(r.hash, r.values) for r in full.records]


def test_a_broken_scorer_stops_the_search(tmp_path: Path) -> None:
    def broken(arch):
        raise ValueError("schema mismatch")

    with pytest.raises(RecnasError, match="first 10 candidates all failed; last error: ValueError"):
        _run(tmp_path, RandomSearch(arch_genome()), budget=30, score_fn=broken)


def test_resume_mid_batch_keeps_duplicate_skips(tmp_path: Path) -> None:
    def score(c):
        return {"logloss": c / 10}

    def searcher():
        return RandomSearch(int_genome(12), retries=1)  # duplicates reach the loop

    full = _run(tmp_path, searcher(), name="full.jsonl", budget=20, score_fn=score)
    assert full.skipped > 0
    calls = []

    def interrupted(c):
        calls.append(c)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return score(c)

    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, searcher(), name="part.jsonl", budget=20, score_fn=interrupted)
    res = _run(tmp_path, searcher(), name="part.jsonl", budget=20, score_fn=score)
    assert [(r.hash, r.state) for r in res.records] == [(r.hash, r.state) for r in full.records]


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    _run(tmp_path, _evolution(), budget=5)
    with pytest.raises(ConfigError, match="seed"):
        _run(tmp_path, _evolution(), budget=5, seed=1)
    with pytest.raises(ConfigError, match="searcher"):
        _run(tmp_path, RandomSearch(arch_genome()), budget=5)


def test_search_core_does_not_import_torch() -> None:
    code = (
        "import sys, importlib\n"
        "for m in ('recnas.search', 'recnas.search._scorer', 'recnas.search._distributed'):\n"
        "    importlib.import_module(m)\n"
        "assert 'torch' not in sys.modules, 'recnas.search imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
