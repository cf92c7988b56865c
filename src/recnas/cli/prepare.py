"""`recnas prepare`: split, encode and cache a raw dataset (data.md §2-§4)."""

from __future__ import annotations

import argparse
import json
import sys

from recnas.data import FORMATS
from recnas.data import PROTOCOLS
from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `recnas prepare`."""
    parser.add_argument("--format", required=True, choices=FORMATS, help="raw input format")
    parser.add_argument("--input", required=True, help="raw file (plain or gzip, detected)")
    parser.add_argument("--out", required=True, help="cache directory to write (or reuse)")
    parser.add_argument("--profile", help="KDD: userid_profile.txt to join on UserID")
    parser.add_argument("--schema", help="table: YAML schema (label, dense, categorical, separator, header)")
    parser.add_argument("--protocol", default="nasrec", choices=PROTOCOLS,
                        help="nasrec: stratified 10 folds (seed 2018) + hashing; vocab: BARS-style "
                             "vocabulary on train; ratio: ratio split + hashing (default nasrec)")
    parser.add_argument("--cap", type=int, help="limit every table to N rows (e.g. 500000 during search)")
    parser.add_argument("--ratios", default="0.8,0.1,0.1", help="ratio protocol: train,val,test fractions")
    parser.add_argument("--no-shuffle", action="store_true", help="ratio protocol: split in file order")
    parser.add_argument("--seed", type=int, default=2018, help="split seed (default 2018)")
    parser.add_argument("--min-count", type=int, default=1, help="vocab: minimum count to get an index")
    parser.add_argument("--dense-buckets", action="store_true",
                        help="vocab: add ln^2-bucketed copies of the dense features as categorical fields")
    parser.add_argument("--reference-offbyone", action="store_true",
                        help="nasrec: reproduce the reference split scripts' one-row shift (Criteo/KDD)")
    parser.add_argument("--keep-id", choices=("yes", "no"), help="Avazu: keep the id column "
                        "(default: yes under nasrec, as the reference does; no otherwise)")
    parser.add_argument("--hour", choices=("raw", "expand"), help="Avazu: hour as is (reference) or "
                        "hour-of-day + weekday (default: raw under nasrec, expand otherwise)")
    parser.add_argument("--max-bad-fraction", type=float, default=0.001,
                        help="fail if more than this fraction of rows is rejected (default 0.001)")
    parser.add_argument("--on-bad-row", choices=("skip", "fail"), default="skip",
                        help="skip (count and report) bad rows, or stop at the first one")
    parser.add_argument("--force", action="store_true", help="rebuild even if a matching cache exists")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")


def _options(args: argparse.Namespace) -> PrepareOptions:
    try:
        ratios = tuple(float(x) for x in args.ratios.split(","))
    except ValueError:
        raise ConfigError(f"--ratios must be three numbers like 0.8,0.1,0.1, got {args.ratios!r}") from None
    if len(ratios) != 3:
        raise ConfigError(f"--ratios needs three numbers (train,val,test), got {args.ratios!r}")
    keep = None if args.keep_id is None else args.keep_id == "yes"
    return PrepareOptions(protocol=args.protocol, cap=args.cap, ratios=ratios, shuffle=not args.no_shuffle,
                          seed=args.seed, min_count=args.min_count, dense_buckets=args.dense_buckets,
                          reference_offbyone=args.reference_offbyone, keep_id=keep, hour=args.hour,
                          max_bad_fraction=args.max_bad_fraction, on_bad_row=args.on_bad_row)


def run(args: argparse.Namespace) -> int:
    """Prepare (or reuse) the cache and print the row accounting."""
    res = prepare_dataset(args.input, args.out, fmt=args.format, profile=args.profile, schema=args.schema,
                          options=_options(args), force=args.force, progress=sys.stderr.isatty())
    s = res.summary
    if args.json:
        print(json.dumps({"out": str(res.cache.path), "reused": res.reused, **s}))
        return 0
    r = s["rows"]
    verb = "reused" if res.reused else "wrote"
    print(f"{verb} cache {res.cache.path} ({s['format']}, protocol {s['protocol']})")
    print(f"rows read {r['read']} = kept {r['kept']} + rejected {r['rejected']}")
    print(f"splits: train {r['train']}, val {r['val']}, test {r['test']}")
    if s["rejected_by_reason"]:
        print("rejected by reason: " + ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items()))
        for ex in s["bad_examples"] or []:
            print(f"  {ex}")
    if not res.reused and s.get("rows_per_s"):
        print(f"{s['seconds']:.2f} s, {s['rows_per_s']:,.0f} rows/s")
    return 0
