"""Writing synthetic data: raw benchmark-format files (`write_synth`) or a cache directly (`synth_cache`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
from tqdm import tqdm

from recnas.data._bad import BadRows
from recnas.data._cache import CACHE_VERSION
from recnas.data._formats import make_plan
from recnas.data._prepare import PrepareOptions
from recnas.data._prepare import build_cache
from recnas.data._prepare import _swap_in
from recnas.data._reader import ChunkConverter
from recnas.data._reader import RawChunk
from recnas.data import _protocols as proto
from recnas.data._synth import GENERATOR_VERSION
from recnas.data._synth import SynthSource
from recnas.errors import RecnasError
from recnas.runs import atomic_write_json

DEMO_TABLE_CAP = 20_000


def write_synth(out: str | os.PathLike[str], *, fmt: str = "criteo", rows: int, seed: int = 0,
                table_cap: int | None = 1_000_000, positive_rate: float | None = None,
                progress: bool = False) -> list[Path]:
    """Write `rows` synthetic rows as a raw file (gzip when `out` ends in .gz); returns the files written.

    KDD also gets `userid_profile.txt` next to `out`. Written to a temporary name, then renamed.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = SynthSource(fmt, rows=rows, seed=seed, table_cap=table_cap, positive_rate=positive_rate)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    comp = "gzip" if out.suffix == ".gz" else None
    delim = "," if fmt == "avazu" else "\t"
    bar = tqdm(total=rows, unit=" rows", unit_scale=True, desc="synth", disable=not progress, mininterval=1.0)
    try:
        opts = pcsv.WriteOptions(include_header=False, delimiter=delim, quoting_style="none")
        with pa.output_stream(str(tmp), compression=comp) as f:
            for k, batch in enumerate(src.chunks()):
                if fmt == "avazu" and k == 0:  # Arrow would quote the names; the real file does not
                    f.write((",".join(batch.schema.names) + "\n").encode())
                pcsv.write_csv(batch, f, opts)
                bar.update(batch.num_rows)
        os.replace(tmp, out)
    finally:
        bar.close()
        tmp.unlink(missing_ok=True)
    files = [out]
    if fmt == "kdd":
        prof = out.parent / "userid_profile.txt"
        pcsv.write_csv(src.profile(), str(prof), pcsv.WriteOptions(include_header=False, delimiter="\t",
                                                                    quoting_style="none"))
        files.append(prof)
    return files


class _SynthReader:
    """RawChunks straight from the generator (Criteo: no text at all; others via the parser).

    Keeps every row's true logit and label (12 bytes a row) for the oracle figures.
    """

    def __init__(self, src: SynthSource, conv: ChunkConverter) -> None:
        self.src, self.conv = src, conv
        self.rows_read = 0
        self.sha256 = ""
        self.logits: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []

    def __iter__(self) -> Iterator[RawChunk]:
        self.logits, self.labels = [], []
        for d in self.src.draws():
            self.logits.append(d.z.astype(np.float64))
            self.labels.append(d.y.astype(np.int8))
            base = self.rows_read
            self.rows_read += len(d.y)
            if self.src.fmt == "criteo":
                cats = np.stack([self.src.raw_ids(j, d.ranks[:, j]) for j in range(d.ranks.shape[1])], 1)
                yield RawChunk(d.y.astype(np.int8), d.x, cats)
            else:
                batch = getattr(self.src, f"_{self.src.fmt}")(d.rng, d.start, d.ranks, d.x, d.y)
                yield self.conv.convert(batch, lambda j: base + j + 1)


def oracle_scores(logits: np.ndarray, labels: np.ndarray) -> dict[str, float | int]:
    """Bayes-optimal scores of rows whose true logits are known: log loss, AUC, and the base rate's
    log loss (a constant prediction at the rows' own positive rate), for scale."""
    from sklearn.metrics import roc_auc_score  # local: `recnas synth` of raw files starts without it

    z, y = logits.astype(np.float64), labels.astype(np.float64)
    if len(z) == 0:
        return {"logloss": float("nan"), "auc": float("nan"), "base_logloss": float("nan"), "rows": 0}
    q = float(y.mean())
    both = 0.0 < q < 1.0
    base = -(q * np.log(q) + (1 - q) * np.log(1 - q)) if both else 0.0
    return {
        "logloss": float(np.mean(np.logaddexp(0.0, z) - y * z)),
        "auc": float(roc_auc_score(y, z)) if both else float("nan"),
        "base_logloss": float(base),
        "rows": int(len(z)),
    }


def _oracle(reader: _SynthReader, opts: PrepareOptions, tmp: Path) -> dict[str, dict[str, float | int]]:
    """Per-split oracle scores: the split is redrawn from the labels as the cache build drew it, and
    checked against the labels the build wrote (a mismatch raises rather than mislabel rows)."""
    z, y = np.concatenate(reader.logits), np.concatenate(reader.labels)
    sizes = None
    if opts.protocol == "ratio":
        sizes, _ = proto.ratio_sizes(len(y), opts.ratios, getattr(opts, "split_rows", None))
    split = proto.assign_splits(y, protocol=opts.protocol, ratios=opts.ratios, shuffle=opts.shuffle,
                                seed=opts.seed, reference_offbyone=opts.reference_offbyone, sizes=sizes)
    out = {}
    for k, name in enumerate(proto.SPLITS):
        keep = split == k
        written = np.load(tmp / name / "label.npy")
        if not np.array_equal(written, y[keep]):
            raise RecnasError(f"synth oracle: the {name} split's rows do not match the cache build's")
        out[name] = oracle_scores(z[keep], y[keep])
    return out


def synth_cache(out_dir: str | os.PathLike[str], *, rows: int, seed: int = 0, fmt: str = "criteo",
                table_cap: int | None = DEMO_TABLE_CAP, positive_rate: float | None = None,
                protocol: str = "nasrec", cap: int | None = None, progress: bool = False) -> Path:
    """Fill a cache directly with `rows` synthetic rows; equal to `recnas prepare` on the raw file.

    `table_cap` limits the generator's distinct values per field and (unless `cap` says otherwise)
    the cache's table sizes, so that the demo's embedding tables stay small.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    params = {"format": fmt, "rows": rows, "seed": seed, "table_cap": table_cap, "positive_rate": positive_rate,
              "protocol": protocol, "cap": cap}
    blob = json.dumps([CACHE_VERSION, GENERATOR_VERSION, params], sort_keys=True).encode()
    key = "synth-" + hashlib.sha256(blob).hexdigest()[:24]
    if (out / "meta.json").is_file():
        try:
            if json.loads((out / "meta.json").read_text()).get("fingerprint") == key:
                return out  # same parameters: the cache is reused, as `recnas prepare` does
        except (OSError, ValueError):
            pass
    src = SynthSource(fmt, rows=rows, seed=seed, table_cap=table_cap, positive_rate=positive_rate)
    opts = PrepareOptions(protocol=protocol, cap=cap if cap is not None else table_cap).resolved(fmt)
    plan = make_plan(fmt, data_path=out, keep_id=bool(opts.keep_id), hour=str(opts.hour))
    bad = BadRows(f"<synth {fmt}>", "fail")
    profile = None
    if fmt == "kdd":
        tab = src.profile()
        profile = tuple(tab.column(c).to_numpy() for c in ("UserID", "Gender", "Age"))
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        reader = _SynthReader(src, ChunkConverter(plan, bad, profile))
        meta = build_cache(reader, bad, plan, opts, tmp, progress=progress)
        meta["oracle"] = _oracle(reader, opts, tmp)
        meta.pop("sha256")
        meta.update(format=fmt, fingerprint=key, seconds=round(time.perf_counter() - t0, 3),
                    source={"synthetic": {"format": fmt, "rows": rows, "seed": seed, "table_cap": table_cap,
                                          "positive_rate": positive_rate, "bias": src.model.bias,
                                          "generator_version": GENERATOR_VERSION}})
        atomic_write_json(tmp / "meta.json", meta)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
