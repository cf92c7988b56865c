"""`recnas run` in a subprocess: a tiny synthetic pipeline, resume, and one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TINY = [
    "data.synth_rows=3000",
    "data.synth_table_cap=200",
    "data.cap=200",
    "supernet.max_steps=6",
    "supernet.batch=128",
    "supernet.warmup=2",
    "supernet.num_blocks=3",
    "search.population=3",
    "search.sample=2",
    "search.generations=1",
    "search.children=2",
    "search.finetune_steps=4",
    "search.val_rows=256",
    "final.top_k=1",
    "final.max_steps=4",
    "final.max_epochs=1",
    "baselines.models=[lr]",
    "final.batch=128",
    "final.topk_batch=128",
    "final.random_controls=0",
    "threads=1",
    "progress=false",
]


def _recnas(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "recnas", *args],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )


def test_run_tiny_pipeline_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    p = _recnas("run", "demo", "--out", str(out), *TINY, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = p.stdout.strip().splitlines()
    assert lines[-1] == f"report: {out / 'report.md'}"
    assert lines[1].startswith("search: 5 candidates scored, best proxy log loss")
    assert re.match(r"searched model: test log loss \d+\.\d{5}, AUC \d\.\d{4}, ", lines[2]), lines[
        2
    ]
    for name in (
        "config.yaml",
        "data.json",
        "supernet.pt",
        "journal.jsonl",
        "best_architectures.json",
        "metrics.json",
        "report.md",
        "state.json",
        "plots/search_progress.png",
        "plots/score_vs_flops.png",
        "plots/final_comparison.png",
        "topk/summary.json",
    ):
        assert (out / name).is_file(), name
    text = (out / "report.md").read_text()
    assert "## Search" in text and "## Final models" in text and "searched (NASRecNet)" in text
    again = _recnas("run", "demo", "--out", str(out), *TINY, cwd=tmp_path)  # everything reused
    assert again.returncode == 0 and "0 stages run, 7 reused" in again.stdout
    changed = _recnas("run", "demo", "--out", str(out), *TINY, "search.generations=2", cwd=tmp_path)
    assert changed.returncode == 2
    assert "started with a different config (search.generations: 1 -> 2)" in changed.stderr
    assert "Traceback" not in changed.stderr


def test_bad_config_is_reported_without_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("search:\n  populaton: 4\n  generations: -1\n")
    p = _recnas("run", str(cfg), cwd=tmp_path)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert f"{cfg}:2: unknown key 'search.populaton'; did you mean 'search.population'?" in p.stderr
    assert f"{cfg}:3: 'search.generations' must be >= 0, got -1" in p.stderr
    listing = _recnas("run", "--list", cwd=tmp_path)
    assert (
        listing.returncode == 0 and "criteo_sample" in listing.stdout and "demo" in listing.stdout
    )


def test_run_out_never_replaces_a_data_folder_recnas_did_not_make(tmp_path: Path) -> None:
    from recnas.cli.main import main

    out = tmp_path / "project"
    (out / "data").mkdir(parents=True)
    mine = out / "data" / "train.csv"
    mine.write_text("label,a\n1,x\n")
    code = main(["run", "demo", "--out", str(out), *TINY, "--stop-after", "data"])
    assert code == 2 and mine.read_text() == "label,a\n1,x\n"  # the user's file is untouched
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train.csv"]
    fresh = tmp_path / "fresh"
    assert main(["run", "demo", "--out", str(fresh), *TINY, "--stop-after", "data"]) == 0
    assert main(["run", "demo", "--out", str(fresh), *TINY, "--stop-after", "data",
                 "data.synth_seed=1", "--force"]) == 0  # its own cache may be replaced
