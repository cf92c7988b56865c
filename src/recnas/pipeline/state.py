"""Pipeline state: which stages of a run directory are finished (state.json, written atomically).

A stage is marked done only after all its outputs are on disk, so a run interrupted at any moment
repeats at most the stage it was in (and that stage resumes from its own checkpoint or journal).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.runs import atomic_write_json

FORMAT = "recnas-state-v1"


@dataclass
class PipelineState:
    """Finished stages with their wall time and a small summary each."""

    path: Path
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> PipelineState:
        """Read state.json, or an empty state when the file does not exist."""
        path = Path(path)
        if not path.is_file():
            return cls(path)
        try:
            doc = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RecnasError(
                f"{path}: unreadable pipeline state ({e}); delete it to redo every "
                f"stage (finished outputs are reused where they are complete)"
            ) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise RecnasError(f"{path}: not a recnas pipeline state (format {doc.get('format')!r})")
        return cls(path, dict(doc.get("stages", {})))

    def is_done(self, stage: str) -> bool:
        """Whether `stage` finished."""
        return bool(self.stages.get(stage, {}).get("done"))

    def mark_done(
        self, stage: str, *, seconds: float, summary: dict[str, Any] | None = None
    ) -> None:
        """Record `stage` as finished and save atomically."""
        self.stages[stage] = {
            "done": True,
            "seconds": round(seconds, 3),
            "finished_at": time.time(),
            "summary": summary or {},
        }
        self.save()

    def reset(self, stage: str) -> None:
        """Forget that `stage` finished (it runs again next time)."""
        self.stages.pop(stage, None)
        self.save()

    def seconds(self) -> float:
        """Total recorded wall time of the finished stages."""
        return float(sum(s.get("seconds", 0.0) for s in self.stages.values()))

    def save(self) -> None:
        """Write state.json atomically."""
        atomic_write_json(self.path, {"format": FORMAT, "stages": self.stages})
