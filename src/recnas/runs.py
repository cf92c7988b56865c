"""Atomic writes and the layout of a run directory (method: one run directory per pipeline)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any
from typing import Iterator

from recnas.errors import RecnasError


OWNER_MARKER = ".recnas-owned"
_TMP_TAG = ".recnas-tmp."


def _host() -> str:
    """This machine's name, reduced to [A-Za-z0-9-] so that it can sit inside a file name."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def temp_name(name: str) -> str:
    """Name of a temporary beside `name`: `.{name}.recnas-tmp.{host}.{pid}` (stale-temp cleanup parses it)."""
    return f".{name}{_TMP_TAG}{_host()}.{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(parent: Path, name: str | None = None) -> list[Path]:
    """Remove recnas temporaries in `parent` (of target `name`, or of any) left by dead processes of
    this host; returns what was removed. Temporaries of live processes and of other hosts are kept."""
    parent = Path(parent)
    prefix = f".{name}{_TMP_TAG}" if name is not None else "."
    removed: list[Path] = []
    try:
        entries = [e for e in os.listdir(parent) if e.startswith(prefix) and _TMP_TAG in e]
    except OSError:
        return removed
    host = _host()
    for entry in entries:
        m = re.fullmatch(r"\.(.+)" + re.escape(_TMP_TAG) + r"([A-Za-z0-9-]+)\.(\d+)(\.[A-Za-z0-9_]+)?", entry)
        if m is None or m.group(2) != host or _pid_alive(int(m.group(3))):
            continue
        p = parent / entry
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def mark_owned(path: str | os.PathLike[str], kind: str) -> None:
    """Mark a directory recnas just created as its own (only such directories are ever replaced)."""
    marker = Path(path) / OWNER_MARKER
    marker.write_text(json.dumps({"kind": kind, "created_by": "recnas", "host": _host(), "pid": os.getpid()}) + "\n")


def is_owned(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a directory recnas created and marked as its own."""
    p = Path(path)
    return p.is_dir() and not p.is_symlink() and (p / OWNER_MARKER).is_file()


def check_replaceable(path: str | os.PathLike[str], what: str) -> None:
    """Raise a one-line RecnasError unless `path` is absent, an empty directory or a directory that
    recnas owns: recnas never deletes or replaces anything it did not create."""
    p = Path(path)
    if not os.path.lexists(p):
        return
    if p.is_symlink() or not p.is_dir():
        kind = "a symbolic link" if p.is_symlink() else "a file"
        raise RecnasError(f"{what} {p}: exists and is {kind}, not a directory; recnas replaces only "
                          "directories it created, choose another path")
    if is_owned(p) or not any(os.scandir(p)):
        return
    raise RecnasError(f"{what} {p}: exists and was not created by recnas (no {OWNER_MARKER} marker); "
                      "recnas will not replace it, choose a new or empty directory")


def new_temp_dir(out: str | os.PathLike[str], kind: str) -> Path:
    """Create a marked temporary directory beside `out` (stale ones of dead processes removed first)."""
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out.parent, out.name)
    tmp = out.parent / temp_name(out.name)
    if tmp.exists():  # this very process built one before and failed: it is ours
        shutil.rmtree(tmp)
    tmp.mkdir()
    mark_owned(tmp, kind)
    return tmp


def replace_owned_dir(new: str | os.PathLike[str], out: str | os.PathLike[str], kind: str,
                      what: str = "directory") -> None:
    """Atomically put directory `new` at `out`; an existing `out` must be owned (or empty) and is deleted."""
    new, out = Path(new), Path(os.path.abspath(out))
    check_replaceable(out, what)
    if not (new / OWNER_MARKER).is_file():
        mark_owned(new, kind)
    old = None
    if os.path.lexists(out):
        old = out.parent / (temp_name(out.name) + ".old")
        os.replace(out, old)
    os.replace(new, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[str]:
    """Yield a temporary file name next to `path`; rename it onto `path` on success, delete it on error.

    The name carries host and pid, so temporaries left by a killed process are removed by the next
    atomic write of the same file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=temp_name(path.name) + ".", suffix="", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write bytes to `path` via a temporary file in the same directory and an atomic rename."""
    path = Path(path)
    with _temp_beside(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Write an object as indented JSON atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_torch_save(path: str | os.PathLike[str], obj: Any) -> Path:
    """Save a torch object (tensors, dicts of tensors and plain data) atomically."""
    import torch  # local: runs.py stays importable without torch

    path = Path(path)
    with _temp_beside(path) as tmp:
        torch.save(obj, tmp)
    return path


class RunDir:
    """Owns every path inside a run directory, so no other module spells file names."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def ensure(self) -> "RunDir":
        """Create the directory tree and return self."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.plots.mkdir(exist_ok=True)
        self.topk.mkdir(exist_ok=True)
        return self

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def data_ref(self) -> Path:
        return self.root / "data.json"

    @property
    def supernet(self) -> Path:
        return self.root / "supernet.pt"

    @property
    def supernet_metrics(self) -> Path:
        return self.root / "supernet_metrics.jsonl"

    @property
    def journal(self) -> Path:
        return self.root / "journal.jsonl"

    @property
    def cosearch_journal(self) -> Path:
        return self.root / "cosearch_journal.jsonl"

    @property
    def best(self) -> Path:
        return self.root / "best_architectures.json"

    @property
    def topk(self) -> Path:
        return self.root / "topk"

    @property
    def final(self) -> Path:
        return self.root / "final"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def baselines(self) -> Path:
        return self.root / "baselines"

    @property
    def pim(self) -> Path:
        return self.root / "pim"

    @property
    def report_sections(self) -> Path:
        """Markdown fragments (co-design, baselines...) that report.md renders in name order."""
        return self.root / "report_sections"

    @property
    def superseded(self) -> Path:
        """Where `--force` moves the outputs of stages whose config changed."""
        return self.root / "superseded"

    @property
    def state(self) -> Path:
        return self.root / "state.json"
