"""The co-design's accuracy checks at the charged bits: paired per-row differences and standalone
retraining of the pick and the reference with several seeds (issue 11, deliverable 3)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recnas.data import open_cache
from recnas.data import synth_cache
from recnas.pipeline.codesign import paired_check
from recnas.pipeline.codesign import retrain_check
from recnas.runs import RunDir
from recnas.search.cosearch import uniform_candidate
from recnas.space import get_space
from recnas.space import sample_arch


def test_paired_check_interval() -> None:
    ref = np.array([0.5, 0.6, 0.4, 0.7])
    pick = ref + np.array([0.01, 0.03, -0.01, 0.01])
    out = paired_check(ref, pick)
    d = pick - ref
    assert out["delta"] == pytest.approx(d.mean())
    assert out["se"] == pytest.approx(d.std(ddof=1) / 2)
    assert out["delta_lo"] < out["delta"] < out["delta_hi"] and out["rows"] == 4


def test_retrain_check_trains_both_at_their_bits(tmp_path) -> None:
    cache = open_cache(synth_cache(tmp_path / "data", rows=800, seed=0, table_cap=50))
    arch = sample_arch(get_space("small"), random.Random(1), layernorm=True)
    cands = {"reference": uniform_candidate(arch, 8), "pick": uniform_candidate(arch, 4)}
    rd = RunDir(tmp_path / "run")
    out = retrain_check(
        rd, cache, cache.schema, cands, seeds=2, epochs=1, device="cpu", progress=False
    )
    for name in ("reference", "pick"):
        assert len(out[name]["logloss"]) == 2 and out[name]["se"] > 0
        assert (rd.pim / "retrain" / f"{name}_seed1" / "metrics.json").is_file()
    # 4-bit and 8-bit training differ: the bits reach the standalone model
    assert out["pick"]["logloss"] != out["reference"]["logloss"]
    assert out["delta"] == pytest.approx(out["pick"]["mean"] - out["reference"]["mean"])
    assert out["within_2se"] == (out["delta"] <= 2 * out["se"])
    again = retrain_check(
        rd, cache, cache.schema, cands, seeds=2, epochs=1, device="cpu", progress=False
    )
    assert again["delta"] == out["delta"]  # finished runs are reused
