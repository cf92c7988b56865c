"""Data pipeline benchmark (issue 2, item 8): prints ONE JSON line.

Generates Criteo-format TSVs of N and 2N rows (default N = 2M) with the synthetic generator, times
`recnas prepare --protocol nasrec` on each in a fresh subprocess and reads that subprocess's peak RSS,
times a plain Python `csv`-module parse done the reference's way (csv rows -> a dict per row with
safe casts -> per-value int(x, 16), fmod hashing and log per batch; `csv_parse_*`) and, for
comparison, a bare csv parse with int/hex conversion only (`csv_bare_*`) on a prefix of the same
file, and measures BatchLoader samples/s at batch 8192. Targets (2 cores): prepare >= 500k rows/s,
>= 10x the csv parse, peak RSS <= 2 GiB and flat from N to 2N, loader >= 5M samples/s.
Usage: python benchmarks/bench_data.py [--rows N] [--csv-rows M] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "dt = time.perf_counter() - t\n"
    "print(r.stdout.strip().splitlines()[-1] if r.returncode == 0 else 'ERR ' + r.stderr.strip()[-400:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(dt); print(u.ru_utime + u.ru_stime); print(u.ru_maxrss)\n"
)


def run_prepare(raw: Path, out: Path) -> dict:
    """`recnas prepare` in a fresh process tree; returns wall seconds, peak RSS (GiB) and the summary."""
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "recnas", "prepare", "--format", "criteo",
           "--input", str(raw), "--out", str(out), "--protocol", "nasrec", "--force", "--json"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line, wall, cpu, rss_kib = res.stdout.strip().splitlines()[-4:]
    if line.startswith("ERR"):
        raise SystemExit(f"bench_data: prepare failed: {line}")
    summary = json.loads(line)
    return {"wall_s": float(wall), "cpu_s": float(cpu), "peak_rss_gib": int(rss_kib) / 2**20, "summary": summary}


def csv_parse_rows_per_s(raw: Path, rows: int) -> tuple[float, float]:
    """Bare csv module: csv rows, int() on dense fields and int(x, 16) on categoricals.

    Returns (rows per wall second, rows per CPU second)."""
    t, c = time.perf_counter(), time.process_time()
    n = 0
    with open(raw, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            _label = int(row[0])
            _dense = [int(x) if x else 0 for x in row[1:14]]
            _cats = [int(x, 16) if x else -1 for x in row[14:40]]
            n += 1
            if n >= rows:
                break
    return n / (time.perf_counter() - t), n / (time.process_time() - c)


def _safe_int(v: str) -> int:
    try:
        return int(v)
    except ValueError:
        return 0


def reference_way_rows_per_s(raw: Path, rows: int, batch: int = 8192) -> tuple[float, float]:
    """What the NASRec reference does per row, without torch: csv.reader, a dict per row with
    safe casts (nasrec/torchrec/criteo.py), then per batch int(v, 16) per categorical value, fmod
    hashing and ln(max(x,0)+1) (nasrec/utils/data_pipes.py, vectorised here with numpy).

    Returns (rows per wall second, rows per CPU second)."""
    import numpy as np

    from recnas.data.schema import CRITEO_TABLE_SIZES

    names = ["label"] + [f"int_{i}" for i in range(13)] + [f"cat_{i}" for i in range(26)]
    casters = [_safe_int] * 14 + [str] * 26
    m = np.array(CRITEO_TABLE_SIZES, dtype=np.int64) - 1

    def transform(buf: list[dict]) -> None:
        dense = np.array([[r[k] for k in names[1:14]] for r in buf], dtype=np.float32)
        np.log(np.maximum(dense, 0) + 1)
        cats = np.array([[int(r[k], 16) if r[k] else -1 for r in buf] for k in names[14:]]).T
        np.fmod(cats, m) + 1

    t, c = time.perf_counter(), time.process_time()
    n, buf = 0, []
    with open(raw, newline="") as f:
        for row in csv.reader(f, delimiter="\t"):
            buf.append({k: cast(v) for k, cast, v in zip(names, casters, row)})
            n += 1
            if len(buf) == batch or n >= rows:
                transform(buf)
                buf = []
            if n >= rows:
                break
    return n / (time.perf_counter() - t), n / (time.process_time() - c)


def loader_samples_per_s(cache_dir: Path, *, batch: int = 8192, shuffle: bool = True,
                         max_batches: int = 400) -> float:
    """Samples/s of one pass of BatchLoader over the train split (at most `max_batches`)."""
    import torch

    from recnas.data import BatchLoader
    from recnas.data import open_cache

    torch.set_num_threads(2)
    ld = BatchLoader(open_cache(cache_dir), "train", batch, shuffle=shuffle, seed=0)
    for b in ld:  # warm the page cache
        pass
    t, n = time.perf_counter(), 0
    for i, b in enumerate(ld):
        n += len(b)
        if i + 1 >= max_batches:
            break
    return n / (time.perf_counter() - t)


def machine() -> dict:
    """Where the numbers were taken."""
    import numpy
    import pyarrow

    cpu = platform.processor()
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "numpy": numpy.__version__, "pyarrow": pyarrow.__version__, "platform": platform.platform()}


def main() -> None:
    """Run everything and print the JSON line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000, help="N; the memory check also runs 2N")
    ap.add_argument("--csv-rows", type=int, default=200_000, help="rows for the csv-module timing")
    ap.add_argument("--workdir", help="where to write the files (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    from recnas.data import write_synth

    work = Path(args.workdir or tempfile.mkdtemp(prefix="recnas-bench-data-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        n1, n2 = args.rows, 2 * args.rows
        t = time.perf_counter()
        raw1 = write_synth(work / "criteo_1.txt", rows=n1, seed=0)[0]
        synth_s = time.perf_counter() - t
        raw2 = write_synth(work / "criteo_2.txt", rows=n2, seed=1)[0]
        p1 = run_prepare(raw1, work / "cache_1")
        p2 = run_prepare(raw2, work / "cache_2")
        bare_rps, bare_cpu_rps = csv_parse_rows_per_s(raw2, min(args.csv_rows, n2))
        csv_rps, csv_cpu_rps = reference_way_rows_per_s(raw2, min(args.csv_rows, n2))
        rps = n2 / p2["wall_s"]
        out = {
            "bench": "data",
            "prepare_rows_per_s": round(rps),
            "csv_parse_rows_per_s": round(csv_rps),
            "csv_parse_ratio": round(rps / csv_rps, 2),
            "peak_rss_gib_2m": round(p1["peak_rss_gib"], 3),
            "peak_rss_gib_4m": round(p2["peak_rss_gib"], 3),
            "loader_samples_per_s": round(loader_samples_per_s(work / "cache_1")),
            "loader_samples_per_s_file_order": round(loader_samples_per_s(work / "cache_1", shuffle=False)),
            "rows_small": n1, "rows_large": n2,
            "prepare_wall_s_small": round(p1["wall_s"], 2), "prepare_wall_s_large": round(p2["wall_s"], 2),
            "prepare_rows_per_s_small": round(n1 / p1["wall_s"]),
            "prepare_rows_per_s_in_process": p2["summary"].get("rows_per_s"),
            "prepare_cpu_s_large": round(p2["cpu_s"], 2),
            "prepare_rows_per_cpu_s": round(n2 / p2["cpu_s"]),
            "csv_parse_rows_per_cpu_s": round(csv_cpu_rps),
            "csv_parse_ratio_cpu": round(n2 / p2["cpu_s"] / csv_cpu_rps, 2),
            "csv_bare_rows_per_s": round(bare_rps),
            "csv_bare_ratio": round(rps / bare_rps, 2),
            "csv_bare_ratio_cpu": round(n2 / p2["cpu_s"] / bare_cpu_rps, 2),
            "raw_mib_large": round(raw2.stat().st_size / 2**20, 1),
            "synth_rows_per_s": round(n1 / synth_s),
            "targets": {"prepare_rows_per_s": 500_000, "csv_parse_ratio": 10, "peak_rss_gib": 2.0,
                        "loader_samples_per_s": 5_000_000},
            "machine": machine(),
        }
        print(json.dumps(out))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
