"""Co-search: genome, budget terms, Pareto invariants, report (issue 6.3-6.5)."""

from __future__ import annotations

import json
import random

import pytest

from recnas.hardware.config import preset
from recnas.hardware.validate import RefSchema
from recnas.pipeline.pim_report import pim_report
from recnas.runs import RunDir
from recnas.runs import atomic_write_json
from recnas.search import Journal
from recnas.search import dominates
from recnas.search import pareto_front
from recnas.search import run_search
from recnas.search.cosearch import CoCandidate
from recnas.search.cosearch import budget_values
from recnas.search.cosearch import cohash
from recnas.search.cosearch import cost_values
from recnas.search.cosearch import cosearch_genome
from recnas.search.cosearch import make_searcher
from recnas.search.cosearch import sample_bits
from recnas.search.cosearch import uniform_candidate
from recnas.space import get_space
from recnas.space import liveness

SCHEMA = RefSchema()


def _toy_score(c: CoCandidate) -> dict[str, float]:
    """Deterministic: low bits and narrow blocks cost log loss; costs from the real PIM model."""
    live = [lv.live for lv in liveness(c.arch)]
    bits = [b.dense for b, on in zip(c.genes.blocks, live) if on]
    q = sum((16 - w) * 0.002 + (16 - a) * 0.003 for w, a in bits) / max(1, len(bits))
    width = sum(b.dense_width for b in c.arch.blocks) / (1024 * c.arch.num_blocks)
    out = {"logloss": 0.46 + q - 0.02 * width}
    out.update(cost_values(c.arch, c.genes, SCHEMA, preset("fair")))
    return out


def test_genome_sample_mutate_hash() -> None:
    g = cosearch_genome(get_space("small"))
    rng = random.Random(0)
    c = g.sample(rng)
    assert all(
        b.dense == b.sparse for b in c.genes.blocks
    )  # tied: the supernet quantises per block
    assert g.sample(random.Random(0)) == g.sample(random.Random(0))
    assert g.from_dict(json.loads(json.dumps(g.to_dict(c)))) == c
    changed = 0
    for i in range(40):
        m = g.mutate(c, random.Random(i))
        assert (m.arch != c.arch) + (m.genes != c.genes) <= 1
        changed += m != c
    assert changed >= 35  # moves change their gene (architecture no-ops aside)


def test_hash_ignores_dead_block_genes() -> None:
    from dataclasses import replace

    from recnas.hardware.validate import reference_arch

    c = uniform_candidate(reference_arch(), 8)
    blocks = list(c.genes.blocks)
    blocks[1] = replace(blocks[1], dense=(4, 4), sparse=(4, 4))  # block 2 is dead
    assert cohash(replace(c, genes=replace(c.genes, blocks=tuple(blocks)))) == cohash(c)
    blocks[0] = replace(blocks[0], mapping="xbar")
    assert cohash(replace(c, genes=replace(c.genes, blocks=tuple(blocks)))) != cohash(c)


def test_budget_values() -> None:
    v = {"logloss": 0.45, "energy": 2e-6, "latency": 1e-5}
    assert budget_values(v, {"energy": 4e-6}, 1.0) == {"feasible": 1.0, "penalized": 0.45}
    out = budget_values(v, {"energy": 1e-6}, 0.5)
    assert out["feasible"] == 0.0 and out["penalized"] == pytest.approx(0.45 + 0.5 * 1.0)
    assert budget_values(v, {"energy": 1e-6}, float("inf"))["penalized"] > 100


def _search(tmp_path, mode: str, budgets: dict[str, float] | None = None):
    g = cosearch_genome(get_space("small"))
    s = make_searcher(
        g,
        mode=mode,
        objectives=["logloss", "energy", "latency"],
        population=12,
        sample=4,
        generations=4,
        children=4,
    )

    def score(c: CoCandidate) -> dict[str, float]:
        out = _toy_score(c)
        return {**out, **budget_values(out, budgets, 1.0)} if budgets else out

    return run_search(
        searcher=s, journal=Journal(tmp_path / "j.jsonl"), seed=1, score_fn=score, progress=False
    ).records


def test_pareto_front_is_non_dominated(tmp_path) -> None:
    recs = _search(tmp_path, "pareto")
    objs = ("logloss", "energy", "latency")
    front = pareto_front(recs, objs)
    assert front
    pts = {r.n: [r.value(k) for k in objs] for r in recs if r.state == "COMPLETE"}
    for f in front:
        assert not any(dominates(p, pts[f.n]) for p in pts.values())


def test_budget_mode_prefers_feasible(tmp_path) -> None:
    recs = [r for r in _search(tmp_path, "budget", {"energy": 4e-5}) if r.state == "COMPLETE"]
    feasible = [r for r in recs if r.values["feasible"] == 1.0]
    assert feasible and len(feasible) < len(recs)  # the limit binds
    best = min(recs, key=lambda r: r.value("penalized"))
    assert best.values["feasible"] == 1.0 and best.values["energy"] <= 4e-5
    # the evolution concentrates on feasible designs once the population is past the random start
    late = recs[len(recs) // 2 :]
    assert sum(r.values["feasible"] for r in late) >= sum(
        r.values["feasible"] for r in recs[: len(late)]
    )


def test_sample_bits() -> None:
    from recnas.hardware.validate import reference_arch

    b = sample_bits(reference_arch(), random.Random(0))
    assert set(b) == {1, 2, 3, 4} and all(
        w in (4, 8, 16) and a in (4, 8, 16) for w, a in b.values()
    )
    assert sample_bits(reference_arch(), random.Random(0), p_full=1.0) is None


def test_report_from_a_journal(tmp_path) -> None:
    from recnas.data.schema import reference_schema
    from recnas.hardware.pim import cost
    from recnas.space import sample_arch

    rd = RunDir(tmp_path)
    g = cosearch_genome(get_space("small"))
    ref = uniform_candidate(sample_arch(get_space("small"), random.Random(5)), 8)
    s = make_searcher(
        g,
        mode="pareto",
        objectives=["logloss", "energy"],
        population=8,
        sample=4,
        generations=2,
        children=4,
    )
    run_search(
        searcher=s,
        journal=Journal(rd.cosearch_journal),
        seed=0,
        score_fn=_toy_score,
        enqueue=[ref, uniform_candidate(ref.arch, 4)],
        progress=False,
    )
    sch = reference_schema("criteo", cap=1000)
    chip = 2 * cost(ref.arch, sch, preset("fair"), ref.genes).area_mm2
    atomic_write_json(
        rd.pim / "cosearch_meta.json",
        {
            "mode": "pareto",
            "reference_hash": g.hash(ref),
            "schema": sch.to_dict(),
            "chip_mm2": chip,
            "reference_row_std": 0.5,
            "val_rows": 1000,
        },
    )
    out = pim_report(tmp_path)["comparison"]
    assert out["logloss_tol"] == pytest.approx(2 * 0.5 * (2 / 1000) ** 0.5)
    # the reference costed against itself is exactly 1.0x
    assert all(v == 1.0 for v in out["reference_self_ratio"].values())
    assert out["pick"] is not None and out["pick"]["fits"]
    assert out["pick"]["area_mm2"] <= chip * (1 + 1e-9)
    assert set(out["rows"]) == {"fair_8bit", "fair_16bit", "naive_appendix"}
    head = out["rows"]["fair_8bit"]
    assert out["energy_ratio"] == head["energy_ratio"]
    assert head["energy_beyond_flops"] == pytest.approx(head["energy_ratio"] / head["flops_ratio"])
    # the naive appendix reference writes operands every sample: it is worse than the fair one
    assert out["rows"]["naive_appendix"]["energy_ratio"] > head["energy_ratio"]
    assert {"isaac", "murmann"} <= set(out["sensitivity"])
    # best_within_tol keeps each candidate's ratios together (no mixing across candidates)
    best = out["best_within_tol"]["best_energy"]
    assert best["energy_beyond_flops"] == pytest.approx(
        best["energy_ratio"] / best["flops_ratio"]
    )
    for f in (
        "report.json",
        "front.json",
        "pareto_energy.png",
        "pareto_latency.png",
        "reference_cost.json",
    ):
        assert (rd.pim / f).is_file()
    md = (tmp_path / "report_sections" / "60_pim.md").read_text()
    assert "fair, 8-bit (headline)" in md and "appendix" in md and "Caveats" in md


def test_cosearch_resumes_from_its_journal(tmp_path) -> None:
    first = _search(tmp_path, "pareto")
    g = cosearch_genome(get_space("small"))
    s = make_searcher(
        g,
        mode="pareto",
        objectives=["logloss", "energy", "latency"],
        population=12,
        sample=4,
        generations=4,
        children=4,
    )
    calls = []

    def score(c: CoCandidate) -> dict[str, float]:
        calls.append(c)
        return _toy_score(c)

    res = run_search(
        searcher=s, journal=Journal(tmp_path / "j.jsonl"), seed=1, score_fn=score, progress=False
    )
    assert calls == [] and [r.hash for r in res.records] == [r.hash for r in first]


def test_hardware_imports_no_torch_and_no_search() -> None:
    import subprocess
    import sys

    code = (
        "import sys, recnas.hardware, recnas.hardware.pim, recnas.hardware.validate; "
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('recnas.search')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
