"""Global-norm gradient clipping that accepts sparse embedding gradients (method.md §4.3: clip 5.0).

torch.nn.utils.clip_grad_norm_ rejects sparse COO gradients; this version coalesces them first
(duplicate rows must be summed before the norm) and scales them out of place.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


@torch.no_grad()
def clip_grad_norm_(params: Iterable[torch.nn.Parameter], max_norm: float) -> float:
    """Scale all gradients so their global L2 norm is at most `max_norm`; returns the norm before."""
    params = [p for p in params if p.grad is not None]
    if not params:
        return 0.0
    squares = []
    dense = []
    for p in params:
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()
            squares.append(p.grad._values().float().pow(2).sum())
        else:
            dense.append(p.grad)
    if dense:
        squares.append(torch.stack(torch._foreach_norm(dense)).float().pow(2).sum())
    total = torch.stack([s.to(squares[0].device) for s in squares]).sum().sqrt()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    if dense:
        torch._foreach_mul_(dense, coef.to(dense[0].device))
    for p in params:
        if p.grad.is_sparse:
            p.grad = p.grad * coef.to(p.grad.device)
    return float(total)
