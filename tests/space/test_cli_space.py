"""`recnas space` subcommands, called in-process through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recnas.cli.main import main
from recnas.cli.space import infer_dataset
from recnas.space import Architecture
from recnas.space import get_space
from recnas.space import load_architecture


def _out(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["space", *argv]) == 0
    return capsys.readouterr().out


def test_sample_prints_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    text = _out(capsys, "sample", "--space", "full", "--seed", "1")
    arch = Architecture.from_json(text)
    get_space("full").validate_arch(arch)
    assert _out(capsys, "sample", "--space", "full", "--seed", "1") == text
    assert _out(capsys, "sample", "--space", "full", "--seed", "2") != text
    small = Architecture.from_json(
        _out(capsys, "sample", "--space", "small", "--strategy", "random")
    )
    get_space("small").validate_arch(small)
    path = Architecture.from_json(_out(capsys, "sample", "--strategy", "full_path"))
    assert path.blocks[6].dense_idx == tuple(range(7))


def test_import_nasrec(
    capsys: pytest.CaptureFixture[str], shared_dir: Path, tmp_path: Path
) -> None:
    f = shared_dir / "nasrec_configs/criteo/ea_criteo_kaggle_xlarge_best_1shot.json"
    out = _out(capsys, "import-nasrec", str(f), "--out", str(tmp_path / "a.json"))
    text, _, tail = out.partition("\n}\n")
    assert (
        Architecture.from_json(text + "\n}")
        == load_architecture(f)
        == load_architecture(tmp_path / "a.json")
    )
    assert "dead blocks (never reach the head): 4, 5, 6" in tail
    # FLOPs come from recnas.hardware.flops (another area); either they print or the line says why
    assert "criteo reference schema:" in tail or "FLOPs/params: unavailable" in tail


def test_export_check_ops_size(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "a.json"
    assert main(["space", "sample", "--space", "small", "--seed", "3", "--out", str(f)]) == 0
    capsys.readouterr()
    exported = json.loads(_out(capsys, "export-nasrec", str(f), "--space", "small"))
    assert exported["config"] == "autoctr" and len(exported["micro"]) == 7
    assert "valid in space 'small'; hash" in _out(capsys, "check", str(f), "--space", "small")
    ops = _out(capsys, "ops")
    assert "full: dense fc, dot_product, gating, sum; sparse efc, attention" in ops
    assert "small: dense fc, dot_product; sparse efc" in ops
    size = _out(capsys, "size", "--space", "full")
    assert "8.07e+43" in size and "1.46e+36" in size and "small" not in size


def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["space", "sample", "--space", "medium"]) == 2
    assert "unknown search space 'medium'" in capsys.readouterr().err
    f = tmp_path / "a.json"
    f.write_text("{")
    assert main(["space", "check", str(f)]) == 2
    err = capsys.readouterr().err
    assert "a.json: line 1" in err and len(err.strip().splitlines()) == 1


def test_infer_dataset() -> None:
    assert infer_dataset(Path("configs/kdd/ea_kdd_kaggle_xlarge_best_1shot.json")) == "kdd"
    assert infer_dataset(Path("x/avazu.json")) == "avazu"
    assert infer_dataset(Path("x/arch.json")) is None
