"""PNG plots of a run (matplotlib, lazily imported, Agg backend): drawing only, no computing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=110)
    _pyplot().close(fig)
    tmp.replace(path)  # atomic: a reader never sees half a PNG
    return path


def plot_search_progress(progress: Sequence[tuple[int, float, float]], path: Path) -> Path:
    """Proxy log loss of each scored candidate and the best so far, against candidates scored."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ks = [p[0] for p in progress]
    ax.scatter(ks, [p[1] for p in progress], s=8, alpha=0.4, color="tab:gray", label="candidate")
    ax.step(ks, [p[2] for p in progress], where="post", color="tab:blue", label="best so far")
    ax.set_xlabel("candidates scored")
    ax.set_ylabel("proxy log loss (val)")
    ax.set_title("Search progress")
    if progress:
        lo = min(p[2] for p in progress)
        hi = sorted(p[1] for p in progress)[int(0.95 * (len(progress) - 1))]  # clip outliers
        ax.set_ylim(lo - 0.05 * (hi - lo + 1e-9), hi + 0.05 * (hi - lo + 1e-9))
    ax.legend(loc="upper right")
    return _save(fig, path)


def plot_score_vs_flops(
    points: Sequence[tuple[float, float, str]], path: Path, *, highlight: Sequence[str] = ()
) -> Path:
    """Proxy log loss against FLOPs per sample for every scored candidate; top-k highlighted."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    hi = set(highlight)
    rest = [p for p in points if p[2] not in hi]
    top = [p for p in points if p[2] in hi]
    ax.scatter([p[0] for p in rest], [p[1] for p in rest], s=10, alpha=0.5, label="candidates")
    if top:
        ax.scatter([p[0] for p in top], [p[1] for p in top], s=30, color="tab:red", label="top-k")
    if points and min(p[0] for p in points) > 0:
        ax.set_xscale("log")
    ax.set_xlabel("FLOPs per sample (2 per multiply-add)")
    ax.set_ylabel("proxy log loss (val)")
    ax.set_title("Candidates: score against cost")
    ax.legend(loc="upper right")
    return _save(fig, path)


def plot_final_comparison(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Bars of test log loss for the searched model and the controls/baselines."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 0.6 * max(2, len(rows)) + 1.2))
    names = [r["model"] for r in rows]
    vals = [r["test_logloss"] for r in rows]
    colors = ["tab:blue" if r["model"].startswith("searched") else "tab:gray" for r in rows]
    ax.barh(names, vals, color=colors)
    if vals:
        lo, hi = min(vals), max(vals)
        pad = max(hi - lo, 1e-4)
        ax.set_xlim(lo - pad, hi + 0.5 * pad)  # zoom: log-loss differences are small
        for y, v in enumerate(vals):
            ax.text(v, y, f" {v:.5f}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("test log loss (lower is better)")
    ax.set_title("Final models")
    return _save(fig, path)
