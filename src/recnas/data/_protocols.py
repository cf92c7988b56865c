"""Protocols: split assignment (NASRec folds, ratio), encodings (hashing, vocabulary) (data.md §2, §3)."""

from __future__ import annotations

import numpy as np

from recnas.errors import ConfigError

SPLITS = ("train", "val", "test")
PROTOCOLS = ("nasrec", "vocab", "ratio")
NASREC_SEED = 2018


def nasrec_folds(labels: np.ndarray, *, seed: int = NASREC_SEED, n_splits: int = 10) -> np.ndarray:
    """Fold of each row, identical to scikit-learn's StratifiedKFold(10, shuffle=True, random_state=seed).

    This is sklearn's own `_make_test_folds` algorithm (tested against it), but with int8 arrays
    instead of int64 index arrays: about 4 bytes per row, so 45M Criteo labels stay well under 1 GiB.
    """
    y = np.asarray(labels)
    n = len(y)
    classes, first = np.unique(y, return_index=True)
    order = np.argsort(first, kind="stable")  # classes numbered by order of first appearance
    counts = np.array([int((y == classes[k]).sum()) for k in order], dtype=np.int64)
    if n < n_splits or np.all(counts < n_splits):
        raise ConfigError(f"the nasrec protocol needs at least {n_splits} rows of some class, "
                          f"got class counts {counts.tolist()}")
    # allocation[i, k]: rows of class k at positions i, i + n_splits, ... of the class-sorted labels
    starts = np.concatenate([[0], np.cumsum(counts)])
    allocation = np.array([[_count_congruent(starts[k], starts[k + 1], i, n_splits)
                            for k in range(len(counts))] for i in range(n_splits)])
    rng = np.random.RandomState(seed)
    folds = np.empty(n, dtype=np.int8)
    for k, c in enumerate(order):
        for_class = np.arange(n_splits, dtype=np.int8).repeat(allocation[:, k])
        rng.shuffle(for_class)  # same draws as sklearn's shuffle of its int64 array
        folds[y == classes[c]] = for_class
    return folds


def _count_congruent(lo: int, hi: int, i: int, m: int) -> int:
    """How many p in [lo, hi) have p % m == i."""
    def upto(x: int) -> int:
        return (x - i + m - 1) // m if x > i else 0
    return upto(hi) - upto(lo)


def assign_splits(labels: np.ndarray, *, protocol: str,
                  ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), shuffle: bool = True,
                  seed: int = NASREC_SEED, reference_offbyone: bool = False,
                  sizes: tuple[int, int, int] | None = None) -> np.ndarray:
    """Split id per row (0 train, 1 val, 2 test, -1 dropped); rows keep file order within a split.

    nasrec/vocab: folds 0-7 train, 8 val, 9 test. `reference_offbyone` reproduces the reference's
    Criteo/KDD scripts: row r takes the split of row r-1 and row 0 is dropped (data.md §2.1).
    ratio: `sizes` rows (else `ratios` of the rows, see ratio_sizes), drawn at random with `seed` or,
    without `shuffle`, in file order.
    """
    n = len(labels)
    if protocol in ("nasrec", "vocab"):
        folds = nasrec_folds(labels, seed=seed)
        split = np.where(folds <= 7, 0, np.where(folds == 8, 1, 2)).astype(np.int8)
        if reference_offbyone:
            split = np.concatenate([np.array([-1], np.int8), split[:-1]])
        return split
    if protocol != "ratio":
        raise ConfigError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    n_train, n_val, _ = sizes if sizes is not None else ratio_sizes(n, ratios)[0]
    order = np.full(n, 2, dtype=np.int8)
    order[:n_train] = 0
    order[n_train:n_train + n_val] = 1
    if shuffle:
        np.random.default_rng(seed).shuffle(order)  # a random split with exact sizes
    return order


def ratio_sizes(n: int, ratios: tuple[float, float, float],
                rows: tuple[int, int, int] | None = None) -> tuple[tuple[int, int, int], str | None]:
    """(train, val, test) row counts for `n` rows, and a notice when fractions had to be rounded.

    `rows` gives exact counts instead; one of them may be -1, meaning the rows left over."""
    if rows is not None:
        r = [int(x) for x in rows]
        if len(r) != 3 or any(x < -1 for x in r) or r.count(-1) > 1:
            raise ConfigError(f"split rows must be three counts >= 0 (one may be -1 = the rest), got {rows}")
        if -1 in r:
            r[r.index(-1)] = n - sum(x for x in r if x != -1)
        if min(r) < 0 or sum(r) != n:
            raise ConfigError(f"split rows {tuple(rows)} do not add up to the {n} rows kept; give counts "
                              "that sum to it, or -1 for one split to take the rest")
        return (r[0], r[1], r[2]), None
    f = np.asarray(ratios, dtype=np.float64)
    if f.shape != (3,) or (f < 0).any() or abs(f.sum() - 1) > 1e-6:
        raise ConfigError(f"ratios must be three non-negative numbers summing to 1, got {ratios}")
    n_train = int(round(f[0] * n))
    n_val = min(int(round(f[1] * n)), n - n_train)
    sizes = (n_train, n_val, n - n_train - n_val)
    exact = f * n
    if np.abs(exact - np.array(sizes)).max() > 1e-6:
        want = "/".join(f"{x:.6g}" for x in exact)
        return sizes, (f"ratios {'/'.join(f'{x:g}' for x in f)} of {n} rows are {want} rows, not whole "
                       f"numbers; rounded to {sizes[0]}/{sizes[1]}/{sizes[2]} (give exact counts with "
                       "--split-rows)")
    return sizes, None


def hash_rows(cats: np.ndarray, table_sizes: np.ndarray) -> np.ndarray:
    """Row ids fmod(v, N-1) + 1, missing (-1) -> 0 (data.md §2.4). cats int64 [n, F] -> int32."""
    m = (table_sizes.astype(np.int64) - 1).astype(np.uint32)  # [F]
    # raw ids are < 2^32 (Criteo hex) or < 2^31 (mod p): 32-bit division is several times faster
    rows = cats.astype(np.uint32) % m + np.uint32(1)
    rows[cats < 0] = 0
    return rows.view(np.int32)


def log_dense(dense: np.ndarray) -> np.ndarray:
    """ln(max(x, 0) + 1), missing -> 0 (data.md §2.3). float64 [n, D] -> float32."""
    x = np.nan_to_num(dense, nan=0.0)
    return np.log1p(np.maximum(x, 0.0)).astype(np.float32)


def ln2_buckets(dense: np.ndarray) -> np.ndarray:
    """BARS/FuxiCTR Criteo bucketing: x > 2 -> floor(ln(x)^2), else x; missing -> 0 (data.md §3)."""
    x = np.nan_to_num(dense, nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(x > 2, np.floor(np.log(np.maximum(x, 1.0)) ** 2), np.floor(x))
    # shift so that negative small values stay distinct non-negative ids (vocabulary keys)
    return (b.astype(np.int64) + 8)


class VocabBuilder:
    """Out-of-core per-field value counts on train rows; merges partial counts geometrically."""

    def __init__(self, num_fields: int) -> None:
        self.pending: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(num_fields)]
        self.merged: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0, np.int64))
                                                            for _ in range(num_fields)]

    def add(self, cats: np.ndarray) -> None:
        """Count the values of one chunk of train rows (cats int64 [n, F], -1 = missing, ignored)."""
        for j in range(cats.shape[1]):
            col = cats[:, j]
            vals, cnt = np.unique(col[col >= 0], return_counts=True)
            self.pending[j].append((vals, cnt))
            if sum(len(v) for v, _ in self.pending[j]) > max(len(self.merged[j][0]), 1 << 16):
                self._merge(j)

    def _merge(self, j: int) -> None:
        parts = [self.merged[j]] + self.pending[j]
        vals = np.concatenate([p[0] for p in parts])
        cnt = np.concatenate([p[1] for p in parts])
        u, inv = np.unique(vals, return_inverse=True)
        self.merged[j] = (u, np.bincount(inv, weights=cnt, minlength=len(u)).astype(np.int64))
        self.pending[j] = []

    def finalize(self, *, min_count: int, max_size: int | None = None) -> list[np.ndarray]:
        """Sorted kept values per field: count >= min_count, at most max_size - 2 most frequent."""
        out = []
        for j in range(len(self.pending)):
            self._merge(j)
            vals, cnt = self.merged[j]
            keep = cnt >= min_count
            vals, cnt = vals[keep], cnt[keep]
            if max_size is not None and len(vals) > max_size - 2:
                top = np.lexsort((vals, -cnt))[: max_size - 2]
                vals = np.sort(vals[top])
            out.append(vals)
        return out


def vocab_rows(cats: np.ndarray, vocabs: list[np.ndarray]) -> np.ndarray:
    """Index per value: 0 = padding (missing), 1 = OOV, 2.. = position in the sorted vocabulary."""
    out = np.empty(cats.shape, dtype=np.int32)
    for j, voc in enumerate(vocabs):
        col = cats[:, j]
        if len(voc) == 0:
            out[:, j] = np.where(col < 0, 0, 1)
            continue
        pos = np.clip(np.searchsorted(voc, col), 0, len(voc) - 1)
        hit = voc[pos] == col
        out[:, j] = np.where(col < 0, 0, np.where(hit, pos + 2, 1))
    return out
