"""`recnas synth`: seeded synthetic CTR data in a benchmark's raw format, or straight into a cache."""

from __future__ import annotations

import argparse
import sys

from recnas.data import DEMO_TABLE_CAP
from recnas.data import open_cache
from recnas.data import synth_cache
from recnas.data import write_synth


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `recnas synth`."""
    parser.add_argument("--format", default="criteo", choices=("criteo", "avazu", "kdd"),
                        help="raw layout to imitate (default criteo)")
    parser.add_argument("--rows", type=int, required=True, help="number of rows")
    parser.add_argument("--out", required=True, help="output file (.gz = gzip) or, with --cache, a directory")
    parser.add_argument("--cache", action="store_true", help="fill a prepared cache directly (nasrec protocol)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--table-cap", type=int, default=None,
                        help=f"distinct values per field, at most (default: {DEMO_TABLE_CAP} with --cache, "
                             "1000000 for raw files)")
    parser.add_argument("--positive-rate", type=float, help="target share of clicks (default ~0.2)")


def run(args: argparse.Namespace) -> int:
    """Generate the data and say where it went."""
    progress = sys.stderr.isatty()
    if args.cache:
        cap = args.table_cap if args.table_cap is not None else DEMO_TABLE_CAP
        out = synth_cache(args.out, rows=args.rows, seed=args.seed, fmt=args.format, table_cap=cap,
                          positive_rate=args.positive_rate, progress=progress)
        c = open_cache(out)
        r = c.meta["rows"]
        print(f"wrote cache {out}: train {r['train']}, val {r['val']}, test {r['test']} rows; "
              f"{c.schema.num_dense} dense, {c.schema.num_sparse} categorical (tables <= {cap})")
        orc = (c.meta.get("oracle") or {}).get("test")
        if orc:
            print(f"oracle (Bayes-optimal) on test: log loss {orc['logloss']:.4f}, AUC {orc['auc']:.4f}; "
                  f"base rate log loss {orc['base_logloss']:.4f}")
        return 0
    cap = args.table_cap if args.table_cap is not None else 1_000_000
    files = write_synth(args.out, fmt=args.format, rows=args.rows, seed=args.seed, table_cap=cap,
                        positive_rate=args.positive_rate, progress=progress)
    print(f"wrote {args.rows} {args.format} rows to " + ", ".join(str(f) for f in files))
    return 0
