"""Operator contracts (method.md §2.3): registry, shapes at every width, no NaN, exact math against
naive re-implementations written independently of the op code (explicit padding, loops, nn.MHA)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import recnas.nn.ops as ops_pkg
from recnas.errors import ConfigError
from recnas.nn.ops import OPS
from recnas.nn.ops import BlockInputs
from recnas.nn.ops import OpDims
from recnas.space.arch import DENSE_WIDTHS
from recnas.space.arch import SPARSE_WIDTHS

E = 16
B = 3


def _ln(y: torch.Tensor, proj) -> torch.Tensor:  # noqa: ANN001
    if proj.ln_weight is None:
        return y
    return F.layer_norm(y, (y.shape[-1],), proj.ln_weight, proj.ln_bias)


def _lin(x: torch.Tensor, proj) -> torch.Tensor:  # noqa: ANN001
    return x @ proj.weight.T + (0 if proj.bias is None else proj.bias)


def test_registry_names_equal_file_names() -> None:
    files = {p.stem for p in Path(ops_pkg.__file__).parent.glob("*.py") if not p.stem.startswith("_")}
    assert set(OPS.names()) == files == {"fc", "gating", "sum", "dot_product", "efc", "attention", "fm", "d2s"}


def test_unknown_op_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match="valid: .*'dot_product'"):
        OPS.get("conv")


@pytest.mark.parametrize("layernorm", [True, False])
@pytest.mark.parametrize("width", DENSE_WIDTHS)
def test_dense_ops_shapes_every_width(width: int, layernorm: bool) -> None:
    torch.manual_seed(width)
    dims = OpDims(dense_in=40, items_in=30, dense_width=width, sparse_width=16, pair_width=max(40, 24))
    ins = BlockInputs(x=torch.randn(B, 40), X=torch.randn(B, 30, E), a=torch.randn(B, 40), b=torch.randn(B, 24))
    for name in ("fc", "dot_product", "sum", "gating"):
        op = OPS.get(name)(dims, layernorm=layernorm, elastic=False)
        y = op(ins, width)
        assert y.shape == (B, width), name
        assert torch.isfinite(y).all(), name


@pytest.mark.parametrize("layernorm", [True, False])
@pytest.mark.parametrize("width", SPARSE_WIDTHS)
def test_sparse_ops_shapes_every_width(width: int, layernorm: bool) -> None:
    dims = OpDims(dense_in=40, items_in=30, dense_width=64, sparse_width=width, pair_width=64)
    ins = BlockInputs(X=torch.randn(B, 30, E))
    for name in ("efc", "attention"):
        y = OPS.get(name)(dims, layernorm=layernorm, elastic=False)(ins, width)
        assert y.shape == (B, width, E), name
        assert torch.isfinite(y).all(), name


def test_fc_math() -> None:
    op = OPS.get("fc")(OpDims(20, 5, 32, 16, 32), layernorm=True, elastic=False)
    x = torch.randn(B, 20)
    ref = torch.relu(_ln(x @ op.proj.weight.T, op.proj))
    assert torch.allclose(op(BlockInputs(x=x), 32), ref, atol=1e-6)


@pytest.mark.parametrize("layernorm", [True, False])
def test_efc_mixes_items_not_coordinates(layernorm: bool) -> None:
    op = OPS.get("efc")(OpDims(20, 30, 32, 48, 32), layernorm=layernorm, elastic=False)
    xs = torch.randn(B, 30, E)
    w = op.proj.weight  # [s, N]
    lin = torch.einsum("sn,bne->bse", w, xs)
    if op.proj.bias is not None:
        lin = lin + op.proj.bias[None, :, None]
    if layernorm:  # LN over the s items of each coordinate
        mu = lin.mean(1, keepdim=True)
        var = lin.var(1, unbiased=False, keepdim=True)
        lin = (lin - mu) / torch.sqrt(var + 1e-5) * op.proj.ln_weight[None, :, None] + op.proj.ln_bias[None, :, None]
    assert torch.allclose(op(BlockInputs(X=xs), 48), torch.relu(lin), atol=1e-5)


@pytest.mark.parametrize("din,n,d", [(20, 30, 64), (16, 30, 128), (20, 16, 128), (16, 11, 64)])
def test_dot_product_math(din: int, n: int, d: int) -> None:
    k = round(math.sqrt(2 * d))
    op = OPS.get("dot_product")(OpDims(din, n, d, 16, d), layernorm=True, elastic=False)
    assert (op.u is None) == (din == 16) and (op.p is None) == (n == k)
    x, xs = torch.randn(B, din), torch.randn(B, n, E)
    u = x if din == 16 else _ln(_lin(x, op.u), op.u)
    v = xs if n == k else _ln(_lin(xs.transpose(1, 2), op.p), op.p).transpose(1, 2)
    t = torch.cat([u[:, None], v], 1)
    z = torch.stack([(t[:, r] * t[:, c]).sum(-1) for r in range(k + 1) for c in range(r)], 1)
    assert z.shape[1] == (k + 1) * k // 2
    ref = _ln(_lin(z, op.out), op.out)
    assert torch.allclose(op(BlockInputs(x=x, X=xs), d), ref, atol=1e-4)


@pytest.mark.parametrize("dl,dr,d", [(13, 64, 32), (64, 13, 32), (32, 32, 32), (16, 64, 64)])
@pytest.mark.parametrize("layernorm", [True, False])
def test_sum_and_gating_value_space(dl: int, dr: int, d: int, layernorm: bool) -> None:
    w = max(dl, dr)
    dims = OpDims(10, 10, d, 16, w)
    a, b = torch.randn(B, dl), torch.randn(B, dr)
    pa, pb = F.pad(a, (0, w - dl)), F.pad(b, (0, w - dr))
    ins = BlockInputs(a=a, b=b)
    s = OPS.get("sum")(dims, layernorm=layernorm, elastic=False)
    assert (s.out.weight is None) == (w == d)
    ref = pa + pb if w == d else _lin(pa + pb, s.out)
    assert torch.allclose(s(ins, d), _ln(ref, s.out), atol=1e-5)
    g = OPS.get("gating")(dims, layernorm=layernorm, elastic=False)
    assert g.gate.weight.shape == (w, w) and g.gate.bias is not None
    z = torch.sigmoid(_lin(pa, g.gate)) * pb
    ref = z if w == d else _lin(z, g.out)
    assert torch.allclose(g(ins, d), _ln(ref, g.out), atol=1e-5)


def test_sum_is_symmetric() -> None:
    s = OPS.get("sum")(OpDims(10, 10, 32, 16, 64), layernorm=True, elastic=False)
    a, b = torch.randn(B, 13), torch.randn(B, 64)
    assert torch.allclose(s(BlockInputs(a=a, b=b), 32), s(BlockInputs(a=b, b=a), 32), atol=1e-6)


@pytest.mark.parametrize("layernorm", [True, False])
def test_attention_matches_torch_mha(layernorm: bool) -> None:
    op = OPS.get("attention")(OpDims(10, 30, 64, 32, 64), layernorm=layernorm, elastic=False)
    assert torch.allclose(op.attn_out.ln_weight, torch.full((E,), 0.17))
    assert torch.allclose(op.fc2.ln_weight, torch.full((E,), 0.17))
    xs = torch.randn(B, 30, E)
    p = _ln(_lin(xs.transpose(1, 2), op.proj), op.proj).transpose(1, 2)
    mha = torch.nn.MultiheadAttention(E, 8, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(op.qkv.weight)
        mha.in_proj_bias.copy_(op.qkv.bias)
        mha.out_proj.weight.copy_(op.attn_out.weight)
        mha.out_proj.bias.copy_(op.attn_out.bias)
    h = _ln(mha(p, p, p, need_weights=False)[0] + p, op.attn_out)
    o = _ln(h + _lin(torch.relu(_lin(h, op.fc1)), op.fc2), op.fc2)
    assert torch.allclose(op(BlockInputs(X=xs), 32), o, atol=1e-5)


@pytest.mark.parametrize("d", [16, 64])
def test_fm_merger_math(d: int) -> None:
    op = OPS.get("fm")(OpDims(10, 10, d, 16, d), layernorm=True, elastic=False)
    assert op.proj is not None  # W_f and its LN at every width, d = 16 included
    s = torch.randn(B, 7, E)
    f = torch.zeros(B, E)
    for i in range(7):
        for j in range(7):
            if i != j:
                f += s[:, i] * s[:, j]  # (sum)^2 - sum of squares, no 1/2
    ref = _ln(_lin(f, op.proj), op.proj)
    assert torch.allclose(op(s, d), ref, atol=1e-4)


@pytest.mark.parametrize("d", [128, 256])
def test_d2s_merger_math(d: int) -> None:
    op = OPS.get("d2s")(OpDims(10, 10, d, 16, d), layernorm=True, elastic=False)
    assert (op.proj is None) == (d == 128)
    x = torch.randn(B, d)
    ref = x if d == 128 else _ln(_lin(x, op.proj), op.proj)
    out = op(x)
    assert out.shape == (B, 8, E)
    assert torch.equal(out[:, 2], ref[:, 32:48])  # item i = values [16 i, 16 i + 16)


def test_elastic_slice_equals_standalone_op() -> None:
    """An elastic op on a sub-width equals a standalone op holding the sliced weights."""
    torch.manual_seed(0)
    big = OpDims(dense_in=13 + 2 * 1024, items_in=26 + 2 * 72, dense_width=1024, sparse_width=64, pair_width=1024)
    cols = ((0, 13), (13 + 1024, 64))  # stem + block 2 (d=64)
    items = ((0, 26), (26 + 72, 32), (26 + 72 + 64, 8))  # stem + block 2 (s=32, m=1)
    x, xs = torch.randn(B, 13 + 64), torch.randn(B, 26 + 40, E)
    small = OpDims(dense_in=77, items_in=66, dense_width=256, sparse_width=48, pair_width=256)
    for name, width in (("fc", 256), ("dot_product", 256), ("efc", 48), ("attention", 48)):
        el = OPS.get(name)(big, layernorm=True, elastic=True)
        st = OPS.get(name)(small, layernorm=True, elastic=False)
        ins_el = BlockInputs(x=x, X=xs, dense_cols=cols, item_cols=items)
        st.inherit(el, ins_el, width)
        assert torch.allclose(el(ins_el, width), st(BlockInputs(x=x, X=xs), width), atol=1e-5), name
