"""The fair training protocol (BARS / FuxiCTR): the same for the searched model and every baseline.

Per epoch: train one pass over the (shuffled) training splits, evaluate the validation split, keep the
best checkpoint; an epoch that does not improve the monitored metric multiplies the learning rate by
`lr_decay` (reduce on plateau, floored at `min_lr`), and `patience` such epochs in a row stop training.
The best checkpoint is then restored and the test split is evaluated exactly once.

What differs between models is only their `Recipe` (optimizer, learning rate, regularisation, warm-up,
clipping), each from its own published or BARS setting (docs/baselines.md). State is saved after every
epoch (model, optimizer, RNGs, history), so an interrupted run resumes at the next epoch boundary.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from recnas.errors import ConfigError
from recnas.errors import RecnasError
from recnas.runs import atomic_torch_save
from recnas.runs import atomic_write_json
from recnas.train import _data
from recnas.train._checkpoint import rng_state
from recnas.train._checkpoint import set_rng_state
from recnas.train._metrics import autocast
from recnas.train._metrics import evaluate
from recnas.train._optim import clip_grad_norm
from recnas.train._optim import make_optimizer
from recnas.train._optim import set_lr

OPTIMIZERS = ("adam", "adagrad")
MONITORS = ("logloss", "auc")


@dataclass(frozen=True)
class Recipe:
    """One model's own optimisation settings under the protocol.

    adam: torch Adam over every parameter with dense embedding gradients, and `embedding_l2` adds
    (l2 / 2) * ||E||^2 of every embedding table to each step's loss (FuxiCTR's embedding_regularizer).
    adagrad: recnas's Adagrad (eps 1e-2, sparse embedding rows), the NASRec recipe.
    `warmup`: linear warm-up over this fraction of the first epoch's steps (0 = none).
    `embedding_init_std`: re-draw every embedding table from N(0, std^2) before training (FuxiCTR's
    default initialiser, std 1e-4); None keeps the model's own initialisation.
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    embedding_l2: float = 0.0
    embedding_init_std: float | None = None
    warmup: float = 0.0
    clip: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"recipe optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"recipe lr must be a positive number, got {self.lr}")
        if self.embedding_l2 < 0 or not 0.0 <= self.warmup <= 1.0:
            raise ConfigError(f"recipe: embedding_l2 >= 0 and warmup in [0, 1] needed, got "
                              f"{self.embedding_l2}, {self.warmup}")


@dataclass(frozen=True)
class Protocol:
    """The settings every model shares: epochs, batch, plateau decay, early stopping, monitor."""

    max_epochs: int = 50
    patience: int = 2
    lr_decay: float = 0.1
    min_lr: float = 1e-6
    monitor: str = "logloss"
    batch_size: int | None = None  # None: recnas.train.default_batch_size(schema)
    eval_batch_size: int = 8192

    def __post_init__(self) -> None:
        if self.max_epochs < 1 or self.patience < 1:
            raise ConfigError(f"protocol: max_epochs and patience must be >= 1, got "
                              f"{self.max_epochs}, {self.patience}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ConfigError(f"protocol lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"protocol monitor must be one of {MONITORS}, got {self.monitor!r}")


def _best(history: Sequence[dict[str, Any]], monitor: str) -> dict[str, Any] | None:
    """The best epoch so far (the earliest among equals), or None before the first."""
    if not history:
        return None
    key = (lambda r: r["logloss"]) if monitor == "logloss" else (lambda r: -r["auc"])
    return min(history, key=lambda r: (key(r), r["epoch"]))


def _better(monitor: str, new: dict[str, Any], best: dict[str, Any] | None) -> bool:
    """Whether epoch `new` strictly improves on `best` (None: the first epoch always does)."""
    if best is None:
        return True
    if monitor == "auc":
        return new["auc"] > best["auc"]
    return new["logloss"] < best["logloss"]


def _embedding_tables(model: nn.Module) -> list[nn.Parameter]:
    """Weights of every embedding table (recnas Embeddings or torch nn.Embedding)."""
    from recnas.nn.embedding import Embeddings

    out = []
    for m in model.modules():
        if isinstance(m, (Embeddings, nn.Embedding, nn.EmbeddingBag)):
            out.append(m.weight)
    return out


def _use_dense_embedding_grads(model: nn.Module) -> None:
    """Adam needs dense gradients: switch every embedding lookup of the model to them."""
    for m in model.modules():
        if hasattr(m, "sparse_grad"):
            m.sparse_grad = False
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            m.sparse = False


def make_protocol_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """The recipe's optimizer over all of `model`'s parameters (Adam switches to dense lookups)."""
    if recipe.optimizer == "adagrad":
        return make_optimizer(model, lr=recipe.lr)
    _use_dense_embedding_grads(model)
    return torch.optim.Adam(model.parameters(), lr=recipe.lr)


def _evaluate(model: nn.Module, cache: Any, split: str, batch: int, device: torch.device) -> dict[str, Any]:
    loader = _data.make_loader(cache, split, batch, shuffle=False, seed=0, drop_last=False)
    model.eval()
    out = dict(evaluate(lambda b: model(b.dense, b.sparse), loader, device=device))
    model.train()
    return out


def _train_epoch(
    model: nn.Module,
    loader: Any,
    opt: torch.optim.Optimizer,
    recipe: Recipe,
    *,
    lr: float,
    warm_steps: int,
    tables: Sequence[nn.Parameter],
    device: torch.device,
    bar: Any,
) -> tuple[float, int]:
    """One pass over `loader`; returns (mean training loss, steps)."""
    total, steps = torch.zeros((), device=device), 0
    params = list(model.parameters())
    for batch in loader:
        batch = batch.to(device, non_blocking=True)
        if steps < warm_steps:
            set_lr(opt, lr * (steps + 1) / warm_steps)
        elif steps == warm_steps:
            set_lr(opt, lr)
        opt.zero_grad(set_to_none=True)
        with autocast(device):
            logits = model(batch.dense, batch.sparse)
        loss = F.binary_cross_entropy_with_logits(logits.float().reshape(-1), batch.label.float().reshape(-1))
        reg = loss
        if recipe.embedding_l2 > 0:
            reg = loss + 0.5 * recipe.embedding_l2 * sum(w.pow(2).sum() for w in tables)
        reg.backward()
        if recipe.clip:
            clip_grad_norm(params, recipe.clip)
        opt.step()
        total += loss.detach()
        steps += 1
        bar.update(1)
    if steps == 0:
        raise ConfigError("the training loader yields no batches (too few rows for one batch?)")
    mean = float(total.item()) / steps
    if not math.isfinite(mean):
        raise RecnasError(f"training diverged: mean epoch loss {mean}")
    return mean, steps


def fit(
    model: nn.Module,
    cache: Any,
    *,
    recipe: Recipe,
    protocol: Protocol = Protocol(),
    out_dir: str | Path,
    seed: int = 0,
    splits: Sequence[str] = ("train",),
    eval_split: str = "val",
    test: bool = True,
    device: str | torch.device = "cpu",
    settings: dict[str, Any] | None = None,
    progress: bool = True,
    desc: str = "fit",
) -> dict[str, Any]:
    """Train `model` (already built and seeded by the caller) under the fair protocol; -> metrics.

    Writes out_dir/{state.pt, best.pt, epochs.json, metrics.json}. A finished out_dir trained with the
    same settings but test=False is only tested (the test split is still touched once). metrics: `val` (the best epoch's
    validation scores), `test` (once, with the best weights, when `test`), `val_by_epoch`, `best_epoch`,
    `epochs_run`, `stopped_early`, `steps`, `train_seconds`, `settings`. A finished out_dir with the same
    settings is returned as is.
    """
    if eval_split in splits or "test" in splits:
        raise ConfigError(f"training splits {list(splits)} must not include the eval split "
                          f"{eval_split!r} or test")
    device = torch.device(device)
    out = Path(out_dir)
    bs = int(protocol.batch_size or _default_batch(cache))
    full = {"recipe": asdict(recipe), "protocol": {**asdict(protocol), "batch_size": bs}, "seed": seed,
            "splits": list(splits), "eval_split": eval_split, "test": test, **(settings or {})}
    done = out / "metrics.json"
    if done.is_file():
        prev = json.loads(done.read_text())
        if prev.get("settings") == full:
            return prev
        if test and prev.get("settings") == {**full, "test": False}:
            # the same training already ran without its test (e.g. a top-k candidate that won):
            # its best weights are tested now, once, instead of being trained again
            model.to(device)
            st = {"history": prev["val_by_epoch"], "steps": prev["steps"], "seconds": prev["train_seconds"]}
            return _finish(model, cache, out, st, full, protocol, test=True, device=device)
    out.mkdir(parents=True, exist_ok=True)
    if recipe.embedding_init_std is not None:
        with torch.no_grad():
            for w in _embedding_tables(model):
                w.normal_(0.0, recipe.embedding_init_std)
    model.to(device).train()
    opt = make_protocol_optimizer(model, recipe)
    tables = _embedding_tables(model) if recipe.optimizer == "adam" else []
    loader = _data.make_loader(cache, list(splits), bs, shuffle=True, seed=seed, drop_last=True)
    st = _resume(out / "state.pt", model, opt, full)
    if st is None:
        st = {"epoch": 0, "lr": recipe.lr, "bad": 0, "history": [], "steps": 0, "seconds": 0.0}
        torch.manual_seed(seed)
    bar = tqdm(total=protocol.max_epochs * len(loader), initial=st["epoch"] * len(loader), desc=desc,
               unit="step", disable=not progress, dynamic_ncols=True, leave=False)
    while st["epoch"] < protocol.max_epochs and st["bad"] < protocol.patience:
        t0 = time.perf_counter()
        loader.set_epoch(st["epoch"])
        set_lr(opt, st["lr"])
        warm = int(round(recipe.warmup * len(loader))) if st["epoch"] == 0 else 0
        loss, steps = _train_epoch(model, loader, opt, recipe, lr=st["lr"], warm_steps=warm, tables=tables,
                                   device=device, bar=bar)
        st["seconds"] += time.perf_counter() - t0
        st["steps"] += steps
        row = {"epoch": st["epoch"] + 1, "lr": st["lr"], "train_loss": loss,
               **_evaluate(model, cache, eval_split, protocol.eval_batch_size, device)}
        if _better(protocol.monitor, row, _best(st["history"], protocol.monitor)):
            atomic_torch_save(out / "best.pt", model.state_dict())
            st["bad"] = 0
        else:
            st["bad"] += 1
            st["lr"] = max(st["lr"] * protocol.lr_decay, protocol.min_lr)
        st["history"].append(row)
        st["epoch"] += 1
        bar.set_postfix(val=f"{row['logloss']:.4f}", auc=f"{row['auc']:.4f}")
        atomic_torch_save(out / "state.pt", {"model": model.state_dict(), "optimizer": opt.state_dict(),
                                             "rng": rng_state(), "state": json.dumps(st),
                                             "settings": json.dumps(full, sort_keys=True)})
        atomic_write_json(out / "epochs.json", st["history"])
    bar.close()
    return _finish(model, cache, out, st, full, protocol, test=test, device=device)


def _default_batch(cache: Any) -> int:
    from recnas.train._supernet import default_batch_size

    return int(default_batch_size(cache.schema))


def _resume(path: Path, model: nn.Module, opt: torch.optim.Optimizer, full: dict[str, Any]) -> dict[str, Any] | None:
    """The saved per-epoch state if `path` holds one for the same settings (else None: start over)."""
    if not path.is_file():
        return None
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if ck.get("settings") != json.dumps(full, sort_keys=True):
        return None
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["optimizer"])
    set_rng_state(ck["rng"])
    return json.loads(ck["state"])


def _finish(
    model: nn.Module,
    cache: Any,
    out: Path,
    st: dict[str, Any],
    full: dict[str, Any],
    protocol: Protocol,
    *,
    test: bool,
    device: torch.device,
) -> dict[str, Any]:
    hist = st["history"]
    best = _best(hist, protocol.monitor)
    assert best is not None  # fit always runs at least one epoch
    model.load_state_dict(torch.load(out / "best.pt", map_location=device, weights_only=True))
    m: dict[str, Any] = {
        "settings": full,
        "val_by_epoch": hist,
        "best_epoch": best["epoch"],
        "epochs_run": len(hist),
        "stopped_early": len(hist) < protocol.max_epochs,
        "steps": st["steps"],
        "train_seconds": st["seconds"],
        full["eval_split"]: {k: v for k, v in best.items() if k not in ("epoch", "lr", "train_loss")},
    }
    if test:
        m["test"] = _evaluate(model, cache, "test", protocol.eval_batch_size, device)  # the one test pass
    main = m["test"] if test else m[full["eval_split"]]
    m.update(logloss=main["logloss"], auc=main["auc"], evaluated_on="test" if test else full["eval_split"])
    oracle = (getattr(cache, "meta", None) or {}).get("oracle")
    if oracle and test and "test" in oracle:
        m["oracle_test_logloss"] = oracle["test"]["logloss"]
        m["regret"] = m["test"]["logloss"] - oracle["test"]["logloss"]
    atomic_write_json(out / "metrics.json", m)
    return m
