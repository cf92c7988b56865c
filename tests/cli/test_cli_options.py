"""`recnas run --threads` and `recnas compare --no-progress` (which also re-renders report.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recnas.cli.main import main


def test_run_threads_sets_the_config_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from recnas.cli import run as run_cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(run_cli, "execute", lambda cfg, **kw: seen.update(cfg=cfg) or 0)
    assert main(["run", "demo", "--threads", "1", "--no-progress", "--out", str(tmp_path)]) == 0
    assert seen["cfg"].threads == 1 and seen["cfg"].progress is False
    assert main(["run", "demo", "--threads", "0"]) == 2  # validated like the config key


def test_compare_no_progress_and_report_rerendered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import recnas.nn.baselines as baselines

    run = tmp_path / "run"
    (run / "report_sections").mkdir(parents=True)
    (run / "report.md").write_text("# an old report without baselines\n")
    calls: list[dict[str, Any]] = []

    def fake_compare(root: Path, **kw: Any) -> dict[str, Any]:
        calls.append(kw)
        table = Path(root) / "report_sections" / "50_baselines.md"
        table.write_text("## Baselines\n\n| model | test log loss |\n| dlrm | 0.45 |\n")
        return {"table": str(table)}

    import recnas.train as train

    for module in (baselines, train):  # wherever the command takes compare_run from
        monkeypatch.setattr(module, "compare_run", fake_compare, raising=False)
    assert main(["compare", str(run), "--models", "dlrm", "--no-progress"]) == 0
    assert calls[0]["progress"] is False
    out = capsys.readouterr().out
    assert out.strip().endswith(f"report: {run / 'report.md'}")
    assert "| dlrm | 0.45 |" in (run / "report.md").read_text()  # the report shows the table


def test_a_full_disk_anywhere_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import errno

    from recnas.cli import compare as compare_cli

    def full(args: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/x/report.md")

    monkeypatch.setattr(compare_cli, "run", full)
    assert main(["compare", "/runs/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recnas compare: error: No space left on device (/runs/x/report.md)")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
