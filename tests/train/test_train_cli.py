"""CLI smoke test on a real synthetic cache: supernet train -> train -> study ranking."""

from __future__ import annotations

import json

import pytest

from recnas.cli.main import main


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from recnas.data import synth_cache

    return synth_cache(tmp_path_factory.mktemp("c") / "cache", rows=1000, seed=0, table_cap=100)


def test_cli_supernet_train_and_study(synth, tmp_path, capsys):
    assert (
        main(
            [
                "supernet",
                "train",
                "--data",
                str(synth),
                "--out",
                str(tmp_path / "sn"),
                "--space",
                "small",
                "--max-steps",
                "2",
                "--batch-size",
                "32",
                "--warmup-steps",
                "0",
                "--log-every",
                "1",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["steps"] == 2 and (tmp_path / "sn" / "supernet.pt").is_file()
    assert (
        main(
            [
                "space",
                "sample",
                "--space",
                "small",
                "--seed",
                "1",
                "--out",
                str(tmp_path / "a.json"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "train",
                str(tmp_path / "a.json"),
                "--data",
                str(synth),
                "--out",
                str(tmp_path / "t"),
                "--max-steps",
                "2",
                "--batch-size",
                "32",
                "--test",
            ]
        )
        == 0
    )
    m = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert m["val"]["rows"] > 0 and m["test"]["rows"] > 0 and m["steps"] == 2
    assert (
        main(
            [
                "study",
                "ranking",
                "--supernet",
                str(tmp_path / "sn" / "supernet.pt"),
                "--data",
                str(synth),
                "--out",
                str(tmp_path / "st"),
                "--k",
                "3",
                "--max-epochs",
                "1",
                "--train-batch-size",
                "32",
                "--batch-size",
                "32",
                "--finetune-steps",
                "2",
                "--val-rows",
                "64",
            ]
        )
        == 0
    )
    assert (tmp_path / "st" / "ranking.md").is_file()


def test_cli_bad_checkpoint_is_one_line(synth, tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    rc = main(
        [
            "study",
            "ranking",
            "--supernet",
            str(bad),
            "--data",
            str(synth),
            "--out",
            str(tmp_path / "st"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "corrupted" in err and len(err.splitlines()) == 1
