"""What every pipeline stage reads: the config, the run directory, the data cache and the space."""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recnas.config import RunConfig
from recnas.errors import RecnasError
from recnas.pipeline.state import PipelineState
from recnas.runs import RunDir


def need(module: str, name: str, stage: str) -> Any:
    """`module.name`, or a one-line error saying which stage needs the missing API."""
    try:
        mod = importlib.import_module(module)
        return getattr(mod, name)
    except (ImportError, AttributeError):
        raise RecnasError(
            f"stage {stage} needs {module}.{name}, not available in this install"
        ) from None


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Context:
    """A run in progress: config, paths, stage state, and lazily opened shared objects."""

    cfg: RunConfig
    rd: RunDir
    state: PipelineState
    log: Callable[[str], None] = _stderr
    _cache: Any = field(default=None, repr=False)

    @property
    def device(self) -> str:
        """The torch device string of the run ('auto': cuda when available, else cpu)."""
        if self.cfg.device != "auto":
            return self.cfg.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def progress(self) -> bool:
        """Whether to show progress bars."""
        return self.cfg.progress

    def data_ref(self) -> dict[str, Any]:
        """The data stage's record (data.json): the cache path and a summary."""
        if not self.rd.data_ref.is_file():
            raise RecnasError(
                f"{self.rd.data_ref} is missing: the data stage has not run in {self.rd.root}"
            )
        return json.loads(self.rd.data_ref.read_text())

    def cache_path(self) -> Path:
        """The cache directory the run uses."""
        return Path(self.data_ref()["cache"])

    def cache(self) -> Any:
        """The opened data cache (opened once per run)."""
        if self._cache is None:
            open_cache = need("recnas.data", "open_cache", "data")
            path = self.cache_path()
            if not path.exists():
                raise RecnasError(
                    f"data cache {path} (recorded in {self.rd.data_ref}) no longer "
                    f"exists; delete {self.rd.state} or restore the cache"
                )
            self._cache = open_cache(path)
        return self._cache

    def space(self) -> Any:
        """The search space of the run (preset, with the configured number of blocks)."""
        get_space = need("recnas.space", "get_space", "supernet")
        sp = get_space(self.cfg.supernet.space)
        if sp.num_blocks != self.cfg.supernet.num_blocks:
            sp = dataclasses.replace(sp, num_blocks=self.cfg.supernet.num_blocks)
        return sp

    def layernorm_for_training(self) -> bool | str:
        """LayerNorm of from-scratch models: the supernet's setting, or 'reference' (off)."""
        if self.cfg.final.layernorm == "reference":
            return "reference"
        return bool(self.cfg.supernet.layernorm)
