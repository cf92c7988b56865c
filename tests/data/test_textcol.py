"""Vectorised parsing of hex, decimal-or-hex (mod 2^31-1), floats and labels (data.md §2.2, §2.4)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from recnas.data import _textcol as tc

P = 2147483647


def test_hex32_hand_checked_values():
    vals, bad = tc.parse_hex32(pa.array(["68fd1e64", "ffffffff", "", "00000001", "ABCDEF01", "3280284"]))
    assert vals.tolist() == [0x68FD1E64, 0xFFFFFFFF, -1, 1, 0xABCDEF01, 0x3280284]
    assert not bad.any()


def test_hex32_rejects_non_hex_and_spreadsheet_mangling():
    vals, bad = tc.parse_hex32(pa.array(["2.87E+05", "68fd1e6g", "123456789", "68fd1e64", "zz"]))
    assert bad.tolist() == [True, True, True, False, True]
    assert vals[3] == 0x68FD1E64


def test_hex32_on_sliced_array_uses_the_right_bytes():
    arr = pa.array(["00000002", "0000000a", "", "0000ffff"]).slice(1)
    assert tc.parse_hex32(arr)[0].tolist() == [10, -1, 0xFFFF]


def test_int_mod_matches_python_semantics():
    raw = ["1000009418151094273", "18446744073709551615", "-1", "1fbe01fe", "12345678", "14102100", "", "0"]
    vals, bad = tc.parse_int_mod(pa.array(raw))
    want = [int(x) % P for x in raw[:3]] + [int("1fbe01fe", 16) % P, 12345678, 14102100, -1, 0]
    assert vals.tolist() == want
    assert not bad.any()


def test_int_mod_invalid_and_hashed_strings():
    vals, bad = tc.parse_int_mod(pa.array(["abc!", "12"]))
    assert bad.tolist() == [True, False] and vals[1] == 12
    h1, b1 = tc.parse_int_mod(pa.array(["tokyo", "paris", "tokyo"]), hash_strings=True)
    assert not b1.any() and h1[0] == h1[2] != h1[1] and (h1 >= 0).all() and (h1 < P).all()


def test_parse_float_missing_and_bad():
    vals, bad = tc.parse_float(pa.array(["1", "", "-2", "5.0", "abc", "1e3"]))
    assert bad.tolist() == [False, False, False, False, True, False]
    assert vals[0] == 1 and np.isnan(vals[1]) and vals[2] == -2 and vals[3] == 5 and vals[5] == 1000


def test_labels():
    lab, bad = tc.parse_label01(pa.array(["1", "0", "2", "", " 1", "0"]))
    assert lab.tolist()[:2] == [1, 0] and bad.tolist() == [False, False, True, True, True, False]
    cnt, bad = tc.parse_count_positive(pa.array(["0", "3", "-1", "x"]))
    assert cnt.tolist()[:2] == [0, 1] and bad.tolist() == [False, False, True, True]
