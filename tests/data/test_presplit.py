"""Pre-split data as it ships: --train/--val/--test files, a split column, exact ratio row counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _data_lines import criteo_line
from _data_lines import many_criteo_lines
from recnas.cli.main import main
from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.errors import ConfigError


def _criteo(path: Path, i1: list[int], *, cat0: list[str] | None = None, bad: int | None = None) -> Path:
    """Criteo rows whose I1 values are `i1` (so the order in the cache can be read back)."""
    lines = [criteo_line(str(k % 2), dense0=str(v), cat0=(cat0[k] if cat0 else f"{v:08x}"))
             for k, v in enumerate(i1)]
    if bad is not None:
        lines[bad] = criteo_line(cat0="XYZ")
    path.write_text("\n".join(lines) + "\n")
    return path


def _i1(cache, split: str) -> list[int]:
    return np.rint(np.expm1(np.asarray(cache.split(split).dense[:, 0], np.float64))).astype(int).tolist()


def _three(tmp_path: Path, **kw) -> dict[str, Path]:
    return {"train": _criteo(tmp_path / "tr.txt", list(range(0, 200)), **kw),
            "val": _criteo(tmp_path / "va.txt", list(range(1000, 1050)), bad=7),
            "test": _criteo(tmp_path / "te.txt", list(range(2000, 2060)))}


@pytest.mark.parametrize("protocol", ["nasrec", "ratio", "vocab"])
def test_presplit_files_keep_the_split_in_file_order_and_count_rows_per_file(tmp_path, protocol):
    files = _three(tmp_path)
    res = prepare_dataset(None, tmp_path / "c", files=files,
                          options=PrepareOptions(protocol=protocol, max_bad_fraction=0.05))
    c = res.cache
    assert _i1(c, "train") == list(range(0, 200))
    assert _i1(c, "val") == [v for k, v in enumerate(range(1000, 1050)) if k != 7]
    assert _i1(c, "test") == list(range(2000, 2060))
    meta = json.loads((tmp_path / "c/meta.json").read_text())
    assert meta["rows"] == {"read": 310, "kept": 309, "rejected": 1, "train": 200, "val": 49, "test": 60}
    assert meta["inputs"]["val"]["rows"] == {"read": 50, "kept": 49, "rejected": 1}
    assert meta["inputs"]["val"]["rejected_by_reason"] == {"bad_categorical": 1}
    assert meta["inputs"]["train"]["rows"] == {"read": 200, "kept": 200, "rejected": 0}
    assert meta["inputs"]["test"]["path"] == str(files["test"])
    assert meta["split"]["source"] == "files"
    assert meta["split"]["rows"]["val"] == {"kept": 49, "rejected": 1}
    note = " ".join(meta["split"]["notices"])
    assert ("fitted on the train rows only" if protocol == "vocab" else "not re-drawn") in note
    assert set(meta["source"]["files"]) == {"train", "val", "test"}
    assert prepare_dataset(None, tmp_path / "c", files=files,
                           options=PrepareOptions(protocol=protocol, max_bad_fraction=0.05)).reused


def test_presplit_vocab_is_fitted_on_the_train_file_only(tmp_path):
    shared = "0000aaaa"
    files = {"train": _criteo(tmp_path / "tr.txt", list(range(40)), cat0=[shared] * 40),
             "val": _criteo(tmp_path / "va.txt", list(range(10)), cat0=["0000bbbb"] * 5 + [shared] * 5),
             "test": _criteo(tmp_path / "te.txt", list(range(10)), cat0=["0000cccc"] * 10)}
    c = prepare_dataset(None, tmp_path / "c", files=files, options=PrepareOptions(protocol="vocab")).cache
    assert c.schema.table_sizes[0] == 1 + 2  # one train value, plus padding and OOV
    assert c.split("val").sparse[:5, 0].tolist() == [1] * 5  # unseen in train: OOV
    assert c.split("val").sparse[5:, 0].tolist() == [2] * 5
    assert c.split("test").sparse[:, 0].tolist() == [1] * 10


def test_split_column_keeps_each_rows_split_and_counts_bad_values(tmp_path):
    rows = ["label,x,city,part"]
    want: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    names = ["train", "valid", "TEST", "Train"]
    for i in range(400):
        part = names[i % 4]
        rows.append(f"{i % 2},{i},c{i % 7},{part}")
        want[{"valid": "val"}.get(part, part.lower())].append(i)
    rows.append("1,9999,c1,holdout")
    rows.append("5,9998,c1,valid")  # a bad label in a val row: rejected, and counted under val
    data = tmp_path / "t.csv"
    data.write_text("\n".join(rows) + "\n")
    schema = tmp_path / "s.yaml"
    schema.write_text("label: label\ndense: [x]\ncategorical: [city]\n")
    res = prepare_dataset(data, tmp_path / "c", fmt="table", schema=schema,
                          options=PrepareOptions(protocol="ratio", split_column="part", max_bad_fraction=0.01))
    for s in ("train", "val", "test"):
        assert _i1(res.cache, s) == want[s]
    meta = res.cache.meta
    assert meta["rejected_by_reason"] == {"bad_label": 1, "bad_split": 1} and meta["split"]["source"] == "column"
    assert meta["split"]["column"] == "part"
    assert meta["split"]["rows"] == {"train": {"kept": 200, "rejected": 0}, "val": {"kept": 100, "rejected": 1},
                                     "test": {"kept": 100, "rejected": 0}, "unknown_rejected": 1}
    assert any("t.csv:402: field part: split must be one of" in e for e in meta["bad_examples"])


def test_options_that_would_resplit_presplit_data_are_errors(tmp_path):
    files = _three(tmp_path)
    for opts in (PrepareOptions(protocol="ratio", ratios=(0.5, 0.25, 0.25)),
                 PrepareOptions(protocol="ratio", shuffle=False), PrepareOptions(reference_offbyone=True),
                 PrepareOptions(protocol="ratio", split_rows=(100, 50, -1))):
        with pytest.raises(ConfigError, match="would re-split"):
            prepare_dataset(None, tmp_path / "c", files=files, options=opts)
    with pytest.raises(ConfigError, match="exactly the keys train, val, test"):
        prepare_dataset(None, tmp_path / "c", files={"train": files["train"], "test": files["test"]})
    with pytest.raises(ConfigError, match="either one input file or pre-split files"):
        prepare_dataset(files["train"], tmp_path / "c", files=files)
    with pytest.raises(ConfigError, match="no header, so they cannot carry a split column"):
        prepare_dataset(files["train"], tmp_path / "c", options=PrepareOptions(split_column="part"))
    assert not (tmp_path / "c").exists()


def test_ratio_split_exact_row_counts_and_rounding_is_reported(tmp_path):
    p = tmp_path / "raw.txt"
    p.write_text("\n".join(many_criteo_lines(1003)) + "\n")
    res = prepare_dataset(p, tmp_path / "a", options=PrepareOptions(protocol="ratio"))
    r = res.summary["rows"]
    assert (r["train"], r["val"], r["test"]) == (802, 100, 101)
    assert any("rounded to 802/100/101" in n for n in res.summary["split"]["notices"])
    res = prepare_dataset(p, tmp_path / "b", options=PrepareOptions(protocol="ratio", split_rows=(800, 3, -1)))
    r = res.summary["rows"]
    assert (r["train"], r["val"], r["test"]) == (800, 3, 200) and res.summary["split"]["notices"] == []
    with pytest.raises(ConfigError, match="do not add up to the 1003 rows"):
        prepare_dataset(p, tmp_path / "d", options=PrepareOptions(protocol="ratio", split_rows=(800, 100, 100)))
    with pytest.raises(ConfigError, match="ratio protocol"):
        prepare_dataset(p, tmp_path / "d", options=PrepareOptions(protocol="nasrec", split_rows=(800, 100, -1)))


def test_cli_presplit_files_and_repeated_or_mixed_inputs(tmp_path, capsys):
    files = _three(tmp_path)
    args = ["prepare", "--format", "criteo", "--out", str(tmp_path / "c"), "--max-bad-fraction", "0.05"]
    assert main([*args, "--train", str(files["train"]), "--val", str(files["val"]),
                 "--test", str(files["test"])]) == 0
    out = capsys.readouterr().out
    assert "splits: train 200, val 49, test 60" in out
    assert f"val: {files['val']}: read 50 = kept 49 + rejected 1" in out and "notice: split kept" in out
    assert main([*args, "--input", str(files["train"]), "--input", str(files["val"])]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--input given twice" in err
    assert main([*args, "--input", str(files["train"]), "--train", str(files["train"])]) == 2
    assert "either --input or --train/--val/--test" in capsys.readouterr().err
    assert main([*args, "--train", str(files["train"]), "--test", str(files["test"])]) == 2
    assert "missing --val" in capsys.readouterr().err
    assert main([*args, "--input", str(files["train"]), "--protocol", "ratio", "--split-rows", "150,25,-1"]) == 0
    assert "splits: train 150, val 25, test 25" in capsys.readouterr().out
