"""Baselines: closed-form params and FLOPs vs the built modules, direct formulas, shapes, registry errors."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.nn.baselines import create_baseline
from recnas.nn.embedding import Embeddings
from recnas.nn.baselines import flop_count
from recnas.nn.baselines import get_baseline
from recnas.nn.baselines import list_baselines
from recnas.nn.baselines import list_presets
from recnas.nn.baselines import param_count
from recnas.nn.baselines import resolve_preset
from recnas.nn.baselines.autoint import InteractingLayer
from recnas.nn.baselines.dcnv2 import CrossLayer
from recnas.nn.baselines.dlrm import dot_interaction
from recnas.nn.baselines.xdeepfm import CIN
from recnas.nn.baselines.xdeepfm import XDeepFMPreset

EXPECTED = {
    "lr",
    "fm",
    "dnn",
    "wide_deep",
    "deepfm",
    "dcnv2",
    "dcnv2_parallel",
    "xdeepfm",
    "autoint_plus",
    "dlrm",
}
# with dense features (D0 = 3) and without (D0 = 0): both input paths of every model
SCHEMAS = {
    "dense": FeatureSchema(
        ("a", "b", "c"), ("f1", "f2", "f3", "f4", "f5"), (7, 11, 3, 20, 5), embed_dim=8
    ),
    "nodense": FeatureSchema((), ("f1", "f2", "f3", "f4"), (7, 11, 3, 20), embed_dim=8),
}
CASES = [(n, p, s) for n in sorted(EXPECTED) for p in ("paper", "small") for s in SCHEMAS]


def _inputs(schema: FeatureSchema, b: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    dense = torch.randn(b, schema.num_dense, generator=g)
    sparse = torch.stack([torch.randint(0, n, (b,), generator=g) for n in schema.table_sizes], 1)
    return dense, sparse


def test_registry_lists_all_models() -> None:
    assert set(list_baselines()) == EXPECTED
    for name in EXPECTED:
        assert {"paper", "small"} <= set(list_presets(name))


@pytest.mark.parametrize("name,preset,sch", CASES)
def test_param_count_matches_closed_form(name: str, preset: str, sch: str) -> None:
    schema = SCHEMAS[sch]
    model = create_baseline(name, schema, preset)
    assert param_count(name, schema, preset) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,preset,sch", CASES)
def test_flops_match_flop_counter(name: str, preset: str, sch: str) -> None:
    schema = SCHEMAS[sch]
    model = create_baseline(name, schema, preset).eval()
    dense, sparse = _inputs(schema, b=4)
    with FlopCounterMode(display=False) as counter:
        model(dense, sparse)
    measured = counter.get_total_flops() / 4
    analytic = flop_count(name, schema, preset).flops
    assert analytic > 0 or schema.num_dense == 0
    assert measured == pytest.approx(analytic, rel=0.03, abs=1)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_forward_backward(name: str) -> None:
    schema = SCHEMAS["dense"]
    torch.manual_seed(0)
    model = create_baseline(name, schema, "small")
    dense, sparse = _inputs(schema)
    out = model(dense, sparse)
    assert out.shape == (6,) and torch.isfinite(out).all()
    out.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"{name}: no gradient for {missing}"
    emb = [m.weight for m in model.modules() if isinstance(m, Embeddings)]
    assert emb and all(p.grad.is_sparse for p in emb)  # sparse Adagrad rows, as the trainer expects


def test_dlrm_interaction_matches_direct_formula() -> None:
    t = torch.randn(3, 5, 4)
    got = dot_interaction(t)
    want = torch.stack(
        [torch.stack([t[b, i] @ t[b, j] for i in range(5) for j in range(i)]) for b in range(3)]
    )
    assert got.shape == (3, 10)
    torch.testing.assert_close(got, want)


def test_dlrm_forward_is_top_of_bottom_and_pairs() -> None:
    schema = SCHEMAS["dense"]
    model = create_baseline("dlrm", schema, "small")
    dense, sparse = _inputs(schema, b=2)
    b = model.bottom(dense)  # [2, E]
    feats = [b] + [model.embedding(sparse)[:, j] for j in range(schema.num_sparse)]
    pairs = [(feats[i] * feats[j]).sum(1) for i in range(len(feats)) for j in range(i)]
    x = torch.cat([b, torch.stack(pairs, 1)], 1)
    torch.testing.assert_close(model(dense, sparse), model.head(model.top(x)).squeeze(-1))


def test_dcnv2_cross_layer_matches_formula() -> None:
    torch.manual_seed(1)
    layer = CrossLayer(6)
    x0, xl = torch.randn(4, 6), torch.randn(4, 6)
    w, bias = layer.proj.weight, layer.proj.bias
    want = x0 * (xl @ w.T + bias) + xl
    torch.testing.assert_close(layer(x0, xl), want)


def test_dcnv2_structures_differ_in_head_width() -> None:
    schema = SCHEMAS["dense"]
    d = 6 * schema.embed_dim  # 5 fields + the dense field
    stacked = create_baseline("dcnv2", schema, "small")
    parallel = create_baseline("dcnv2_parallel", schema, "small")
    assert stacked.head.in_features == 64 and parallel.head.in_features == 64 + d


def test_autoint_attention_shapes_and_weights() -> None:
    layer = InteractingLayer(8, heads=2, head_dim=5)
    x = torch.randn(3, 7, 8)
    w, out = layer.attention(x)
    assert w.shape == (3, 2, 7, 7) and out.shape == (3, 7, 10)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 2, 7))
    assert layer(x).shape == (3, 7, 10) and (layer(x) >= 0).all()
    # head 0 by hand: softmax(Q_0 K_0^T) V_0
    q, k, v = (f(x)[..., :5] for f in (layer.query, layer.key, layer.value))
    torch.testing.assert_close(out[..., :5], torch.softmax(q @ k.transpose(1, 2), -1) @ v)


def test_cin_split_half_widths() -> None:
    cin = CIN(4, XDeepFMPreset(cin=(6, 6, 4), split_half=True))
    assert [c.in_channels for c in cin.convs] == [16, 12, 12]
    assert cin.out_dim == 3 + 3 + 4
    assert cin(torch.randn(2, 4, 5)).shape == (2, 10)
    with pytest.raises(ConfigError, match="even"):
        CIN(4, XDeepFMPreset(cin=(5, 4)))


def test_cin_first_layer_matches_formula() -> None:
    torch.manual_seed(2)
    cin = CIN(3, XDeepFMPreset(cin=(2,), split_half=False))
    x0 = torch.randn(2, 3, 4)
    w, bias = cin.convs[0].weight[:, :, 0], cin.convs[0].bias  # [2, 9]
    z = torch.einsum("bhd,bmd->bhmd", x0, x0).reshape(2, 9, 4)
    want = (torch.einsum("oc,bcd->bod", w, z) + bias[None, :, None]).sum(-1)
    torch.testing.assert_close(cin(x0), want)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ConfigError) as e:
        create_baseline("nope", SCHEMAS["dense"])
    assert all(n in str(e.value) for n in EXPECTED)


def test_unknown_preset_and_fields_are_errors() -> None:
    with pytest.raises(ConfigError, match="valid presets: paper, small"):
        create_baseline("deepfm", SCHEMAS["dense"], "huge")
    with pytest.raises(ConfigError, match="unknown preset fields"):
        resolve_preset("deepfm", "paper", {"widths": (3,)})
    with pytest.raises(ConfigError, match="structure"):
        create_baseline(
            "dcnv2", SCHEMAS["dense"], resolve_preset("dcnv2", None, {"structure": "x"})
        )


def test_aliases_and_overrides() -> None:
    assert get_baseline("AutoInt+").name == "autoint_plus"
    assert get_baseline("Wide&Deep").name == "wide_deep"
    assert get_baseline("DCN-V2").name == "dcnv2"
    p = resolve_preset("dnn", "small", {"hidden": (16,)})
    schema = SCHEMAS["dense"]
    model = create_baseline("dnn", schema, p)
    assert model.head.in_features == 16
    assert param_count("dnn", schema, p) == sum(x.numel() for x in model.parameters())


def test_paper_presets_match_published_shapes() -> None:
    from recnas.data.schema import reference_schema

    criteo = reference_schema("criteo", cap=100)
    dlrm = create_baseline("dlrm", criteo)
    # 13-512-256-64-16 bottom, 16 + 27*26/2 = 367 -> 512-256-1 top (the reference's Kaggle run)
    widths = [
        m.out_features for m in itertools.chain(dlrm.bottom, dlrm.top) if hasattr(m, "out_features")
    ]
    assert widths == [512, 256, 64, 16, 512, 256] and dlrm.top[0].in_features == 367
    deepfm = resolve_preset("deepfm", "paper")
    assert deepfm.hidden == (400, 400, 400) and deepfm.dropout == 0.5
    autoint = resolve_preset("autoint_plus", "paper")
    assert (autoint.layers, autoint.heads, autoint.head_dim) == (3, 2, 32)
