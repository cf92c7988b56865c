"""`recnas run` on pre-split data named in the config (`data.files`, paths relative to the file)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

from recnas.cli.main import main


def _criteo_file(path: Path, rows: int, seed: int) -> Path:
    """Criteo-format rows: label, 13 integer and 26 hex categorical fields, tab-separated."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        ints = [str(rng.randint(0, 50)) for _ in range(13)]
        cats = [f"{rng.randint(0, 30):08x}" for _ in range(26)]
        lines.append("\t".join([str(rng.randint(0, 1)), *ints, *cats]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_run_config_with_pre_split_files_keeps_the_split(tmp_path: Path, capsys) -> None:
    rows = {"train": 300, "val": 70, "test": 50}
    for split, n in rows.items():
        _criteo_file(tmp_path / "raw" / f"{split}.txt", n, seed=n)
    conf = tmp_path / "conf" / "mine.yaml"
    conf.parent.mkdir()
    conf.write_text(
        "name: mine\nthreads: 1\nprogress: false\n"
        "data:\n  source: prepare\n  format: criteo\n  protocol: ratio\n  cap: 1000\n"
        "  files: {train: ../raw/train.txt, val: ../raw/val.txt, test: ../raw/test.txt}\n"
    )
    out = tmp_path / "run"
    assert main(["run", str(conf), "--out", str(out), "--stop-after", "data"]) == 0
    err = capsys.readouterr().err
    assert "notice: data.protocol 'ratio' keeps the given split of pre-split data" in err
    ref = json.loads((out / "data.json").read_text())
    assert ref["rows"] == rows  # every file is its split, nothing re-drawn
    meta = json.loads((Path(ref["cache"]) / "meta.json").read_text())
    assert {k: meta["inputs"][k]["rows"]["read"] for k in rows} == rows
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["data"]["files"]["val"] == str(tmp_path / "raw" / "val.txt")
    assert "# notice: data.protocol 'ratio'" in (out / "config.yaml").read_text()
    assert "- data.protocol 'ratio' keeps the given split" in (out / "report.md").read_text()


def test_a_dataset_without_a_recipe_gets_a_recorded_notice(tmp_path: Path, capsys) -> None:
    rng = random.Random(0)
    for split, n in (("train", 200), ("val", 40), ("test", 40)):
        rows = [f"{rng.randint(0, 1)},{rng.random():.3f},c{rng.randint(0, 9)}" for _ in range(n)]
        (tmp_path / f"{split}.csv").write_text("click,price,city\n" + "\n".join(rows) + "\n")
    (tmp_path / "shop.yaml").write_text("label: click\ndense: [price]\ncategorical: [city]\n")
    conf = tmp_path / "run.yaml"
    conf.write_text(
        "data:\n  source: prepare\n  format: table\n  schema: shop.yaml\n  protocol: vocab\n"
        "  files: {train: train.csv, val: val.csv, test: test.csv}\n"
        "supernet: {batch: 64, warmup: 0}\nfinal: {lr: 0.05}\n"
    )
    out = tmp_path / "run"
    assert main(["run", str(conf), "--out", str(out), "--stop-after", "data", "--no-progress"]) == 0
    note = ("dataset 'shop' has no recipe of its own: final.batch follow Criteo's defaults")
    assert f"notice: {note}" in capsys.readouterr().err
    state = json.loads((out / "state.json").read_text())
    assert any(note in n for n in state["stages"]["data"]["summary"]["notices"])
    assert f"- {note}" in (out / "report.md").read_text()  # the report lists it too
