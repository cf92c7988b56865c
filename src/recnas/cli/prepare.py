"""`recnas prepare`: split, encode and cache a raw dataset (data.md §2-§4)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from recnas.data import FORMATS
from recnas.data import PROTOCOLS
from recnas.data import PrepareOptions
from recnas.data import prepare_dataset
from recnas.data import SPLITS
from recnas.errors import ConfigError


class Once(argparse.Action):
    """An option that may be given at most once (a repeated --input would silently drop a file)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            raise ConfigError(f"{option_string} given twice ({getattr(namespace, self.dest)!r} and {values!r}); "
                              "give it once")
        setattr(namespace, self.dest, values)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `recnas prepare`."""
    parser.add_argument("--format", required=True, choices=FORMATS, action=Once, help="raw input format")
    parser.add_argument("--input", action=Once, help="raw file (plain or gzip, detected); split by --protocol")
    for split in SPLITS:
        parser.add_argument(f"--{split}", action=Once, metavar="FILE",
                            help=f"pre-split data: the {split} file (with the other two instead of --input)")
    parser.add_argument("--split-column", metavar="NAME", action=Once,
                        help="take each row's split from this column of --input (train, val or test)")
    parser.add_argument("--out", required=True, action=Once,
                        help="cache directory to write (or reuse); an existing one must be a recnas cache or empty")
    parser.add_argument("--profile", action=Once, help="KDD: userid_profile.txt to join on UserID")
    parser.add_argument("--schema", action=Once,
                        help="table: YAML schema (label, dense, categorical, separator, header)")
    parser.add_argument("--protocol", default="nasrec", choices=PROTOCOLS,
                        help="nasrec: stratified 10 folds (seed 2018) + hashing; vocab: BARS-style "
                             "vocabulary on train; ratio: ratio split + hashing (default nasrec)")
    parser.add_argument("--cap", type=int, help="limit every table to N rows (e.g. 500000 during search)")
    parser.add_argument("--ratios", default="0.8,0.1,0.1",
                        help="ratio protocol: train,val,test fractions (rounding is reported)")
    parser.add_argument("--split-rows", metavar="T,V,E",
                        help="ratio protocol: exact train,val,test row counts (one may be -1 = the rest)")
    parser.add_argument("--no-shuffle", action="store_true", help="ratio protocol: split in file order")
    parser.add_argument("--seed", type=int, default=2018, help="split seed (default 2018)")
    parser.add_argument("--min-count", type=int, default=1, help="vocab: minimum count to get an index")
    parser.add_argument("--dense-buckets", action="store_true",
                        help="vocab: add ln^2-bucketed copies of the dense features as categorical fields")
    parser.add_argument("--reference-offbyone", action="store_true",
                        help="nasrec: reproduce the reference split scripts' one-row shift (Criteo/KDD)")
    parser.add_argument("--keep-id", choices=("yes", "no"), help="Avazu: keep the id column as a feature "
                        "(default no under every protocol: unique per row; yes gives the reference layout)")
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
    rows = None
    if args.split_rows is not None:
        try:
            rows = tuple(int(x) for x in args.split_rows.split(","))
        except ValueError:
            raise ConfigError(f"--split-rows must be three integers like 8000,1000,-1, got {args.split_rows!r}") \
                from None
        if len(rows) != 3:
            raise ConfigError(f"--split-rows needs three counts (train,val,test), got {args.split_rows!r}")
    keep = None if args.keep_id is None else args.keep_id == "yes"
    return PrepareOptions(protocol=args.protocol, cap=args.cap, ratios=ratios, shuffle=not args.no_shuffle,
                          seed=args.seed, min_count=args.min_count, dense_buckets=args.dense_buckets,
                          reference_offbyone=args.reference_offbyone, keep_id=keep, hour=args.hour,
                          max_bad_fraction=args.max_bad_fraction, on_bad_row=args.on_bad_row,
                          split_column=args.split_column, split_rows=rows)  # type: ignore[arg-type]


def _files(args: argparse.Namespace) -> dict[str, str] | None:
    """{train, val, test} from --train/--val/--test, or None for --input; one-line errors otherwise."""
    given = {s: getattr(args, s) for s in SPLITS if getattr(args, s) is not None}
    if args.input is not None and given:
        raise ConfigError("give either --input or --train/--val/--test, not both")
    if args.input is None and not given:
        raise ConfigError("give the data: --input FILE, or --train FILE --val FILE --test FILE")
    if given and len(given) != len(SPLITS):
        missing = [f"--{s}" for s in SPLITS if s not in given]
        raise ConfigError(f"pre-split data needs all of --train, --val, --test; missing {', '.join(missing)}")
    return given or None


def run(args: argparse.Namespace) -> int:
    """Prepare (or reuse) the cache and print the row accounting."""
    files = _files(args)
    res = prepare_dataset(args.input, args.out, fmt=args.format, files=files, profile=args.profile,
                          schema=args.schema, options=_options(args), force=args.force,
                          progress=sys.stderr.isatty())
    s = res.summary
    if args.json:
        print(json.dumps({"out": str(res.cache.path), "reused": res.reused, **s}))
        return 0
    r = s["rows"]
    verb = "reused" if res.reused else "wrote"
    print(f"{verb} cache {res.cache.path} ({s['format']}, protocol {s['protocol']})")
    print(f"rows read {r['read']} = kept {r['kept']} + rejected {r['rejected']}")
    print(f"splits: train {r['train']}, val {r['val']}, test {r['test']}")
    inputs = s.get("inputs") or {}
    if len(inputs) > 1:
        for name, rec in inputs.items():
            ri = rec["rows"]
            print(f"  {name}: {rec['path']}: read {ri['read']} = kept {ri['kept']} + rejected {ri['rejected']}")
    by_split = (s.get("split") or {}).get("rows")
    if by_split and r["rejected"]:
        print("rejected per split: " + ", ".join(f"{k} {by_split[k]['rejected']}" for k in SPLITS)
              + f", unknown {by_split['unknown_rejected']}")
    for note in (s.get("split") or {}).get("notices", []):
        print(f"notice: {note}")
    if s.get("dense_nan_as_missing"):
        print(f"dense values 'nan' kept as missing: {s['dense_nan_as_missing']}")
    if s["rejected_by_reason"]:
        print("rejected by reason: " + ", ".join(f"{k} {v}" for k, v in s["rejected_by_reason"].items()))
        for ex in s["bad_examples"] or []:
            print(f"  {ex}")
    if not res.reused and s.get("rows_per_s"):
        print(f"{s['seconds']:.2f} s, {s['rows_per_s']:,.0f} rows/s")
    return 0
