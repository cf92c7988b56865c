"""Fake quantization with a straight-through estimator (mixed-precision hook for PIM co-search, pim.md)."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager

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
    lo, hi = torch.aminmax(x.detach())
    scale = (torch.maximum(lo.abs(), hi.abs()) / qmax).clamp_min(1e-12)
    if not x.requires_grad:  # forward-only (scoring): no STE graph, in place on one new tensor
        return torch.div(x, scale).round_().clamp_(-qmax, qmax).mul_(scale)
    q = torch.clamp(torch.round(x / scale), -qmax, qmax) * scale
    return x + (q - x).detach()


def fake_quant_weight(w: torch.Tensor, bits: int | None) -> torch.Tensor:
    """Symmetric per-output-channel fake quantization of a weight [out, in] (one scale per row)."""
    if bits is None or bits >= 32:
        return w
    if bits not in VALID_BITS:
        raise ConfigError(f"fake_quant: bits = {bits}; valid: {list(VALID_BITS)}, 32 or None (off)")
    qmax = float(2 ** (bits - 1) - 1)
    scale = (w.detach().abs().amax(dim=-1, keepdim=True) / qmax).clamp_min(1e-12)
    q = torch.clamp(torch.round(w / scale), -qmax, qmax) * scale
    return w + (q - w).detach()


_SITES: list[set[str]] = []  # open `record_sites` collectors


@contextmanager
def record_sites() -> Iterator[set[str]]:
    """Collect the names of the quantisation sites the forwards inside run (for tests/reports)."""
    sites: set[str] = set()
    _SITES.append(sites)
    try:
        yield sites
    finally:
        _SITES.remove(sites)


def note_site(site: str) -> None:
    """Record that quantisation site `site` ran (a no-op unless `record_sites` is open)."""
    for sites in _SITES:
        sites.add(site)


def quant_operand(x: torch.Tensor, bits: int | None, site: str) -> torch.Tensor:
    """An interaction operand at the bits the cost model charges, recorded as `site`."""
    if bits is not None:
        note_site(site)
    return fake_quant(x, bits)


# The head's (w_bits, a_bits): what the cost model charges for the head's crossbar layer
# (HardwareGenes.head) and what the co-design path quantises it at; the supernet's head is shared by
# every candidate, so it has one precision, not a searched one.
HEAD_BITS: tuple[int, int] = (16, 16)
HEAD_SITE = "head.linear"  # the cost model's name of the head's crossbar layer


def head_logits(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, quantise: bool) -> torch.Tensor:
    """Logits x @ w + b of a head (w: [H]); with `quantise`, its input and weight fake-quantised at
    HEAD_BITS as the cost model charges them, recorded as HEAD_SITE."""
    if not quantise:
        return x @ w + b
    note_site(HEAD_SITE)
    w_bits, a_bits = HEAD_BITS
    return fake_quant(x, a_bits) @ fake_quant_weight(w.unsqueeze(0), w_bits)[0] + b


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
