"""Learning-rate schedule (method.md §4.3, §5, §7): linear warm-up, then cosine decay to a floor.

The rate is a pure function of the step, so a resumed run reproduces it without saved state.

Supernet training adds a bound on the warm-up's slope (`bounded_warmup`). Adagrad's first steps move
every weight by about the rate whatever the gradient's scale, so a layer with a fan-in in the
thousands (the shared head, block 7's slot-space Linears) shifts its output by ~rate x fan-in per
step. The paper's schedule is safe because its warm-up is long in absolute terms (0.12 reached after
7,162 steps); a run with few steps must keep the rate's growth per step as small, and therefore
peaks lower. docs/supernet.md has the measured grid behind the default slope.
"""

from __future__ import annotations

import math

from recnas.errors import ConfigError

FINAL_LR = 1e-8
PAPER_WARMUP_SLOPE = 0.12 / 7162  # rate gained per step in the paper's Criteo warm-up
WARMUP_SLOPE = PAPER_WARMUP_SLOPE  # supernet default (measured grid in docs/supernet.md)
WARMUP_MAX_FRACTION = 0.5  # a slope-bounded warm-up takes at most this share of the run


def warmup_steps(total: int, warmup: int | float) -> int:
    """Warm-up length in steps: an int as is, a float in [0, 1) as a fraction of `total`."""
    if isinstance(warmup, float) and 0.0 <= warmup < 1.0:
        n = int(round(warmup * total))
    else:
        n = int(warmup)
    return max(0, min(n, total))


def bounded_warmup(
    total: int,
    lr: float,
    *,
    slope: float,
    min_fraction: float = 0.1,
    max_fraction: float = WARMUP_MAX_FRACTION,
) -> tuple[int, float]:
    """(warm-up steps, peak rate): the rate grows by at most `slope` a step from ~0 to `lr`.

    The warm-up is never shorter than the spec's (`min_fraction` of the run), so a paper-length
    run keeps the paper's schedule. A run too short to reach `lr` within `max_fraction` of its
    steps peaks at what it reaches (slope x warm-up): the first step's rate is at most `slope`
    whatever the run's length.
    """
    if total <= 0 or lr <= 0.0:
        return 0, lr
    if slope <= 0.0:
        raise ConfigError(f"warm-up slope must be positive, not {slope}")
    longest = max(1, int(max_fraction * total))
    wanted = max(math.ceil(lr / slope), int(round(min_fraction * total)), 1)
    steps = min(longest, wanted)
    return steps, min(lr, slope * steps)


def lr_at(
    step: int, *, total: int, base_lr: float, warmup: int, final_lr: float = FINAL_LR
) -> float:
    """Rate for 0-based `step` of `total`: linear warm-up, then cosine to the floor."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return final_lr + 0.5 * (base_lr - final_lr) * (1.0 + math.cos(math.pi * progress))
