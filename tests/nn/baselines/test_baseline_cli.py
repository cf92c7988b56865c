"""`recnas baseline` (in a subprocess) and `recnas compare` on a small synthetic cache."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import pytest

from recnas.cli.main import main


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recnas.data import synth_cache

    return Path(
        synth_cache(tmp_path_factory.mktemp("bl") / "cache", rows=4000, seed=3, table_cap=500)
    )


def test_baseline_cli_writes_metrics(synth: Path, tmp_path: Path) -> None:
    out = tmp_path / "fm"
    cmd = [
        sys.executable,
        "-m",
        "recnas",
        "baseline",
        "--model",
        "FM",
        "--data",
        str(synth),
        "--out",
        str(out),
        "--max-epochs",
        "2",
        "--batch-size",
        "1024",
        "--threads",
        "1",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    printed = json.loads(res.stdout.strip().splitlines()[-1])
    m = json.loads((out / "metrics.json").read_text())
    assert printed["model"] == m["model"] == "fm" and m["epochs_run"] == 2 and m["steps"] == 2 * (3200 // 1024)
    assert m["evaluated_on"] == "test" and m["test"]["rows"] == 400 and 0.0 < m["auc"] < 1.0
    assert printed["regret"] == m["regret"] > 0  # a synthetic cache knows its oracle


def test_baseline_cli_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], synth: Path, tmp_path: Path
) -> None:
    assert main(["baseline", "--model", "nope", "--data", str(synth), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "valid names" in err and "dlrm" in err


def test_compare_cli_writes_report_fragment(
    synth: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "data.json").write_text(json.dumps({"cache": str(synth)}))
    args = ["compare", str(run), "--models", "lr,dlrm", "--max-epochs", "1", "--batch-size", "1024", "--seeds", "2"]
    assert main(args) == 0
    text = (run / "report_sections" / "50_baselines.md").read_text()
    assert "| LR | small | 2 |" in text and "| DLRM | small | 2 |" in text and "BARS" in text  # Criteo-named
    assert text in capsys.readouterr().out and "Oracle regret" in text
    assert json.loads((run / "baselines" / "dlrm" / "seed-1" / "metrics.json").read_text())["epochs_run"] == 1
