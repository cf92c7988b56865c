"""Vectorised text-to-integer conversion of Arrow string columns (data.md §2.2, §2.4).

No Python loop runs per row: every string is right-aligned into a fixed-width byte matrix and
digits are combined column by column, so a whole Arrow batch converts in a few numpy passes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MOD_P = 2147483647  # the reference's modulus for Avazu/KDD ids (data.md §2.2)

_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
_DEC = np.full(256, 255, dtype=np.uint8)
_DEC[np.frombuffer(b"0123456789", dtype=np.uint8)] = np.arange(10, dtype=np.uint8)


def as_string_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous string (or large_string) array, whatever came in."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.string())
    if col.null_count:
        col = pc.fill_null(col, "")
    return col


def lengths_and_bytes(col: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start offsets, lengths, data bytes) of a string array, zero-copy where possible."""
    off_type = np.int64 if pa.types.is_large_string(col.type) else np.int32
    bufs = col.buffers()
    n = len(col)
    offsets = np.frombuffer(bufs[1], dtype=off_type, count=n + 1, offset=col.offset * np.dtype(off_type).itemsize)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(1, np.uint8)
    starts = offsets[:-1].astype(np.int64)
    lens = (offsets[1:] - offsets[:-1]).astype(np.int64)
    return starts, lens, data


def right_aligned(starts: np.ndarray, lens: np.ndarray, data: np.ndarray, width: int,
                  pad: int = ord("0")) -> np.ndarray:
    """[n, width] uint8 matrix: each string's last `width` bytes, left-padded with `pad`."""
    ends = starts + lens
    idx = ends[:, None] - width + np.arange(width, dtype=np.int64)[None, :]  # [n, width]
    inside = idx >= starts[:, None]
    if data.size == 0:
        return np.full(idx.shape, pad, dtype=np.uint8)
    mat = data[np.clip(idx, 0, data.size - 1)]
    mat[~inside] = pad
    return mat


def parse_hex32(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Hex strings of 1-8 digits -> (int64 values, -1 where empty; bool mask of invalid entries)."""
    col = as_string_array(col)
    starts, lens, data = lengths_and_bytes(col)
    fast = _hex32_fast(starts, lens, data)
    if fast is not None:
        return fast
    mat = _HEX[right_aligned(starts, lens, data, 8)]  # [n, 8] digit values, 255 = not hex
    bad = (mat == 255).any(axis=1) | (lens > 8)
    val = np.zeros(len(col), dtype=np.int64)
    for k in range(8):
        val = (val << 4) | mat[:, k]
    val[lens == 0] = -1
    bad &= lens > 0
    val[bad] = -1
    return val, bad


def _hex32_fast(starts: np.ndarray, lens: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Common case, every entry empty or exactly 8 hex digits: the non-empty strings lie back to back
    in Arrow's data buffer, so they are read as one [k, 8] byte matrix without gathering."""
    full = lens == 8
    k = int(full.sum())
    if not (full | (lens == 0)).all() or k == 0:
        return None
    lo = int(starts[np.argmax(full)])
    c = data[lo:lo + 8 * k]
    if c.size != 8 * k:
        return None
    u8 = np.uint8
    if (((c - u8(48)) > u8(9)) & (((c | u8(32)) - u8(97)) > u8(5))).any():
        return None  # some entry is not hex: the slow path says which
    nib = (c & u8(15)) + (c >> u8(6)) * u8(9)  # '0'-'9' -> 0-9, 'a'-'f'/'A'-'F' -> 10-15
    pairs = nib.view("<u2")  # [4k]: low byte = first digit of each pair
    packed = (((pairs & np.uint16(0xFF)) << np.uint16(4)) | (pairs >> np.uint16(8))).astype(np.uint8)
    val = np.full(len(lens), -1, dtype=np.int64)
    val[full] = packed.view(">u4")  # 4 bytes per id, most significant first
    return val, np.zeros(len(lens), dtype=bool)


def parse_int_mod(col: pa.Array, *, mod: int = MOD_P, hash_strings: bool = False,
                  width: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Decimal (else hex) strings -> value mod `mod` as Python's % would give (data.md §2.2).

    Empty -> -1. A string that is neither decimal nor hex is invalid, or, with `hash_strings`,
    hashed (FNV-1a over its bytes) into [0, mod). Returns (int64 values, invalid mask).
    """
    col = as_string_array(col)
    starts, lens, data = lengths_and_bytes(col)
    n = len(col)
    first = data[np.clip(starts, 0, max(data.size - 1, 0))] if data.size else np.zeros(n, np.uint8)
    neg = (first == ord("-")) & (lens > 1)
    body_starts, body_lens = starts + neg, lens - neg
    mat = right_aligned(body_starts, body_lens, data, width)
    dec, hexd = _DEC[mat], _HEX[mat]
    too_long = body_lens > width
    is_dec = ~(dec == 255).any(axis=1) & ~too_long
    is_hex = ~is_dec & ~neg & ~(hexd == 255).any(axis=1) & ~too_long
    dec_val = _combine_mod(np.where(dec == 255, 0, dec), 10, mod)
    hex_val = _combine_mod(np.where(hexd == 255, 0, hexd), 16, mod)
    val = np.where(is_dec, dec_val, hex_val)
    val = np.where(neg & is_dec, (mod - val) % mod, val)  # Python semantics: (-x) % p >= 0
    bad = ~(is_dec | is_hex) & (lens > 0)
    if hash_strings and bad.any():
        val[bad] = fnv1a(starts[bad], lens[bad], data) % mod
        bad[:] = False
    val[lens == 0] = -1
    val[bad] = -1
    return val, bad


def _combine_mod(digits: np.ndarray, base: int, mod: int) -> np.ndarray:
    """Horner's rule column by column, reduced mod `mod` at every step (no overflow: mod < 2^31)."""
    val = np.zeros(digits.shape[0], dtype=np.int64)
    for k in range(digits.shape[1]):
        val = (val * base + digits[:, k]) % mod
    return val


def fnv1a(starts: np.ndarray, lens: np.ndarray, data: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a of each byte string, returned as non-negative int64 (a loop over positions)."""
    h = np.full(starts.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    width = int(lens.max()) if lens.size else 0
    with np.errstate(over="ignore"):
        for k in range(width):
            live = lens > k
            b = data[np.clip(starts + k, 0, data.size - 1)].astype(np.uint64)
            h = np.where(live, (h ^ b) * np.uint64(0x100000001B3), h)
    return (h >> np.uint64(1)).astype(np.int64)


def parse_float(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Numeric strings -> (float64 values, NaN where empty; invalid mask). Fast path via Arrow cast."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        arr = np.array(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        bad = np.isinf(arr)
        arr[bad] = np.nan
        return arr, bad
    col = as_string_array(col)
    empty = pc.equal(col, "")
    nulled = pc.if_else(empty, pa.scalar(None, col.type), col)
    try:
        vals = pc.cast(nulled, pa.float64())
        bad = np.zeros(len(col), dtype=bool)
    except pa.ArrowInvalid:
        # rare path: find the unparsable entries with a regex, then cast the rest
        ok = pc.match_substring_regex(nulled, r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
        ok = pc.fill_null(ok, True)
        bad = ~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)
        vals = pc.cast(pc.if_else(ok, nulled, pa.scalar(None, col.type)), pa.float64())
    out = np.array(vals.to_numpy(zero_copy_only=False), dtype=np.float64)
    bad |= ~np.isfinite(out) & ~np.isnan(out)
    out[bad] = np.nan
    return out, bad


def parse_label01(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Labels that must be exactly '0' or '1' -> (int8 labels, invalid mask)."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type):
        arr = np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        bad = ~((arr == 0) | (arr == 1))
        return np.where(bad, 0, arr).astype(np.int8), bad
    col = as_string_array(col)
    one = np.asarray(pc.equal(col, "1").to_numpy(zero_copy_only=False), dtype=bool)
    zero = np.asarray(pc.equal(col, "0").to_numpy(zero_copy_only=False), dtype=bool)
    return one.astype(np.int8), ~(one | zero)


def parse_count_positive(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Click counts (KDD) -> (int8 label = count > 0, invalid mask for non-integer or negative)."""
    vals, bad = parse_float(col)
    bad |= np.isnan(vals) | (vals < 0) | (vals != np.floor(np.nan_to_num(vals)))
    return (np.nan_to_num(vals) > 0).astype(np.int8), bad


def invalid_utf8(col: pa.Array) -> np.ndarray:
    """Mask of string entries that are not valid UTF-8 (the CSV reader is told not to check them).

    Only entries holding a byte >= 0x80 can be invalid, so plain-ASCII columns cost one vector test."""
    n = len(col)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return np.zeros(n, dtype=bool)
    col = as_string_array(col)
    starts, lens, data = lengths_and_bytes(col)
    bad = np.zeros(n, dtype=bool)
    high = data >= 0x80
    if not high.any():
        return bad
    csum = np.concatenate([[0], np.cumsum(high, dtype=np.int64)])
    for r in np.flatnonzero(csum[starts + lens] - csum[starts] > 0):
        try:
            data[starts[r]:starts[r] + lens[r]].tobytes().decode("utf-8")
        except UnicodeDecodeError:
            bad[r] = True
    return bad


def nonempty(col: pa.Array) -> np.ndarray:
    """Mask of entries that hold a value (not null, not the empty string)."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        _, lens, _ = lengths_and_bytes(as_string_array(col))
        return lens > 0
    return ~np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
