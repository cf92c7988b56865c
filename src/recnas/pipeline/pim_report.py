"""`recnas pim report`: the co-designed pick against the accuracy-only model on the same chip.

Headline (pim.md 3.1, 3.6): the accuracy-only winner at uniform 8 bits on the `fair` hardware
(ISAAC's organisation, interactions on a charged digital unit, leakage and embeddings in every
total), and the co-design pick, both on one chip of `chip_mm2` whose spare area each fills with
weight copies (iso-area). A second row runs the reference at ISAAC's 16 bits; the naive mapping is an
appendix row only. A sensitivity block re-costs everything with the Murmann ADC curve. Reads the
co-search journal and pim/cosearch_meta.json (and pim/accuracy.json when present); writes
pim/report.json, pim/front.json, pim/{reference,pick}_cost.json, pim/pareto_{energy,latency}.png and
report_sections/60_pim.md. Ratios are reference / pick (> 1 is an improvement).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from recnas.errors import RecnasError
from recnas.hardware.config import XBAR_SIZES
from recnas.hardware.config import HardwareGenes
from recnas.hardware.config import PIMConfig
from recnas.hardware.config import preset
from recnas.hardware.pim import PIMCost
from recnas.hardware.pim import cost
from recnas.hardware.pim import fill_area
from recnas.runs import RunDir
from recnas.runs import atomic_write_json
from recnas.runs import atomic_write_text

TARGETS = {"energy_ratio": 1.8, "latency_ratio": 1.5}  # TORS paper claims (and 2x FLOPs)
FLOPS_TARGET = 2.0
CAVEATS = (
    "Absolute joules vary 2-10x across simulator conventions (ADC energy P/f_s vs P*(b+2)/f_s; "
    "DAC 0.4 pJ vs 3.9 fJ per row; cells 1.2-3.5 fJ): ratios are the robust output. Leakage is "
    "charged for the critical-path latency of one sample (latency-bound serving). Device "
    "non-idealities are not modelled. Log losses are supernet proxies (head fine-tune) with every "
    "block fake-quantised at the charged bits; the tolerance is 2 standard errors of a difference "
    "of two means over the validation rows (from the reference's per-row spread)."
)


def _load(rd: RunDir) -> tuple[dict[str, Any], list[Any]]:
    from recnas.search import Journal

    meta_path = rd.pim / "cosearch_meta.json"
    if not meta_path.is_file() or not rd.cosearch_journal.is_file():
        raise RecnasError(
            f"{rd.root}: no co-search results (run `recnas pim search {rd.root}` first)"
        )
    return json.loads(meta_path.read_text()), Journal(rd.cosearch_journal).records()


def figures(c: PIMCost) -> dict[str, float]:
    """The figures a ratio is taken of (energy includes leakage and embeddings)."""
    return {
        "flops": float(c.flops),
        "energy_pj": c.energy_pj,
        "latency_ns": c.latency_crit_ns,
        "area_mm2": c.area_mm2,
        "throughput": c.throughput,
        "n_xbar": float(c.n_xbar),
        "util": c.util,
        "static_pj": c.energy.get("static", 0.0),
        "embedding_pj": c.embedding_pj,
    }


def ratios(ref: dict[str, float], new: dict[str, float]) -> dict[str, float]:
    """Improvement factors reference / new of one pair of designs (never mixed across designs)."""
    out = {
        "flops_ratio": ref["flops"] / new["flops"],
        "energy_ratio": ref["energy_pj"] / new["energy_pj"],
        "latency_ratio": ref["latency_ns"] / new["latency_ns"],
        "area_ratio": ref["area_mm2"] / new["area_mm2"],
    }
    out["energy_beyond_flops"] = out["energy_ratio"] / out["flops_ratio"]
    return out


def on_chip(
    arch: Any, schema: Any, cfg: PIMConfig, genes: HardwareGenes, chip_mm2: float
) -> PIMCost:
    """The design with weight copies filling `chip_mm2` (plain cost if it does not fit)."""
    plain = cost(arch, schema, cfg, genes)
    return plain if plain.area_mm2 > chip_mm2 else fill_area(arch, schema, cfg, genes, chip_mm2)[0]


def reference_genes(arch: Any, bits: int) -> HardwareGenes:
    """The reference's genes: uniform bits, interactions digital, ISAAC's crossbar organisation."""
    from recnas.search.cosearch import uniform_candidate

    return uniform_candidate(arch, bits).genes


def _candidates(records: list[Any], schema: Any, chip_mm2: float) -> list[dict[str, Any]]:
    from recnas.search.cosearch import CoCandidate

    out = []
    for r in records:
        if r.state != "COMPLETE" or r.values.get("logloss") is None:
            continue
        c = CoCandidate.from_dict(r.arch)
        plain = cost(c.arch, schema, preset("fair"), c.genes)
        fits = plain.endurance_ok and plain.area_mm2 <= chip_mm2
        pc = on_chip(c.arch, schema, preset("fair"), c.genes, chip_mm2) if fits else plain
        out.append(
            {
                "n": r.n,
                "hash": r.hash,
                "logloss": float(r.values["logloss"]),
                "feasible": float(r.values.get("feasible", 1.0)) >= 1.0,
                "fits": fits,
                **figures(pc),
                "candidate": r.arch,
                "_cost": pc,
            }
        )
    return out


def tolerance(meta: dict[str, Any], override: float | None) -> float:
    """Log-loss slack of the pick: `override`, else 2 standard errors of a difference of two means
    over the validation rows (per-row std of the reference's loss, measured by the co-search)."""
    if override is not None:
        return float(override)
    sd, n = meta.get("reference_row_std"), meta.get("val_rows")
    if not sd or not n:
        raise RecnasError("cosearch_meta.json lacks reference_row_std/val_rows; give --logloss-tol")
    return 2.0 * float(sd) * math.sqrt(2.0 / float(n))


def pick_codesign(
    cands: list[dict[str, Any]], ref: dict[str, Any], tol: float
) -> dict[str, Any] | None:
    """The lowest-energy (then lowest-latency) candidate that fits the chip, meets any budgets and
    lies within `tol` of the reference's log loss; None if there is none."""
    ok = [
        c
        for c in cands
        if c["fits"] and c["feasible"] and c["logloss"] <= ref["logloss"] + tol
    ]
    return min(ok, key=lambda c: (c["energy_pj"], c["latency_ns"], c["n"])) if ok else None


def best_within_tol(
    cands: list[dict[str, Any]], ref: dict[str, Any], tol: float
) -> dict[str, dict[str, float] | None]:
    """For energy and for latency: the whole ratio set of the one candidate best on it."""
    ok = [c for c in cands if c["fits"] and c["logloss"] <= ref["logloss"] + tol]
    out: dict[str, dict[str, float] | None] = {}
    for key in ("energy_pj", "latency_ns"):
        best = min(ok, key=lambda c: (c[key], c["n"])) if ok else None
        out[f"best_{key.split('_')[0]}"] = (
            {"n": best["n"], "logloss_delta": best["logloss"] - ref["logloss"], **ratios(ref, best)}
            if best
            else None
        )
    return out


def comparison_rows(
    ref_arch: Any,
    pick: dict[str, Any],
    schema: Any,
    chip_mm2: float,
    *,
    curve: str = "isaac",
    static_time: str = "latency",
) -> dict[str, dict[str, float]]:
    """Reference/pick ratios: fair 8-bit (headline), fair 16-bit, naive (appendix), one ADC curve."""
    from recnas.search.cosearch import CoCandidate

    c = CoCandidate.from_dict(pick["candidate"])
    fair = preset("fair", adc_curve=curve, static_time=static_time)
    p = figures(on_chip(c.arch, schema, fair, c.genes, chip_mm2))
    rows = {}
    for name, cfg, bits in (
        ("fair_8bit", fair, 8),
        ("fair_16bit", fair, 16),
        ("naive_appendix", preset("naive", adc_curve=curve, static_time=static_time), 16),
    ):
        genes = (
            HardwareGenes.from_config(cfg, ref_arch.num_blocks)
            if cfg.mapping == "naive"
            else reference_genes(ref_arch, bits)
        )
        r = figures(
            cost(ref_arch, schema, cfg, genes)
            if cfg.mapping == "naive"
            else on_chip(ref_arch, schema, cfg, genes, chip_mm2)
        )
        rows[name] = {**ratios(r, p), "reference": r}  # type: ignore[dict-item]
    return rows


def xbar_choice(pick: dict[str, Any], schema: Any, curve: str) -> int:
    """The crossbar size that minimises the pick's energy under one ADC curve (others fixed)."""
    from recnas.search.cosearch import CoCandidate

    c = CoCandidate.from_dict(pick["candidate"])
    fair = preset("fair", adc_curve=curve)
    return min(
        XBAR_SIZES,
        key=lambda s: cost(
            c.arch,
            schema,
            fair,
            replace(c.genes, xbar_size=s, cols_per_adc=min(c.genes.cols_per_adc, s)),
        ).energy_pj,
    )


def sensitivity(
    ref_arch: Any, pick: dict[str, Any], schema: Any, chip_mm2: float
) -> dict[str, dict[str, Any]]:
    """Headline ratios and the pick's best crossbar size under each ADC energy curve, and with
    leakage charged per pipelined interval instead of per latency."""
    out = {}
    for name, curve, st in (
        ("isaac", "isaac", "latency"),
        ("murmann", "murmann", "latency"),
        ("isaac, leakage per pipeline interval", "isaac", "interval"),
    ):
        row = comparison_rows(ref_arch, pick, schema, chip_mm2, curve=curve, static_time=st)
        out[name] = {
            "energy_ratio": row["fair_8bit"]["energy_ratio"],
            "latency_ratio": row["fair_8bit"]["latency_ratio"],
            "best_xbar_size": xbar_choice(pick, schema, curve),
        }
    return out


def pim_report(run_dir: str | Path, *, logloss_tol: float | None = None) -> dict[str, Any]:
    """Compare the reference with the co-design pick and the front; write JSON, plots, Markdown."""
    from recnas.data.schema import FeatureSchema
    from recnas.search import non_dominated_sort
    from recnas.search.cosearch import CoCandidate

    rd = RunDir(run_dir)
    meta, records = _load(rd)
    schema = FeatureSchema.from_dict(meta["schema"])
    chip = float(meta["chip_mm2"])
    cands = _candidates(records, schema, chip)
    ref_rec = next((c for c in cands if c["hash"] == meta["reference_hash"]), None)
    if ref_rec is None:
        raise RecnasError(
            f"{rd.cosearch_journal}: the reference candidate was not scored successfully"
        )
    ref_arch = CoCandidate.from_dict(ref_rec["candidate"]).arch
    ref_cost = ref_rec["_cost"]
    ref = {"logloss": ref_rec["logloss"], **figures(ref_cost)}
    tol = tolerance(meta, logloss_tol)
    pick = pick_codesign(cands, ref, tol)
    pts = [[c["logloss"], c["energy_pj"], c["latency_ns"]] for c in cands if c["fits"]]
    fitting = [c for c in cands if c["fits"]]
    front = [fitting[i] for i in non_dominated_sort(pts)[0]] if pts else []
    front.sort(key=lambda c: c["logloss"])
    comparison: dict[str, Any] = {
        "reference": ref,
        "chip_mm2": chip,
        "logloss_tol": tol,
        "candidates": len(cands),
        "candidates_fitting": len(fitting),
        "mode": meta.get("mode"),
        "budgets": meta.get("budgets", {}),
        "reference_self_ratio": ratios(ref, ref),
        "best_within_tol": best_within_tol(cands, ref, tol),
    }
    if pick is not None:
        rows = comparison_rows(ref_arch, pick, schema, chip)
        head = rows["fair_8bit"]
        comparison.update({k: v for k, v in head.items() if k != "reference"})
        comparison["logloss_delta"] = pick["logloss"] - ref["logloss"]
        comparison["rows"] = rows
        comparison["sensitivity"] = sensitivity(ref_arch, pick, schema, chip)
        comparison["pick"] = {k: v for k, v in pick.items() if not k.startswith("_")}
        comparison["accuracy"] = _accuracy(rd, pick["hash"])
        comparison["targets_met"] = {
            **{k: head[k] >= t for k, t in TARGETS.items()},
            "flops_ratio": head["flops_ratio"] >= FLOPS_TARGET,
            "logloss_within_2se": comparison["logloss_delta"] <= tol,
        }
        comparison["missed"] = missed(comparison)
    else:
        comparison.update({k: None for k in (*TARGETS, "flops_ratio", "logloss_delta")})
        comparison["missed"] = ["no candidate fits the chip within the log-loss tolerance"]
    comparison["front"] = [
        {
            **{k: v for k, v in c.items() if not k.startswith("_") and k != "candidate"},
            **ratios(ref, c),
        }
        for c in front
    ]
    _write(rd, comparison, ref_cost, pick, front, cands, ref)
    md = markdown(comparison)
    atomic_write_text(rd.report_sections / "60_pim.md", md)
    return {"comparison": comparison, "markdown": md}


def _accuracy(rd: RunDir, pick_hash: str) -> dict[str, Any] | None:
    """The paired per-row accuracy check of this pick, if the co-search wrote one."""
    path = rd.pim / "accuracy.json"
    if not path.is_file():
        return None
    doc = json.loads(path.read_text())
    return doc if doc.get("pick_hash") == pick_hash else None


def missed(c: dict[str, Any]) -> list[str]:
    """Plain statements of every target the headline misses, with the measured value."""
    out = []
    for key, target in (*TARGETS.items(), ("flops_ratio", FLOPS_TARGET)):
        if c[key] < target:
            out.append(f"{key} {c[key]:.2f} < {target} against the fair iso-area reference")
    if c["logloss_delta"] > c["logloss_tol"]:
        out.append(
            f"log loss +{c['logloss_delta']:.4f} beyond 2 standard errors ({c['logloss_tol']:.4f})"
        )
    acc = c.get("accuracy") or {}
    if acc.get("delta_lo") is not None and acc["delta_lo"] > 0:
        out.append(
            f"paired log-loss difference {acc['delta']:+.4f} "
            f"[{acc['delta_lo']:+.4f}, {acc['delta_hi']:+.4f}] excludes 0: the pick is worse"
        )
    rt = acc.get("retrained")
    if rt and not rt["within_2se"]:
        out.append(
            f"retrained standalone ({rt['seeds']} seeds): log loss {rt['delta']:+.4f} beyond 2 "
            f"standard errors ({2 * rt['se']:.4f})"
        )
    return out


def _write(
    rd: RunDir,
    comparison: dict[str, Any],
    ref_cost: PIMCost,
    pick: dict[str, Any] | None,
    front: list[dict[str, Any]],
    cands: list[dict[str, Any]],
    ref: dict[str, float],
) -> None:
    atomic_write_json(rd.pim / "report.json", comparison)
    atomic_write_json(rd.pim / "reference_cost.json", ref_cost.to_dict())
    if pick is not None:
        atomic_write_json(rd.pim / "pick_cost.json", pick["_cost"].to_dict())
    atomic_write_json(
        rd.pim / "front.json",
        [{k: v for k, v in c.items() if not k.startswith("_")} for c in front],
    )
    for key, label, fname in (
        ("energy_pj", "energy per sample (pJ)", "pareto_energy.png"),
        ("latency_ns", "latency per sample (ns)", "pareto_latency.png"),
    ):
        plot_front(rd.pim / fname, cands, ref, pick, key=key, label=label)


def plot_front(
    path: Path,
    cands: list[dict[str, Any]],
    ref: dict[str, float],
    pick: dict[str, Any] | None,
    *,
    key: str,
    label: str,
) -> None:
    """Log loss against one cost: candidates, non-dominated ones, the reference and the pick."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recnas.search import non_dominated_sort

    pts = [[c["logloss"], c[key]] for c in cands]
    nd = [cands[i] for i in non_dominated_sort(pts)[0]] if pts else []
    nd.sort(key=lambda c: c[key])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(
        [c[key] for c in cands], [c["logloss"] for c in cands], s=10, alpha=0.4, label="candidates"
    )
    ax.plot(
        [c[key] for c in nd], [c["logloss"] for c in nd], "o-", color="C1", label="Pareto front"
    )
    ax.scatter(
        [ref[key]],
        [ref["logloss"]],
        marker="*",
        s=160,
        color="C3",
        label="accuracy-only, 8-bit, same chip",
    )
    if pick is not None:
        ax.scatter(
            [pick[key]], [pick["logloss"]], marker="D", s=60, color="C2", label="co-design pick"
        )
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("proxy log loss")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def _f(x: Any, nd: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{nd}f}"


def markdown(c: dict[str, Any]) -> str:
    """The report section (Markdown)."""
    lines = [
        "## PIM co-design",
        "",
        f"Reference: the accuracy-only winner at uniform 8 bits on the `fair` hardware (128x128 "
        f"crossbars, 2-bit cells, lossless ADC per 128 columns, interactions on a charged digital "
        f"unit, leakage and embedding lookups included), on a {c['chip_mm2']:.3f} mm2 chip whose "
        f"spare area it fills with weight copies. Pick: the lowest-energy candidate on the same "
        f"chip within {c['logloss_tol']:.4f} log loss (2 standard errors) of the reference, among "
        f"{c['candidates_fitting']} of {c['candidates']} scored candidates that fit "
        f"({c['mode']} mode).",
        "",
    ]
    if c.get("pick") is None:
        lines += ["**No co-designed candidate fits within the log-loss tolerance.**", ""]
    else:
        lines += [
            "| row | FLOPs | energy | latency | area | energy beyond FLOPs |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in c["rows"].items():
            label = {
                "fair_8bit": "**fair, 8-bit (headline)**",
                "fair_16bit": "fair, 16-bit reference",
                "naive_appendix": "naive mapping, 16-bit (appendix)",
            }[name]
            lines.append(
                f"| {label} | {_f(r['flops_ratio'])} | {_f(r['energy_ratio'])} | "
                f"{_f(r['latency_ratio'])} | {_f(r['area_ratio'])} | "
                f"{_f(r['energy_beyond_flops'])} |"
            )
        lines += [
            "",
            f"Log-loss change {c['logloss_delta']:+.5f} (tolerance {c['logloss_tol']:.5f}).",
        ]
        acc = c.get("accuracy")
        if acc:
            lines.append(
                f"Paired per-row check on {acc['rows']} validation rows: difference "
                f"{acc['delta']:+.5f}, 95% interval [{acc['delta_lo']:+.5f}, "
                f"{acc['delta_hi']:+.5f}]."
            )
        rt = (acc or {}).get("retrained")
        if rt:
            lines.append(
                f"Retrained standalone at their bits ({rt['seeds']} seeds, {rt['epochs']} epoch(s), "
                f"full validation split): reference {rt['reference']['mean']:.5f} +- "
                f"{rt['reference']['std']:.5f}, pick {rt['pick']['mean']:.5f} +- "
                f"{rt['pick']['std']:.5f}; difference {rt['delta']:+.5f}, 95% interval "
                f"[{rt['delta_lo']:+.5f}, {rt['delta_hi']:+.5f}]."
            )
        lines += [
            "",
            "| cost model variant | energy ratio | latency ratio | best crossbar size for the pick |",
            "|---|---|---|---|",
        ]
        for curve, s in c["sensitivity"].items():
            lines.append(
                f"| {curve} | {_f(s['energy_ratio'])} | {_f(s['latency_ratio'])} | "
                f"{s['best_xbar_size']} |"
            )
    lines += [""] + [f"- Missed: {m}" for m in c["missed"]]
    lines += [
        "",
        "Pareto front of the fitting candidates (ratios against the reference):",
        "",
        "| n | log loss | energy ratio | latency ratio | area ratio | FLOPs ratio |",
        "|---|---|---|---|---|---|",
    ]
    for f in c["front"][:12]:
        lines.append(
            f"| {f['n']} | {f['logloss']:.5f} | {f['energy_ratio']:.2f} | "
            f"{f['latency_ratio']:.2f} | {f['area_ratio']:.2f} | {f['flops_ratio']:.2f} |"
        )
    lines += [
        "",
        "![log loss vs energy](pim/pareto_energy.png)",
        "",
        "![log loss vs latency](pim/pareto_latency.png)",
        "",
        f"*Caveats.* {CAVEATS}",
        "",
    ]
    return "\n".join(lines)
