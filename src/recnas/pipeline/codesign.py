"""Co-design run glue: co-search a run directory's supernet, check the pick's accuracy, write the
PIM report.

`codesign_run(run_dir, ...)` is the pipeline's `codesign` stage and `recnas pim search`. It journals
to cosearch_journal.jsonl (resumable, like `recnas search`) and writes pim/*.json, plots and the
report section. Torch, the data cache and the search loop are imported lazily.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.runs import RunDir
from recnas.runs import atomic_write_json


def _scorer_settings(rd: RunDir) -> dict[str, Any]:
    """Fine-tune/val settings of the run's accuracy search, so both searches score alike."""
    out: dict[str, Any] = {"finetune_steps": 100, "lr": 0.04, "batch_size": None, "val_rows": None}
    try:
        from recnas.config import load_config

        cfg = load_config(rd.config)
    except Exception:  # noqa: BLE001 - a run dir without a readable config uses the defaults above
        return out
    s = cfg.search
    return {
        "finetune_steps": s.finetune_steps,
        "lr": s.finetune_lr,
        "batch_size": s.finetune_batch or cfg.supernet.batch,
        "val_rows": s.val_rows,
    }


def best_architecture(rd: RunDir) -> Any:
    """The accuracy-only winner: top-k winner, else best_architectures rank 1, else journal best."""
    from recnas.search import Journal
    from recnas.search import top_k
    from recnas.space import Architecture

    summary = rd.topk / "summary.json"
    if summary.is_file():
        doc = json.loads(summary.read_text())
        row = next(
            (r for r in doc.get("candidates", []) if r.get("rank") == doc.get("winner")), None
        )
        if row is not None:
            return Architecture.from_dict(row["arch"])
    if rd.best.is_file():
        doc = json.loads(rd.best.read_text())
        if doc.get("architectures"):
            return Architecture.from_dict(doc["architectures"][0]["arch"])
    if rd.journal.is_file():
        top = top_k(Journal(rd.journal).records(), 1)
        if top:
            return Architecture.from_dict(top[0].arch)
    raise RecnasError(
        f"{rd.root}: no accuracy-only winner (topk/summary.json, {rd.best.name} or a scored "
        f"{rd.journal.name}); run the accuracy search first"
    )


def mixed_precision_supernet(
    rd: RunDir, cache: Any, *, steps: int | None, seed: int, device: str, progress: bool
) -> tuple[Any, dict[str, Any], int]:
    """The run's supernet, trained `steps` more steps with random per-block bits (STE fake quant).

    Checkpointed to pim/supernet_mp.pt, so a rerun resumes or reuses it. `steps` None: half of
    the supernet's own steps. Returns (supernet in eval mode, its config, steps).
    """
    from recnas.search.cosearch import enable_bits_sampling
    from recnas.train import load_supernet
    from recnas.train import train_supernet

    net, scfg = load_supernet(rd.supernet, device=device)
    steps = int(scfg.get("step", 0)) // 2 if steps is None else int(steps)
    if steps <= 0:
        return net, scfg, 0
    handle = enable_bits_sampling(net, seed=seed)
    try:
        train_supernet(
            net,
            cache,
            space=scfg["space_obj"],
            epochs=10**6,
            max_steps=steps,
            batch_size=scfg.get("batch_size"),
            lr=0.04,
            full_path_steps=0,
            seed=seed,
            device=device,
            ckpt_path=rd.pim / "supernet_mp.pt",
            ckpt_every=max(1, steps // 4),
            progress=progress,
            log_every=max(1, steps // 4),
        )
    finally:
        handle.remove()
    return net.eval(), scfg, steps


def row_losses(scorer: Any, net: Any, cand: Any) -> Any:
    """Per-row validation log losses of a co-search candidate at its bits (head fine-tuned as the
    co-scorer does, evaluated at its charged bits), as a float64 numpy array in the scorer's fixed
    row order."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from recnas.nn.quant import head_logits
    from recnas.search.cosearch import QuantView

    view = QuantView(net, cand.genes.supernet_bits())
    scorer.supernet = view
    try:
        head = scorer.finetune(cand.arch)
        out = []
        with torch.no_grad():
            for b in scorer.val_batches:
                x = view.features(b.dense, b.sparse, cand.arch).float()
                z = head_logits(x, head.weight, head.bias, True).reshape(-1)
                y = b.label.reshape(-1).float()
                out.append(F.binary_cross_entropy_with_logits(z, y, reduction="none"))
    finally:
        scorer.supernet = net
    return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)


def paired_check(ref_losses: Any, pick_losses: Any) -> dict[str, float]:
    """Mean paired difference pick - reference with its standard error and 95% interval."""
    import numpy as np

    d = np.asarray(pick_losses) - np.asarray(ref_losses)
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("nan")
    mean = float(d.mean()) if len(d) else float("nan")
    return {
        "rows": int(len(d)),
        "delta": mean,
        "se": se,
        "delta_lo": mean - 1.96 * se,
        "delta_hi": mean + 1.96 * se,
        "reference_logloss": float(np.mean(ref_losses)),
        "pick_logloss": float(np.mean(pick_losses)),
    }


def retrain_check(
    rd: RunDir,
    cache: Any,
    schema: Any,
    cands: dict[str, Any],
    *,
    seeds: int,
    epochs: int,
    device: str,
    progress: bool,
) -> dict[str, Any]:
    """Train each candidate standalone at its bits, `seeds` seeds, under one protocol (NASRec's
    Adagrad at the final-retraining lr), and compare validation log losses (pick - reference)."""
    import statistics

    import torch

    from recnas.nn import build_model
    from recnas.train import Protocol
    from recnas.train import Recipe
    from recnas.train import fit
    from recnas.train import final_settings

    out: dict[str, Any] = {"seeds": seeds, "epochs": epochs}
    for name, cand in cands.items():
        try:
            lr, batch = final_settings(cand.arch, schema)
        except KeyError:  # a schema outside the spec's table (e.g. synthetic): Criteo's settings
            lr, batch = 0.16, 256
        recipe = Recipe("adagrad", lr, warmup=0.1, clip=5.0, source="NASRec final retraining")
        losses = []
        for s in range(seeds):
            torch.manual_seed(s)
            model = build_model(cand.arch, schema, bits=cand.genes.supernet_bits())
            m = fit(
                model,
                cache,
                recipe=recipe,
                protocol=Protocol(max_epochs=epochs, batch_size=batch),
                out_dir=rd.pim / "retrain" / f"{name}_seed{s}",
                seed=s,
                test=False,
                device=device,
                progress=progress,
                desc=f"{name} seed {s}",
            )
            losses.append(float(m["val"]["logloss"]))
        sd = statistics.stdev(losses) if len(losses) > 1 else float("nan")
        out[name] = {
            "logloss": losses,
            "mean": statistics.fmean(losses),
            "std": sd,
            "se": sd / math.sqrt(len(losses)),
        }
    ref, pick = out["reference"], out["pick"]
    delta, se = pick["mean"] - ref["mean"], math.hypot(ref["se"], pick["se"])
    out.update(
        {
            "delta": delta,
            "se": se,
            "delta_lo": delta - 1.96 * se,
            "delta_hi": delta + 1.96 * se,
            "within_2se": delta <= 2 * se,
        }
    )
    return out


def codesign_run(
    run_dir: str | Path,
    *,
    mode: str = "pareto",
    objectives: list[str] | None = None,
    budgets: dict[str, float] | None = None,
    population: int = 32,
    sample: int = 16,
    generations: int = 24,
    children: int = 8,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = True,
    beta: float = 1.0,
    finetune_steps: int | None = None,
    val_rows: int | None = None,
    mp_steps: int | None = None,
    chip_factor: float = 2.0,
    retrain_seeds: int = 3,
    retrain_epochs: int = 1,
) -> dict[str, Any]:
    """Co-search (resumable) over the run's supernet, a paired accuracy check of the pick, then
    `pim_report`; returns the comparison.

    Scoring follows the run's search settings (config.yaml) unless `finetune_steps`/`val_rows`
    are given. The supernet first trains on with random bits for `mp_steps`. The chip every
    candidate and the reference share is `chip_factor` x the reference's own area (iso-area).
    The pick and the reference are then retrained standalone at their bits with `retrain_seeds`
    seeds for `retrain_epochs` epochs (0 seeds: skip) and compared on the validation split.
    """
    import torch

    from recnas.data import open_cache
    from recnas.hardware.pim import cost
    from recnas.pipeline.pim_report import pim_report
    from recnas.search import Journal
    from recnas.search import run_search
    from recnas.search.cosearch import CoCandidate
    from recnas.search.cosearch import CoScorer
    from recnas.search.cosearch import HwSpace
    from recnas.search.cosearch import cosearch_genome
    from recnas.search.cosearch import fair_config
    from recnas.search.cosearch import make_searcher
    from recnas.search.cosearch import objective_keys
    from recnas.search.cosearch import uniform_candidate
    from recnas.train import CandidateScorer

    rd = RunDir(run_dir)
    objectives = list(objective_keys(objectives or ["logloss", "energy", "latency"]))
    if not rd.supernet.is_file() or not rd.data_ref.is_file():
        raise RecnasError(
            f"{rd.root}: needs supernet.pt and data.json (run the supernet stage first)"
        )
    if chip_factor < 1.0:
        raise RecnasError(f"chip_factor = {chip_factor}; the chip must hold the reference (>= 1)")
    best = best_architecture(rd)
    torch.manual_seed(seed)
    cache = open_cache(json.loads(rd.data_ref.read_text())["cache"])
    net, scfg, mp = mixed_precision_supernet(
        rd, cache, steps=mp_steps, seed=seed, device=device, progress=progress
    )
    st = _scorer_settings(rd)
    st.update(
        {
            k: v
            for k, v in (("finetune_steps", finetune_steps), ("val_rows", val_rows))
            if v is not None
        }
    )
    scorer = CandidateScorer(
        net,
        cache,
        finetune_steps=st["finetune_steps"],
        lr=st["lr"],
        batch_size=st["batch_size"],
        val_rows=st["val_rows"],
        seed=seed,
        device=device,
    )
    hw = HwSpace()
    genome = cosearch_genome(scfg["space_obj"], hw, layernorm=bool(net.layernorm))
    searcher = make_searcher(
        genome,
        mode=mode,
        objectives=objectives,
        population=population,
        sample=sample,
        generations=generations,
        children=children,
    )
    ref = uniform_candidate(best, 8)
    chip = chip_factor * cost(best, net.schema, fair_config(), ref.genes).area_mm2
    ref_losses = row_losses(scorer, net, ref)
    rd.pim.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        rd.pim / "cosearch_meta.json",
        {
            "format": "recnas-cosearch-meta-v2",
            "mode": mode,
            "objectives": objectives,
            "budgets": dict(budgets or {}),
            "beta": beta if math.isfinite(beta) else "inf",
            "reference_hash": genome.hash(ref),
            "reference_n": 0,
            "reference_row_std": float(ref_losses.std(ddof=1)),
            "val_rows": int(len(ref_losses)),
            "chip_factor": chip_factor,
            "chip_mm2": chip,
            "schema": net.schema.to_dict(),
            "hw_space": hw.to_dict(),
            "scorer": st,
            "seed": seed,
            "mixed_precision_steps": mp,
            "config": fair_config().to_dict(),
        },
    )
    res = run_search(
        searcher=searcher,
        journal=Journal(rd.cosearch_journal),
        budget=searcher.budget,
        seed=seed,
        score_fn=CoScorer(
            scorer, net.schema, fair_config(), budgets=budgets, beta=beta, chip_mm2=chip
        ),
        enqueue=[ref, uniform_candidate(best, 4)],
        progress=progress,
    )
    if not any(r.state == "COMPLETE" for r in res.records):
        raise RecnasError(f"co-search scored no candidate; see {rd.cosearch_journal}")
    comparison = pim_report(rd.root)["comparison"]
    if comparison.get("pick") is not None:
        pick = CoCandidate.from_dict(comparison["pick"]["candidate"])
        check: dict[str, Any] = paired_check(ref_losses, row_losses(scorer, net, pick))
        if retrain_seeds > 0:
            check["retrained"] = retrain_check(
                rd,
                cache,
                net.schema,
                {"reference": ref, "pick": pick},
                seeds=retrain_seeds,
                epochs=retrain_epochs,
                device=device,
                progress=progress,
            )
        atomic_write_json(
            rd.pim / "accuracy.json", {"pick_hash": comparison["pick"]["hash"], **check}
        )
        comparison = pim_report(rd.root)["comparison"]
    return dict(comparison)
