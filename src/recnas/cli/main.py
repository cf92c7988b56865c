"""The `recnas` command: a table of thin subcommands, each a module with add_arguments() and run().

A RecnasError prints one line and exits 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from typing import Sequence

from recnas.errors import RecnasError

# name -> (module under recnas.cli, one-line help). Modules are imported lazily so that
# `recnas --help` is instant and one broken command cannot break the others.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "run the whole pipeline on embedded synthetic Criteo-schema data"),
    "run": ("run", "run the whole pipeline (prepare, supernet, search, top-k, final) from a YAML config"),
    "synth": ("synth", "write synthetic CTR data in Criteo/Avazu/KDD format, or straight into a cache"),
    "prepare": ("prepare", "split, encode and cache a raw dataset as memory-mappable columns"),
    "space": ("space", "inspect search spaces: sample, import-nasrec, ops, size"),
    "supernet": ("supernet", "train the weight-sharing supernet"),
    "search": ("search", "regularized-evolution or random search over a trained supernet"),
    "train": ("train", "train an architecture JSON from scratch, or retrain the top-k"),
    "study": ("study", "studies of the method, e.g. supernet ranking (Kendall tau)"),
    "baseline": ("baseline", "train a hand-crafted baseline model (DLRM, DeepFM, DCN-v2, ...)"),
    "compare": ("compare", "train baselines on a run's data and add a comparison table to its report"),
    "pim": ("pim", "ReRAM PIM cost model: validate, cost an architecture, co-design report"),
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="recnas",
        description="NASRec architecture search for CTR models, with PIM hardware co-design.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _load(name: str):  # noqa: ANN202 - returns a module
    module, _ = COMMANDS[name]
    return importlib.import_module(f"recnas.cli.{module}")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse argv, dispatch to the command module, and map RecnasError to a one-line message."""
    # Busy-waiting OpenMP threads cost several times the CPU on a shared 2-core machine (measured 7x
    # for supernet steps); must be set before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    top = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        if argv and argv[0] not in ("-h", "--help"):
            top.print_usage(sys.stderr)
            print(f"recnas: error: unknown command {argv[0]!r}; choose from {', '.join(COMMANDS)}",
                  file=sys.stderr)
            return 2
        top.print_help()
        return 0
    name = argv[0]
    try:
        mod = _load(name)
        parser = argparse.ArgumentParser(prog=f"recnas {name}", description=COMMANDS[name][1])
        mod.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        args.debug = debug
        return int(mod.run(args) or 0)
    except RecnasError as e:
        if debug:
            raise
        print(f"recnas {name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"recnas {name}: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        if debug or e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        # a write that no command turned into its own message: still one line, not a traceback
        where = f" ({e.filename})" if e.filename else ""
        print(f"recnas {name}: error: {e.strerror}{where}; free space and run the same "
              "command again (finished work is kept)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
