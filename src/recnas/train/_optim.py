"""Optimizers with sparse embedding updates, and a sparse-aware global norm clip (method.md §4.3).

Embedding tables produce sparse row gradients. With Adagrad (the paper's optimizer) they sit in
their own parameter group, which takes torch's sparse path (touches only the rows of the batch),
while the dense group keeps the fast multi-tensor path. With Adam the dense parameters use torch's
Adam and the tables torch's SparseAdam (lazy: only the rows of the batch move). A step therefore
costs the same whatever the table size.
"""

from __future__ import annotations

import warnings
from typing import Any
from typing import Iterable
from typing import Sequence

import torch
from torch import nn

from recnas.errors import ConfigError

ADAGRAD_EPS = 1e-2
OPTIMIZERS = ("adagrad", "adam")

# torch's sparse Adagrad builds its row tensors itself and warns on every run that invariant checks
# are off; the message says nothing actionable to a recnas user.
warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly disabled")


def sparse_parameters(model: nn.Module) -> set[int]:
    """ids of parameters that receive sparse gradients (sparse nn.Embedding, recnas Embeddings)."""
    out: set[int] = set()
    for m in model.modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse:
            out.add(id(m.weight))
        elif getattr(m, "sparse_grad", False) and isinstance(
            getattr(m, "weight", None), nn.Parameter
        ):
            out.add(id(m.weight))
    return out


class DenseSparseAdam:
    """Adam over the dense parameters and SparseAdam over the sparse-gradient tables, as one optimizer.

    `param_groups` lists both optimizers' groups (so `set_lr` reaches both); the state dict holds
    both, so a checkpointed run resumes exactly.
    """

    def __init__(self, dense: list[nn.Parameter], sparse: list[nn.Parameter], *, lr: float) -> None:
        self.parts: list[torch.optim.Optimizer] = []
        if dense:
            self.parts.append(torch.optim.Adam(dense, lr=lr, foreach=None))
        if sparse:
            self.parts.append(torch.optim.SparseAdam(sparse, lr=lr))

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """Both parts' groups, read live (load_state_dict replaces a part's group dicts)."""
        return [g for o in self.parts for g in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient."""
        for o in self.parts:
            o.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        """One update of every part."""
        for o in self.parts:
            o.step()

    def state_dict(self) -> dict[str, Any]:
        """Both parts' states (dense first)."""
        return {"parts": [o.state_dict() for o in self.parts]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict` of an optimizer over the same parameters."""
        parts = state["parts"]
        if len(parts) != len(self.parts):
            raise ValueError(f"{len(parts)} optimizer parts saved, {len(self.parts)} here")
        for o, s in zip(self.parts, parts):
            o.load_state_dict(s)


def make_optimizer(
    model: nn.Module,
    *,
    lr: float,
    params: Sequence[nn.Parameter] | None = None,
    eps: float = ADAGRAD_EPS,
    kind: str = "adagrad",
) -> Any:
    """`kind` (Adagrad, wd 0, or Adam) over `params` (default: all); sparse-gradient tables apart."""
    if kind not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {kind!r}; choose from {list(OPTIMIZERS)}")
    chosen = list(model.parameters()) if params is None else list(params)
    sparse_ids = sparse_parameters(model)
    sparse = [p for p in chosen if id(p) in sparse_ids]
    dense = [p for p in chosen if id(p) not in sparse_ids]
    if kind == "adam":
        return DenseSparseAdam(dense, sparse, lr=lr)
    groups = [{"params": dense, "foreach": None}] if dense else []
    if sparse:
        groups.append({"params": sparse, "foreach": False})
    return torch.optim.Adagrad(groups, lr=lr, eps=eps, weight_decay=0.0)


def set_lr(opt: Any, lr: float) -> None:
    """Set every group's rate (a Python float: no device sync)."""
    for g in opt.param_groups:
        g["lr"] = lr


def clip_grad_norm(params: Iterable[nn.Parameter], max_norm: float) -> torch.Tensor:
    """Scale all gradients so their global L2 norm is <= max_norm; return the norm before clipping.

    Sparse gradients are coalesced first (duplicate rows are summed before squaring) and replaced
    by their coalesced, scaled form. No host sync: the scale is a device tensor, always applied.
    """
    with_grad = [p for p in params if p.grad is not None]
    if not with_grad:
        return torch.zeros(())
    for p in with_grad:
        if p.grad.is_sparse and not p.grad.is_coalesced():
            p.grad = p.grad.coalesce()
    dense = [p.grad for p in with_grad if not p.grad.is_sparse]
    sparse = [p for p in with_grad if p.grad.is_sparse]
    sq = [g._values().float().pow(2).sum() for g in (p.grad for p in sparse)]
    if dense:
        sq.extend(n.float().pow(2) for n in torch._foreach_norm(dense))
    total = torch.stack(sq).sum().sqrt()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    if dense:
        torch._foreach_mul_(dense, coef.to(dense[0].device))
    for p in sparse:
        g = p.grad
        p.grad = torch.sparse_coo_tensor(
            g._indices(),
            g._values() * coef.to(g.device),
            g.shape,
            is_coalesced=True,
            check_invariants=False,
        )
    return total
