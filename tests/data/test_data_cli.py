"""`recnas prepare` and `recnas synth` through the CLI entry point (in-process, plus one subprocess)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from recnas.cli.main import main


@pytest.mark.parametrize("fmt, rel, extra, rows", [
    ("criteo", "criteo/criteo_sample.txt", [], 7984),
    ("avazu", "avazu/avazu_sample.csv", [], 8999),
    ("kdd", "kdd12/training.txt", ["--profile", "kdd12/userid_profile.txt"], 11),
])
def test_prepare_shared_samples_summary(fmt, rel, extra, rows, shared_dir, tmp_path, capsys):
    d = shared_dir / "data"
    extra = [a if a.startswith("--") else str(d / a) for a in extra]
    assert main(["prepare", "--format", fmt, "--input", str(d / rel), "--out", str(tmp_path / "c"), *extra]) == 0
    out = capsys.readouterr().out
    m = re.search(r"rows read (\d+) = kept (\d+) \+ rejected (\d+)", out)
    assert m and int(m[1]) == int(m[2]) + int(m[3]) == rows
    assert re.search(r"splits: train \d+, val \d+, test \d+", out)


def test_prepare_reports_bad_rows_and_errors(tmp_path, capsys, criteo_file):
    from _data_lines import criteo_line
    from _data_lines import many_criteo_lines

    lines = many_criteo_lines(50)
    lines[4] = criteo_line(cat0="XYZ")
    p = criteo_file(lines)
    assert main(["prepare", "--format", "criteo", "--input", str(p), "--out", str(tmp_path / "c"),
                 "--max-bad-fraction", "0.05", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["rows"]["rejected"] == 1 and s["rejected_by_reason"] == {"bad_categorical": 1}
    assert main(["prepare", "--format", "criteo", "--input", str(p), "--out", str(tmp_path / "d"),
                 "--on-bad-row", "fail"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{p}:5: field C1" in err
    assert main(["prepare", "--format", "criteo", "--input", str(tmp_path / "missing.txt"),
                 "--out", str(tmp_path / "e")]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err


def test_synth_cli_subprocess(tmp_path: Path):
    out = tmp_path / "cache"
    r = subprocess.run([sys.executable, "-m", "recnas", "synth", "--rows", "3000", "--cache", "--out", str(out),
                        "--table-cap", "500", "--seed", "1"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "meta.json").read_text())
    assert meta["rows"]["train"] == 2400 and max(meta["table_sizes"]) == 500
    orc = meta["oracle"]["test"]
    assert orc["rows"] == 300 and f"log loss {orc['logloss']:.4f}" in r.stdout  # the oracle is reported
