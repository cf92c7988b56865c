"""Training checkpoints: written atomically, read with weights_only=True, errors as one line.

A checkpoint holds the model, the optimizer, the step, the RNG states (python, numpy, torch), the
loader position, config and architecture JSON: enough to continue bit-exactly on CPU.
"""

from __future__ import annotations

import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recnas.errors import CheckpointError
from recnas.errors import write_failure
from recnas.runs import atomic_torch_save

FORMAT = "recnas-ckpt-v1"


def rng_state() -> dict[str, Any]:
    """Global RNG states in a weights_only-loadable form (numpy's key array as a tensor)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what `rng_state` captured."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write `payload` (plus the format tag) atomically; a failed write keeps the old file."""
    try:
        return atomic_torch_save(path, {"format": FORMAT, **payload})
    except OSError as e:  # disk full, read-only, ...: the temporary file is already removed
        raise CheckpointError(write_failure(path, e, "checkpoint")) from None


def load_checkpoint(
    path: str | Path, *, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; CheckpointError if bad."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except (
        RuntimeError,
        EOFError,
        OSError,
        ValueError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        AttributeError,
        KeyError,
        IndexError,
    ) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(
            f"checkpoint {path} is corrupted or unreadable ({first[:160]})"
        ) from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a recnas training checkpoint (expected format {FORMAT!r})"
        )
    return obj


def check_config(path: str | Path, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume when the training config differs; name the first differing keys."""
    keys = sorted(set(saved) | set(current))
    diff = [k for k in keys if saved.get(k) != current.get(k)]
    if diff:
        shown = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in diff[:3])
        raise CheckpointError(
            f"checkpoint {path} was written with a different config ({shown}); "
            "use a new output path or the original settings"
        )


def load_model_state(path: str | Path, model: torch.nn.Module, state: dict[str, Any]) -> None:
    """load_state_dict(strict) with a mismatch turned into a one-line CheckpointError."""
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(s.strip() for s in first[:2])[:200]
        raise CheckpointError(f"checkpoint {path} does not match the model ({detail})") from None
