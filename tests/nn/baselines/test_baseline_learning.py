"""Every baseline learns a planted pairwise interaction that logistic regression cannot represent."""

from __future__ import annotations

import pytest
import torch

from recnas.nn.baselines import create_baseline
from recnas.nn.baselines import list_baselines
from recnas.train import evaluate
from recnas.train import train

from _baseline_data import SCHEMA
from _baseline_data import ListLoader
from _baseline_data import planted


def _fit_auc(name: str) -> float:
    torch.manual_seed(0)
    model = create_baseline(name, SCHEMA, "small")
    train(
        model,
        ListLoader(planted(3072, seed=1), 128),
        lr=0.1,
        epochs=8,
        warmup=0.05,
        seed=0,
        progress=False,
        log_every=1000,
    )
    model.eval()
    res = evaluate(lambda b: model(b.dense, b.sparse), ListLoader(planted(2048, seed=2), 512))
    return float(res["auc"])


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread: tiny models only lose to thread contention on a shared 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def lr_auc(one_thread: None) -> float:
    return _fit_auc("lr")


def test_lr_cannot_see_the_interaction(lr_auc: float) -> None:
    assert lr_auc < 0.62  # only the weak dense term is linear


@pytest.mark.parametrize("name", [n for n in list_baselines() if n != "lr"])
def test_learns_planted_interaction(name: str, lr_auc: float) -> None:
    auc = _fit_auc(name)
    assert auc > lr_auc + 0.15, f"{name}: AUC {auc:.3f} vs LR {lr_auc:.3f}"
