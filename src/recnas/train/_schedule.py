"""Learning-rate schedule (method.md §4.3, §5, §7): linear warm-up, then cosine decay to a floor.

The rate is a pure function of the step, so a resumed run reproduces it without saved state.
"""

from __future__ import annotations

import math

FINAL_LR = 1e-8


def warmup_steps(total: int, warmup: int | float) -> int:
    """Warm-up length in steps: an int as is, a float in [0, 1) as a fraction of `total`."""
    if isinstance(warmup, float) and 0.0 <= warmup < 1.0:
        n = int(round(warmup * total))
    else:
        n = int(warmup)
    return max(0, min(n, total))


def lr_at(
    step: int, *, total: int, base_lr: float, warmup: int, final_lr: float = FINAL_LR
) -> float:
    """Rate for 0-based `step` of `total`: linear warm-up, then cosine to the floor."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return final_lr + 0.5 * (base_lr - final_lr) * (1.0 + math.cos(math.pi * progress))
