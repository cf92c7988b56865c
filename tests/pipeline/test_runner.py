"""The stage driver: state.json records finished stages, a rerun continues where it stopped, and a
run directory refuses a changed config unless forced (the stages here only count their calls)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recnas.config import load_config
from recnas.errors import ConfigError
from recnas.pipeline import PipelineState, Stage, run_pipeline
from recnas.runs import RunDir

CALLS: list[str] = []


def _stage(name: str, fail: bool = False) -> Stage:
    def fn(ctx):
        CALLS.append(name)
        if fail and not (ctx.rd.root / "retry").exists():
            (ctx.rd.root / "retry").touch()
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C inside this stage
        return {"value": len(CALLS)}

    return Stage(name, fn)


STAGES = (
    _stage("data"),
    _stage("supernet"),
    _stage("search", fail=True),
    _stage("topk"),
    Stage("codesign", _stage("codesign").run, enabled=lambda c: c.codesign.enabled),
)


def _run(tmp_path: Path, overrides=(), **kw):
    cfg = load_config(None, list(overrides))
    return run_pipeline(
        cfg, out=tmp_path / "run", stages=STAGES, log=lambda m: None, report=False, **kw
    )


def test_interrupted_run_continues_where_it_stopped(tmp_path: Path) -> None:
    CALLS.clear()
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path)
    assert CALLS == ["data", "supernet", "search"]
    state = PipelineState.load(RunDir(tmp_path / "run").state)
    assert [s for s in state.stages if state.is_done(s)] == ["data", "supernet"]
    res = _run(tmp_path)
    assert CALLS == ["data", "supernet", "search", "search", "topk"]
    assert res.ran == ["search", "topk"] and res.skipped == ["data", "supernet"]
    res = _run(tmp_path)  # everything done: nothing runs again
    assert res.ran == [] and len(CALLS) == 5


def test_stop_after_and_disabled_stages(tmp_path: Path) -> None:
    CALLS.clear()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "retry").touch()
    res = _run(tmp_path, stop_after="supernet")
    assert res.ran == ["data", "supernet"]
    with pytest.raises(ConfigError, match="not a stage of this run"):
        _run(tmp_path, stop_after="codesign")  # disabled in this config
    res = _run(tmp_path)
    assert res.ran == ["search", "topk"] and "codesign" not in CALLS


def test_resume_refuses_changed_config_unless_forced(tmp_path: Path) -> None:
    CALLS.clear()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "retry").touch()
    _run(tmp_path)
    with pytest.raises(
        ConfigError,
        match=r"started with a different config \(search.generations: "
        r"240 -> 9\).*--force",
    ):
        _run(tmp_path, ["search.generations=9"])
    assert _run(tmp_path, ["device=auto", "search.workers=3"]).ran == []  # harmless keys may change
    CALLS.clear()
    res = _run(tmp_path, ["search.generations=9"], force=True)
    assert res.ran == ["search", "topk"]  # the search section changed: search and later stages redo
    assert "generations: 9" in (tmp_path / "run" / "config.yaml").read_text()


def test_corrupt_state_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    p.write_text("{not json")
    with pytest.raises(Exception, match="unreadable pipeline state"):
        PipelineState.load(p)
