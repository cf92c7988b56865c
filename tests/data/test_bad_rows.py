"""Bad input (issue item 7): every case is counted by reason with file:line:field, or is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.errors import DataError

from _data_lines import criteo_line
from _data_lines import many_criteo_lines

LOOSE = PrepareOptions(max_bad_fraction=0.5)


def _prep(path: Path, tmp: Path, opts: PrepareOptions = LOOSE):
    return prepare_dataset(path, tmp / "cache", options=opts).summary


@pytest.mark.parametrize("bad_line, reason, field", [
    ("1\t2\t3", "wrong_field_count", "3 fields"),
    (criteo_line(dense0="abc"), "bad_dense", "field I1"),
    (criteo_line(cat0="2.87E+05"), "bad_categorical", "field C1"),
    (criteo_line(cat0="68fd1e6z"), "bad_categorical", "field C1"),
    (criteo_line(label="2"), "bad_label", "field label"),
    (criteo_line(label="yes"), "bad_label", "field label"),
    ("", "blank_line", "blank line"),
])
def test_bad_row_is_skipped_counted_and_located(criteo_file, tmp_path, bad_line, reason, field):
    lines = many_criteo_lines(30)
    lines.insert(12, bad_line)
    s = _prep(criteo_file(lines), tmp_path)
    assert s["rows"] == {**s["rows"], "read": 31, "kept": 30, "rejected": 1}
    assert s["rejected_by_reason"] == {reason: 1}
    assert s["bad_examples"][0].endswith(s["bad_examples"][0].split(": ", 1)[1])
    assert ":13: " in s["bad_examples"][0] and field in s["bad_examples"][0]


def test_line_numbers_after_earlier_wrong_field_count_rows(criteo_file, tmp_path):
    lines = many_criteo_lines(40)
    lines[3] = "0\t1"
    lines[5] = "1"
    lines[20] = criteo_line(cat0="nothex!!")
    s = _prep(criteo_file(lines), tmp_path)
    assert s["rejected_by_reason"] == {"wrong_field_count": 2, "bad_categorical": 1}
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in s["bad_examples"]] == ["4", "6", "21"]


def test_fail_policy_stops_at_first_bad_row_with_location(criteo_file, tmp_path):
    lines = many_criteo_lines(30)
    lines[7] = criteo_line(dense0="x1")
    lines[9] = "short"
    path = criteo_file(lines)
    with pytest.raises(DataError, match=rf"{path.name}:8: field I1: not a number"):
        _prep(path, tmp_path, PrepareOptions(on_bad_row="fail"))


def test_fail_policy_reports_wrong_field_count_first_when_it_comes_first(criteo_file, tmp_path):
    lines = many_criteo_lines(30)
    lines[2] = "a\tb"
    lines[9] = criteo_line(label="7")
    with pytest.raises(DataError, match=r":3: 2 fields"):
        _prep(criteo_file(lines), tmp_path, PrepareOptions(on_bad_row="fail"))


def test_too_many_bad_rows_fail_with_summary(criteo_file, tmp_path):
    lines = many_criteo_lines(100)
    lines[10] = criteo_line(label="3")
    with pytest.raises(DataError, match=r"1 of 100 rows rejected .* --max-bad-fraction 0.001.*bad_label"):
        _prep(criteo_file(lines), tmp_path, PrepareOptions())
    assert not (tmp_path / "cache").exists()  # nothing half-written
    s = _prep(criteo_file(lines), tmp_path, PrepareOptions(max_bad_fraction=0.01))
    assert s["rows"]["read"] == s["rows"]["kept"] + s["rows"]["rejected"] == 100


def test_crlf_is_accepted(criteo_file, tmp_path):
    s = _prep(criteo_file(many_criteo_lines(30), eol="\r\n"), tmp_path)
    assert s["rows"]["kept"] == 30 and s["rows"]["rejected"] == 0


def test_truncated_last_line(criteo_file, tmp_path):
    lines = many_criteo_lines(30)
    lines[-1] = lines[-1][:25]
    s = _prep(criteo_file(lines, final_eol=False), tmp_path)
    assert s["rejected_by_reason"] == {"truncated_last_line": 1}
    assert ":30: " in s["bad_examples"][0] and "truncated" in s["bad_examples"][0]


def test_missing_final_newline_on_a_complete_line_is_fine(criteo_file, tmp_path):
    s = _prep(criteo_file(many_criteo_lines(30), final_eol=False), tmp_path)
    assert s["rows"]["kept"] == 30 and s["rows"]["rejected"] == 0


def test_trailing_blank_lines_are_counted(criteo_file, tmp_path):
    s = _prep(criteo_file(many_criteo_lines(30) + ["", ""]), tmp_path)
    assert s["rows"]["read"] == 32 and s["rejected_by_reason"] == {"blank_line": 2}


def test_empty_and_missing_files_are_one_line_errors(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.txt: file is empty"):
        _prep(tmp_path / "empty.txt", tmp_path)
    with pytest.raises(DataError, match=r"nope.txt: no such file"):
        _prep(tmp_path / "nope.txt", tmp_path)


def test_header_only_avazu_and_missing_columns(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("id,click,hour\n1,0,14102100\n")
    with pytest.raises(DataError, match=r"a.csv: line 1: missing columns"):
        prepare_dataset(p, tmp_path / "c", fmt="avazu")


def test_avazu_line_numbers_count_the_header(shared_dir, tmp_path):
    lines = (shared_dir / "data/avazu/avazu_sample.csv").read_text().splitlines()[:40]
    lines[4] = "1,2,3"  # file line 5
    lines[8] = lines[8].replace(",14102100,", ",14102100x,")  # file line 9
    p = tmp_path / "a.csv"
    p.write_text("\n".join(lines) + "\n")
    s = prepare_dataset(p, tmp_path / "c", fmt="avazu", options=PrepareOptions(max_bad_fraction=0.5)).summary
    assert s["rows"] == {**s["rows"], "read": 39, "kept": 37, "rejected": 2}
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in s["bad_examples"]] == ["5", "9"]
    assert "3 fields (expected 24)" in s["bad_examples"][0] and "field hour" in s["bad_examples"][1]


def test_trimmed_trailing_empty_fields_are_wrong_field_count(criteo_file, tmp_path):
    """Some copies of train.txt drop trailing empty fields (37-39 fields): rejected, never misaligned."""
    lines = many_criteo_lines(30)
    lines[2] = "\t".join(lines[2].split("\t")[:38])
    s = _prep(criteo_file(lines), tmp_path)
    assert s["rejected_by_reason"] == {"wrong_field_count": 1} and "38 fields (expected 40)" in s["bad_examples"][0]
