"""Synthetic CTR data with a known generating model, in Criteo/Avazu/KDD raw formats or as a cache.

The hidden model (also in docs/data.md). Field j draws a category rank
    r_j = floor((V_j + 1) ** (u ** s_j)) - 1,  u ~ U(0, 1)   (Zipf-like: P(rank r) ~ 1/r, skew s_j >= 1)
or is missing with probability m_j; the raw id is a well-mixed bijection of r_j (murmur3 fmix32).
Every (field, rank) has a fixed pseudo-random scalar w_j(r), u_j(r) and vector e_j(r) in R^4 (unit
variance, from a hash of seed, field and rank), shrunk by (1 + r / HEAD) ** -0.5: rare ids behave
nearly like the average id, so most of the signal sits in ids a model sees often enough to learn
(a missing field contributes 0). Dense counts are lognormal integers x_i (some missing, one field
with negatives), seen by the model as t_i = (ln(max(x_i, 0) + 1) - mu_i) / sigma_i.
    logit = b + 0.45 sum_{j in L} w_j + 0.8 sum_{(a,c) in P} <e_a, e_c> + sum_i g_i t_i
              + 0.8 sum_{(i,j) in DX} t_i u_j(r_j) + 0.5 sum_{(a,c,d) in T} sum_k e_a[k] e_c[k] e_d[k]
with L = 10 linear fields, P = 8 field pairs, DX = 3 dense x categorical pairs, T = 2 field triples
(all drawn from the seed), and the bias b calibrated by bisection to the requested positive rate.
Labels are Bernoulli(sigmoid(logit)); the true logit of every row is known, so the Bayes-optimal
("oracle") log loss and AUC of each split are exact. Rows are generated in chunks seeded by
(seed, chunk index).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recnas.data._formats import AVAZU_COLUMNS
from recnas.data._formats import KDD_COLUMNS
from recnas.data.schema import AVAZU_FIELDS
from recnas.data.schema import AVAZU_TABLE_SIZES
from recnas.data.schema import CRITEO_TABLE_SIZES
from recnas.data.schema import KDD_FIELDS
from recnas.data.schema import KDD_TABLE_SIZES
from recnas.errors import ConfigError

SYNTH_FORMATS = ("criteo", "avazu", "kdd")
CHUNK_ROWS = 1 << 16
DIM = 4
GENERATOR_VERSION = 3  # part of every synthetic cache's fingerprint: a new hidden model rebuilds caches
COEF = (0.45, 0.8, 0.8, 0.5)  # linear, pair, dense x categorical, triple
HEAD = 5.0
_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_AVAZU_HEX = {"site_id", "site_domain", "site_category", "app_id", "app_domain", "app_category",
              "device_id", "device_ip", "device_model"}


def _splitmix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * np.uint64(0xBF58476D1CE4E5B9)
        z = z ^ (z >> np.uint64(27))
        z = z * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _latent(salt: int, ranks: np.ndarray) -> np.ndarray:
    """Fixed pseudo-random value in [-sqrt 3, sqrt 3] (unit variance) per rank; 0 for missing (-1)."""
    with np.errstate(over="ignore"):
        z = ranks.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
        z = _splitmix(z)
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.where(ranks < 0, 0.0, (2.0 * u - 1.0) * np.sqrt(3.0))


@dataclass
class HiddenModel:
    """The generating model's parameters, all drawn from `seed` (see the module docstring)."""

    seed: int
    vocab: np.ndarray  # [F] distinct values per field
    skew: np.ndarray
    missing: np.ndarray
    num_dense: int
    linear: np.ndarray
    pairs: np.ndarray  # [8, 2]
    triples: np.ndarray  # [2, 3]
    dense_cat: np.ndarray  # [3, 2] (dense i, field j)
    gamma: np.ndarray  # [D]
    bias: float = 0.0
    coef: tuple[float, float, float, float] = COEF
    head: float = HEAD  # a rank-r effect is scaled by (1 + r / head) ** -0.5; 0 = no shrinkage

    @classmethod
    def create(cls, seed: int, vocab: np.ndarray, num_dense: int) -> "HiddenModel":
        """Draw the structure: which fields interact, skews, missing rates."""
        rng = np.random.default_rng([seed, 7919])
        f = len(vocab)
        missing = np.where(rng.random(f) < 0.3, rng.uniform(0.05, 0.45, f), 0.0)
        pairs = np.array([rng.choice(f, 2, replace=False) for _ in range(8)])
        triples = np.array([rng.choice(f, 3, replace=False) for _ in range(2)])
        dcat = np.array([[rng.integers(max(num_dense, 1)), rng.integers(f)] for _ in range(3)])
        return cls(seed, np.asarray(vocab, np.int64), rng.uniform(1.0, 2.0, f), missing, num_dense,
                   rng.choice(f, min(10, f), replace=False), pairs, triples, dcat,
                   rng.normal(0, 0.3, num_dense))

    def ranks(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Category ranks [n, F], -1 = missing."""
        u = rng.random((n, len(self.vocab)))
        r = np.floor((self.vocab + 1.0) ** (u ** self.skew)).astype(np.int64) - 1
        r = np.minimum(r, self.vocab - 1)
        return np.where(rng.random(r.shape) < self.missing, -1, r)

    def _salt(self, kind: int, j: int, k: int = 0) -> int:
        return int(_splitmix(np.array([self.seed * 1_000_003 + kind * 10_007 + j * 101 + k], np.uint64))[0])

    def _effect(self, kind: int, j: int, ranks: np.ndarray, k: int = 0) -> np.ndarray:
        """Latent value of each rank, shrunk towards 0 for rare ranks when `head` > 0."""
        v = _latent(self._salt(kind, j, k), ranks)
        return v / np.sqrt(1.0 + np.maximum(ranks, 0) / self.head) if self.head > 0 else v

    def logits(self, ranks: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Hidden logits [n] from ranks [n, F] and standardised dense t [n, D]."""
        n = ranks.shape[0]
        emb = {}

        def e(j: int) -> np.ndarray:
            if j not in emb:
                emb[j] = np.stack([self._effect(2, j, ranks[:, j], k) for k in range(DIM)], 1)
            return emb[j]

        k1, k2, kx, k3 = self.coef
        z = np.full(n, self.bias)
        for j in self.linear:
            z += k1 * self._effect(1, int(j), ranks[:, j])
        for a, c in self.pairs:
            z += k2 * (e(int(a)) * e(int(c))).sum(1)
        if self.num_dense:
            z += t @ self.gamma
            for i, j in self.dense_cat:
                z += kx * t[:, i] * self._effect(3, int(j), ranks[:, j])
        for a, c, d in self.triples:
            z += k3 * (e(int(a)) * e(int(c)) * e(int(d))).sum(1)
        return z

    def calibrate(self, positive_rate: float, sample: tuple[np.ndarray, np.ndarray]) -> None:
        """Set the bias so that the mean click probability on `sample` equals positive_rate."""
        self.bias = 0.0
        z0 = self.logits(*sample)
        lo, hi = -20.0, 20.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if np.mean(1 / (1 + np.exp(-(z0 + mid)))) < positive_rate:
                lo = mid
            else:
                hi = mid
        self.bias = (lo + hi) / 2


@dataclass
class Draw:
    """One generated chunk: its RNG (for format-specific extras), first row, ranks, x, logits, labels."""

    rng: np.random.Generator
    start: int
    ranks: np.ndarray  # [n, F], -1 = missing
    x: np.ndarray  # [n, D] raw dense values, NaN = missing
    z: np.ndarray  # [n] true logits
    y: np.ndarray  # [n] labels 0/1


def _hex8(v: np.ndarray) -> pa.Array:
    """int64 ids in [0, 2^32) -> 8-digit lower-case hex strings; -1 -> ''."""
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    shifts = np.arange(28, -4, -4, dtype=np.int64)
    mat = digits[(np.maximum(v, 0)[:, None] >> shifts) & 15]  # [n, 8]
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(8), len(v), [None, pa.py_buffer(mat.tobytes())])
    s = pc.cast(pc.cast(fixed, pa.binary()), pa.string())
    return pc.if_else(pa.array(v < 0), "", s) if (v < 0).any() else s


def _dec(v: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """int64 -> decimal strings; entries where `missing` -> ''."""
    s = pc.cast(pa.array(v), pa.string())
    return pc.if_else(pa.array(missing), "", s) if missing is not None and missing.any() else s


def _fmix32(h: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finaliser on uint64 arrays holding 32-bit values: a bijection of [0, 2^32)."""
    m32 = np.uint64(0xFFFFFFFF)
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(16))
        h = (h * np.uint64(0x85EBCA6B)) & m32
        h = h ^ (h >> np.uint64(13))
        h = (h * np.uint64(0xC2B2AE35)) & m32
        return h ^ (h >> np.uint64(16))


def _ids(ranks: np.ndarray, salt: int, bits: int = 32, table: int | None = None) -> np.ndarray:
    """Rank -> pseudo-random id in [0, 2^bits) (distinct ranks, distinct ids); missing stays -1.

    `table` (the field's published table size N): ids are chosen with id mod (N - 1) = (rank + 1)
    mod (N - 1), so the NASRec hashing fmod(id, N - 1) + 1 keeps every rank of a field whose values
    fit its table apart, as the published sizes count distinct values. Without it the id is a mixed
    bijection of the rank; mixing matters there too, since an affine map alone sends whole residue
    classes to one row (e.g. every rank of a 3-value field, when the multiplier is divisible by 3).
    """
    r = np.maximum(ranks, 0).astype(np.uint64)
    with np.errstate(over="ignore"):
        if bits == 64:
            v = _splitmix(r + np.uint64(salt & 0xFFFFFFFFFFFFFFFF))
            return np.where(ranks < 0, -1, v.view(np.int64))
        h = _fmix32((r + np.uint64(salt & 0xFFFFFFFF)) & np.uint64(0xFFFFFFFF))
        if table is not None and table >= 3:
            m = np.uint64(table - 1)
            span = np.uint64((2**32 - table) // (table - 1))
            h = (r + np.uint64(1)) % m + m * (h % span)
    return np.where(ranks < 0, -1, h.astype(np.int64))


class SynthSource:
    """Seeded chunks of synthetic raw rows as Arrow string batches in one benchmark format."""

    def __init__(self, fmt: str, *, rows: int, seed: int = 0, table_cap: int | None = None,
                 positive_rate: float | None = None) -> None:
        if fmt not in SYNTH_FORMATS:
            raise ConfigError(f"synth format must be one of {', '.join(SYNTH_FORMATS)}, got {fmt!r}")
        if rows < 1:
            raise ConfigError(f"rows must be >= 1, got {rows}")
        self.fmt, self.rows, self.seed = fmt, int(rows), int(seed)
        sizes = {"criteo": CRITEO_TABLE_SIZES, "avazu": AVAZU_TABLE_SIZES[1:], "kdd": KDD_TABLE_SIZES[:8]}[fmt]
        vocab = np.array([min(n, table_cap) if table_cap else n for n in sizes], np.int64) - 1
        self.tables = [int(n) for n in sizes]
        nd = {"criteo": 13, "avazu": 0, "kdd": 3}[fmt]
        self.model = HiddenModel.create(self.seed, np.maximum(vocab, 1), nd)
        rate = positive_rate if positive_rate is not None else {"criteo": 0.23, "avazu": 0.17, "kdd": 0.2}[fmt]
        rng = np.random.default_rng([self.seed, 104729])
        r = self.model.ranks(rng, 20000)
        self.model.calibrate(rate, (r, self._dense(rng, r)[1]))
        self.profile_users = max(int(vocab[-1]) if fmt == "kdd" else 0, 1)

    def _dense(self, rng: np.random.Generator, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw dense values [n, D] (NaN = missing) and the model's standardised view t [n, D]."""
        n, d = ranks.shape[0], self.model.num_dense
        if d == 0:
            return np.zeros((n, 0)), np.zeros((n, 0))
        if self.fmt == "kdd":
            depth = rng.integers(1, 4, n)
            impressions = rng.geometric(0.6, n)
            x = np.stack([impressions, depth, rng.integers(1, depth + 1)], 1).astype(np.float64)
            mu, sd = np.array([0.4, 1.0, 0.8]), np.array([0.3, 0.4, 0.4])
        else:
            mu = np.linspace(0.5, 4.0, d)
            sd = np.full(d, 1.0)
            x = np.maximum(np.floor(np.exp(mu + sd * rng.standard_normal((n, d)))) - 1, 0)
            x[:, 1] -= np.where(rng.random(n) < 0.1, 3, 0)  # like I2, some negatives
            x[rng.random((n, d)) < np.linspace(0.0, 0.45, d)[None, :]] = np.nan
        t = np.nan_to_num((np.log1p(np.maximum(x, 0)) - mu) / sd, nan=0.0)
        return x, t

    def draws(self) -> Iterator[Draw]:
        """The generated rows chunk by chunk: ranks, raw dense values, true logits and labels."""
        for c, start in enumerate(range(0, self.rows, CHUNK_ROWS)):
            n = min(CHUNK_ROWS, self.rows - start)
            rng = np.random.default_rng([self.seed, 1 + c])
            ranks = self.model.ranks(rng, n)
            x, t = self._dense(rng, ranks)
            z = self.model.logits(ranks, t)
            y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)
            yield Draw(rng, start, ranks, x, z, y)

    def raw_ids(self, j: int, ranks: np.ndarray) -> np.ndarray:
        """Field j's raw 32-bit ids of `ranks` (-1 = missing); see _ids."""
        return _ids(ranks, self.model._salt(5, j), table=self.tables[j])

    def chunks(self) -> Iterator[pa.RecordBatch]:
        """Raw string batches of up to CHUNK_ROWS rows, in the file's column order."""
        for d in self.draws():
            yield getattr(self, f"_{self.fmt}")(d.rng, d.start, d.ranks, d.x, d.y)

    def _criteo(self, rng: np.random.Generator, start: int, ranks: np.ndarray, x: np.ndarray,
                y: np.ndarray) -> pa.RecordBatch:
        cols = [_dec(y)]
        cols += [_dec(np.nan_to_num(x[:, i]).astype(np.int64), np.isnan(x[:, i])) for i in range(13)]
        cols += [_hex8(self.raw_ids(j, ranks[:, j])) for j in range(26)]
        names = ["label"] + [f"I{i}" for i in range(1, 14)] + [f"C{i}" for i in range(1, 27)]
        return pa.RecordBatch.from_arrays(cols, names)

    def _avazu(self, rng: np.random.Generator, start: int, ranks: np.ndarray, x: np.ndarray,
               y: np.ndarray) -> pa.RecordBatch:
        n = len(y)
        hour_idx = (np.arange(start, start + n) * 240) // self.rows  # 10 days in time order
        day, hh = 21 + hour_idx // 24, hour_idx % 24
        hour = 14100000 + day * 100 + hh
        ids = rng.integers(0, 2**63 - 1, n, dtype=np.int64)
        cols = {"id": _dec(ids), "click": _dec(y), "hour": _dec(hour)}
        for j, name in enumerate(AVAZU_FIELDS[2:], start=1):
            r = ranks[:, j]
            if name in _AVAZU_HEX:
                cols[name] = _hex8(self.raw_ids(j, np.maximum(r, 0)))
            else:
                cols[name] = _dec(np.maximum(r, 0) + (1000 if name in ("C1", "C14") else 0))
        return pa.RecordBatch.from_arrays([cols[c] for c in AVAZU_COLUMNS], list(AVAZU_COLUMNS))

    def _kdd(self, rng: np.random.Generator, start: int, ranks: np.ndarray, x: np.ndarray,
             y: np.ndarray) -> pa.RecordBatch:
        impressions = x[:, 0].astype(np.int64)
        clicks = np.where(y > 0, 1 + rng.binomial(np.maximum(impressions - 1, 0), 0.3), 0)
        cols = {"Click": _dec(clicks), "Impression": _dec(impressions), "Depth": _dec(x[:, 1].astype(np.int64)),
                "Position": _dec(x[:, 2].astype(np.int64))}
        for j, name in enumerate(KDD_FIELDS[:8]):
            r = np.maximum(ranks[:, j], 0)
            if name == "DisplayURL":
                v = _ids(r, self.model._salt(5, j), bits=64).view(np.uint64)
                cols[name] = pc.cast(pa.array(v), pa.string())
            else:
                cols[name] = _dec(r + 1)
        return pa.RecordBatch.from_arrays([cols[c] for c in KDD_COLUMNS], list(KDD_COLUMNS))

    def profile(self) -> pa.Table:
        """KDD userid_profile.txt rows (UserID, Gender, Age) for 90% of the user ids."""
        users = np.arange(1, self.profile_users + 1, dtype=np.int64)
        rng = np.random.default_rng([self.seed, 31337])
        users = users[rng.random(len(users)) < 0.9]
        return pa.table({"UserID": users, "Gender": rng.integers(0, 3, len(users)),
                         "Age": rng.integers(0, 7, len(users))})
