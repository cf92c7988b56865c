"""The supernet's slope-bounded warm-up: small absolute steps at any run length."""

from __future__ import annotations

import json

import pytest

from recnas.errors import ConfigError
from recnas.nn import Supernet
from recnas.train import lr_at
from recnas.train import train_supernet
from recnas.train._schedule import PAPER_WARMUP_SLOPE
from recnas.train._schedule import WARMUP_SLOPE
from recnas.train._schedule import bounded_warmup


@pytest.mark.parametrize("total", [3, 10, 180, 500, 2_000, 20_000, 71_600])
def test_step_sizes_are_bounded_at_any_length(total: int) -> None:
    """The rate grows by at most the slope a step, so the first step's rate is <= the slope."""
    steps, peak = bounded_warmup(total, 0.12, slope=WARMUP_SLOPE)
    assert 1 <= steps <= max(1, total // 2) and peak <= 0.12
    n = min(total, steps + 5)
    rates = [lr_at(t, total=total, base_lr=peak, warmup=steps) for t in range(n)]
    assert rates[0] <= WARMUP_SLOPE * (1 + 1e-9)
    assert all(b - a <= WARMUP_SLOPE * (1 + 1e-9) for a, b in zip(rates, rates[1:]))
    assert max(rates) == pytest.approx(peak)


def test_short_runs_peak_lower_long_runs_reach_the_rate() -> None:
    assert bounded_warmup(500, 0.12, slope=5e-5) == (250, pytest.approx(0.0125))
    assert bounded_warmup(180, 0.12, slope=WARMUP_SLOPE) == (90, pytest.approx(90 * 0.12 / 7162))
    assert bounded_warmup(30_000, 0.12, slope=5e-5) == (3000, pytest.approx(0.12))
    # at the paper's length this is the spec's schedule: 10% warm-up to 0.12 (never shorter)
    for slope in (PAPER_WARMUP_SLOPE, WARMUP_SLOPE):
        assert bounded_warmup(71_620, 0.12, slope=slope) == (7162, pytest.approx(0.12))


def test_bad_slope_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="slope"):
        bounded_warmup(100, 0.12, slope=0.0)


def test_supernet_training_logs_the_bounded_rate(tiny_schema, tiny_space, mem_cache, tmp_path):
    net = Supernet(tiny_schema, tiny_space)
    kw = dict(space=tiny_space, batch_size=64, max_steps=8, log_every=1, progress=False)
    train_supernet(net, mem_cache, metrics_path=tmp_path / "a.jsonl", **kw)
    rates = [json.loads(line)["lr"] for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert rates[0] <= WARMUP_SLOPE * (1 + 1e-9) and max(rates) <= 4 * WARMUP_SLOPE * (1 + 1e-9)
    plain = Supernet(tiny_schema, tiny_space)
    train_supernet(plain, mem_cache, metrics_path=tmp_path / "b.jsonl", warmup_slope=None, **kw)
    rates = [json.loads(line)["lr"] for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert rates[0] == pytest.approx(0.12)  # the spec's 10% of 8 steps rounds to 1 step


def test_config_default_is_the_library_default() -> None:
    from recnas.config import SupernetConfig

    assert SupernetConfig().warmup_slope == WARMUP_SLOPE


def test_untrained_supernet_starts_at_the_base_rate(tiny_schema, tiny_space, mem_cache) -> None:
    """Head weights zero and bias at the train split's base-rate logit: every path starts at H."""
    import math
    import types

    import torch

    from recnas.train._supernet import _prior_bias

    cache = types.SimpleNamespace(meta={"positives": {"train": 256}, "rows": {"train": 1024}})
    net = Supernet(tiny_schema, tiny_space)
    _prior_bias(net, cache)
    assert net.head_bias.item() == pytest.approx(math.log(0.25 / 0.75))
    trained = Supernet(tiny_schema, tiny_space)
    with torch.no_grad():
        trained.head_weight[0] = 0.5
    _prior_bias(trained, cache)  # a trained supernet (e.g. continued by co-design) keeps its bias
    assert trained.head_bias.item() == 0.0
    _prior_bias(Supernet(tiny_schema, tiny_space), mem_cache)  # no counts recorded: left as is
