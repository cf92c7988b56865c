"""Bad bytes and values: invalid UTF-8, a truncated gzip, dense NaN, BOMs, duplicate headers, schema
values, and error texts that name the format in force."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from _data_lines import criteo_line
from _data_lines import many_criteo_lines
from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.errors import ConfigError
from recnas.errors import DataError

LOOSE = PrepareOptions(protocol="ratio", max_bad_fraction=0.1)


def _table(tmp_path: Path, header: str, rows: list[str], *, bom: bool = False,
           schema: str = "label: label\ndense: [x]\ncategorical: [city]\n") -> tuple[Path, Path]:
    data = tmp_path / "t.csv"
    data.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join([header, *rows]) + "\n").encode())
    s = tmp_path / "s.yaml"
    s.write_text(schema)
    return data, s


def test_invalid_utf8_is_a_counted_bad_row(tmp_path):
    lines = [ln.encode() for ln in many_criteo_lines(60)]
    fields = lines[9].split(b"\t")
    fields[16] = b"ab\xff\xfe"
    lines[9] = b"\t".join(fields)
    p = tmp_path / "raw.txt"
    p.write_bytes(b"\n".join(lines) + b"\n")
    res = prepare_dataset(p, tmp_path / "c", options=LOOSE)
    assert res.summary["rejected_by_reason"] == {"invalid_utf8": 1}
    assert res.summary["rows"]["kept"] == 59
    assert any(e.startswith(f"{p}:10: field C3: not valid UTF-8") for e in res.summary["bad_examples"])
    # in a table's free-text column as well (it would otherwise be hashed as raw bytes)
    data, schema = _table(tmp_path, "label,x,city", [f"{i % 2},{i},c{i}" for i in range(30)])
    data.write_bytes(data.read_bytes().replace(b"c7\n", b"p\xe4ris\n"))
    res = prepare_dataset(data, tmp_path / "t", fmt="table", schema=schema, options=LOOSE)
    assert res.summary["rejected_by_reason"] == {"invalid_utf8": 1} and res.summary["rows"]["kept"] == 29


def test_truncated_gzip_is_one_line_naming_the_file_and_last_good_line(tmp_path):
    text = ("\n".join(many_criteo_lines(4000)) + "\n").encode()
    p = tmp_path / "raw.txt.gz"
    gz = gzip.compress(text)
    p.write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataError) as e:
        prepare_dataset(p, tmp_path / "c")
    msg = str(e.value)
    assert msg.startswith(f"{p}: the gzip stream ends early") and "\n" not in msg
    good = int(msg.split("after line ")[1].split()[0])
    assert 0 < good < 4000
    assert not (tmp_path / "c").exists()


def test_dense_nan_is_kept_as_missing_and_counted(tmp_path):
    lines = many_criteo_lines(40)
    lines[3] = criteo_line(dense0="nan")
    lines[5] = criteo_line(dense0="NaN")
    lines[6] = criteo_line(dense0="inf")
    p = tmp_path / "raw.txt"
    p.write_text("\n".join(lines) + "\n")
    res = prepare_dataset(p, tmp_path / "c", options=PrepareOptions(protocol="ratio", shuffle=False,
                                                                     max_bad_fraction=0.1))
    meta = res.cache.meta
    assert meta["dense_nan_as_missing"] == 2 and meta["inputs"]["input"]["dense_nan_as_missing"] == 2
    assert meta["rejected_by_reason"] == {"bad_dense": 1}  # inf is rejected
    tr = res.cache.split("train").dense
    assert tr[3, 0] == 0.0 and tr[5, 0] == 0.0  # nan -> missing -> 0 after the transform


def test_bom_in_table_and_avazu_headers_is_not_part_of_the_first_name(tmp_path):
    data, schema = _table(tmp_path, "label,x,city", [f"{i % 2},{i},c{i}" for i in range(30)], bom=True)
    res = prepare_dataset(data, tmp_path / "t", fmt="table", schema=schema, options=LOOSE)
    assert res.summary["rows"]["kept"] == 30
    from recnas.data._formats import AVAZU_COLUMNS

    rows = [",".join([str(10**19 + i), str(i % 2), "14102100"] + ["1"] * (len(AVAZU_COLUMNS) - 3))
            for i in range(30)]
    av = tmp_path / "av.csv"
    av.write_bytes(b"\xef\xbb\xbf" + ("\n".join([",".join(AVAZU_COLUMNS), *rows]) + "\n").encode())
    res = prepare_dataset(av, tmp_path / "a", fmt="avazu",
                          options=PrepareOptions(protocol="ratio", keep_id=True))
    assert res.summary["rows"]["kept"] == 30 and res.cache.schema.sparse[0] == "id"


def test_duplicate_header_names_are_an_error_naming_both_positions(tmp_path):
    data, schema = _table(tmp_path, "label,city,x,city", [f"{i % 2},a,{i},b" for i in range(30)])
    with pytest.raises(DataError, match=r"line 1: column 'city' appears twice \(columns 2 and 4\)"):
        prepare_dataset(data, tmp_path / "t", fmt="table", schema=schema, options=LOOSE)


@pytest.mark.parametrize("yaml_text, where", [
    ("label: label\ndense: [x]\ncategorical: [city]\ntable_size: big\n", ":4: table_size: table size must be"),
    ("label: label\ncategorical: [city]\ntable_sizes:\n  city: -3\n", ":4: table_sizes.city: table size must"),
    ("label: label\ndense: x\ncategorical: [city]\n", ":2: dense: must be a list"),
    ("label: label\ncategorical: [city]\nheader: maybe\n", ":3: header: must be true or false"),
    ("label: label\ncategorical: [city]\nlabel: city\n", ":3: label: duplicate key (first on line 1)"),
])
def test_schema_values_are_validated_with_file_and_line(tmp_path, yaml_text, where):
    data, schema = _table(tmp_path, "label,x,city", ["1,2,a"], schema=yaml_text)
    with pytest.raises(ConfigError) as e:
        prepare_dataset(data, tmp_path / "t", fmt="table", schema=schema, options=LOOSE)
    assert str(e.value).startswith(f"{schema}{where}") and "\n" not in str(e.value)


def test_label_errors_name_the_rule_of_the_format_in_force(tmp_path):
    data, schema = _table(tmp_path, "label,x,city", [f"{2 if i == 4 else i % 2},{i},c{i}" for i in range(30)])
    res = prepare_dataset(data, tmp_path / "t", fmt="table", schema=schema, options=LOOSE)
    (example,) = res.summary["bad_examples"]
    assert "field label: label must be 0 or 1, got '2'" in example and "KDD" not in example
    data.write_text(data.read_text().replace("\n2,", "\n-1,"))
    schema.write_text("label: label\nlabel_kind: count\ndense: [x]\ncategorical: [city]\n")
    res = prepare_dataset(data, tmp_path / "u", fmt="table", schema=schema, options=LOOSE)
    assert "click count" in res.summary["bad_examples"][0]
    assert np.isfinite(res.cache.split("train").dense).all()
