"""Atomic writes and the layout of a run directory (method: one run directory per pipeline)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from typing import Iterator


@contextlib.contextmanager
def _temp_beside(path: Path) -> Iterator[str]:
    """Yield a temporary file name next to `path`; rename it onto `path` on success, delete it on error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
