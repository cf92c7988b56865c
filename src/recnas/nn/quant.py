"""Fake quantization with a straight-through estimator (mixed-precision hook for PIM co-search, pim.md)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from recnas.errors import ConfigError

VALID_BITS: tuple[int, ...] = (4, 8, 16)

# BitsMap: 1-based block index -> (weight bits, activation bits); None / 32 = full precision.
BitsMap = Mapping[int, tuple["int | None", "int | None"]]


def fake_quant(x: torch.Tensor, bits: int | None) -> torch.Tensor:
    """Symmetric per-tensor fake quantization to `bits` (4, 8 or 16); None or 32 returns `x` unchanged.

    Forward: round(x / scale) clamped to [-(2^(b-1)-1), 2^(b-1)-1], times scale, scale = max|x| / qmax.
    Backward: straight-through (gradient of the identity).
    """
    if bits is None or bits >= 32:
        return x
    if bits not in VALID_BITS:
        raise ConfigError(f"fake_quant: bits = {bits}; valid: {list(VALID_BITS)}, 32 or None (off)")
    qmax = float(2 ** (bits - 1) - 1)
    scale = (x.detach().abs().amax() / qmax).clamp_min(1e-12)
    q = torch.clamp(torch.round(x / scale), -qmax, qmax) * scale
    return x + (q - x).detach()


def check_bits(bits: BitsMap | None, num_blocks: int) -> None:
    """Validate a per-block bits mapping; raise ConfigError naming the bad entry."""
    if bits is None:
        return
    for k, pair in bits.items():
        if not isinstance(k, int) or not 1 <= k <= num_blocks:
            raise ConfigError(f"bits: block index {k!r}; expected 1..{num_blocks}")
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise ConfigError(f"bits[{k}] = {pair!r}; expected a (w_bits, a_bits) tuple")
        for b in pair:
            if b is not None and b != 32 and b not in VALID_BITS:
                raise ConfigError(f"bits[{k}] = {pair!r}; each entry must be 4, 8, 16, 32 or None")
