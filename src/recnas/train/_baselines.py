"""Training a hand-crafted baseline under the fair protocol, with its own BARS recipe.

Every recipe below is the setting the BARS benchmark (reczoo/BARS, FuxiCTR) published for that model on
Criteo (docs/baselines.md names each source): Adam at 1e-3 and an L2 penalty on the embedding tables.
Initialisation stays each model's own (recnas Embeddings, as for the searched model): FuxiCTR's N(0, 1e-4^2)
is available as Recipe.embedding_init_std, and docs/baselines.md gives what it changed when measured.
Outputs, like every protocol run: out_dir/{state.pt, best.pt, epochs.json, metrics.json}.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import torch

from recnas.train._protocol import Protocol
from recnas.train._protocol import Recipe
from recnas.train._protocol import fit

_BARS = "reczoo/BARS ranking/ctr/"
BASELINE_RECIPES: dict[str, Recipe] = {
    "lr": Recipe("adam", 1e-3, 0.0, source=_BARS + "LR/LR_criteo_x4_001 (Adam 1e-3, regularizer 0)"),
    "fm": Recipe("adam", 1e-3, 1e-5, source=_BARS + "FM/FM_criteo_x4_001 (Adam 1e-3, regularizer 1e-5)"),
    "dnn": Recipe("adam", 1e-3, 1e-5, source=_BARS + "DNN/DNN_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "wide_deep": Recipe("adam", 1e-3, 1e-5,
                        source=_BARS + "WideDeep/WideDeep_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "deepfm": Recipe("adam", 1e-3, 1e-5,
                     source=_BARS + "DeepFM/DeepFM_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "dcnv2": Recipe("adam", 1e-3, 1e-5, source=_BARS + "DCNv2/DCNv2_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "dcnv2_parallel": Recipe("adam", 1e-3, 1e-5,
                             source=_BARS + "DCNv2/DCNv2_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "xdeepfm": Recipe("adam", 1e-3, 1e-5,
                      source=_BARS + "xDeepFM/xDeepFM_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "autoint_plus": Recipe("adam", 1e-3, 1e-5,
                           source=_BARS + "AutoInt/AutoInt+_criteo_x4_001 (Adam 1e-3, emb. reg. 1e-5)"),
    "dlrm": Recipe("adam", 1e-3, 1e-5, source=_BARS + "DLRM/DLRM_criteo_x1 (Adam 1e-3, emb. reg. 1e-5)"),
}


def baseline_recipe(name: str, **overrides: Any) -> Recipe:
    """The BARS recipe of baseline `name`, with `overrides` (e.g. lr=...) replacing its fields."""
    from recnas.nn.baselines import get_baseline

    base = BASELINE_RECIPES[get_baseline(name).name]
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(base, **given) if given else base


def train_baseline(
    name: str,
    cache: Any,
    *,
    out_dir: str | Path,
    preset: str | Any | None = None,
    recipe: Recipe | None = None,
    protocol: Protocol = Protocol(),
    seed: int = 0,
    test: bool = True,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Train baseline `name` under the fair protocol (its BARS recipe unless `recipe`); -> metrics.

    metrics.json has fit's keys plus model, title, preset, preset_values, flops, macs, params,
    embedding_params and wall_seconds. A finished out_dir with the same settings is reused.
    """
    from recnas.nn.baselines import create_baseline
    from recnas.nn.baselines import flop_count
    from recnas.nn.baselines import get_baseline
    from recnas.nn.baselines import resolve_preset

    spec = get_baseline(name)
    pname = preset if isinstance(preset, str) else (spec.default_preset if preset is None else "custom")
    pobj = resolve_preset(spec.name, preset)
    rec = recipe or baseline_recipe(spec.name)
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(pobj).items()}
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = create_baseline(spec.name, cache.schema, pobj)
    m = fit(model, cache, recipe=rec, protocol=protocol, out_dir=out_dir, seed=seed, test=test, device=device,
            settings={"model": spec.name, "preset": pname, "preset_values": values,
                      "table_sizes": list(cache.schema.table_sizes)},
            progress=progress, desc=f"{spec.name} s{seed}")
    if "wall_seconds" not in m:
        m.update(model=spec.name, title=spec.title, preset=pname, **flop_count(spec.name, cache.schema,
                                                                               pobj).to_dict(),
                 wall_seconds=time.perf_counter() - t0)
        from recnas.runs import atomic_write_json

        atomic_write_json(Path(out_dir) / "metrics.json", m)
    return m
