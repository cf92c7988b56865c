"""The baseline registry: name -> model class, named presets and closed-form cost (style.md ex. 2)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import Any

from torch import nn

from recnas.data.schema import FeatureSchema
from recnas.errors import ConfigError
from recnas.nn.baselines._common import BaselineCost

CostFn = Callable[[FeatureSchema, Any], BaselineCost]

# spellings people type -> registered names
ALIASES = {
    "widedeep": "wide_deep",
    "wide&deep": "wide_deep",
    "autoint+": "autoint_plus",
    "autointplus": "autoint_plus",
    "dcn_v2": "dcnv2",
    "dcnv2_stacked": "dcnv2",
    "logistic_regression": "lr",
}


@dataclass(frozen=True)
class BaselineSpec:
    """One registered baseline: its class, presets (the first is the default) and cost formula."""

    name: str
    title: str
    reference: str
    cls: type[nn.Module]
    cost: CostFn
    presets: Mapping[str, Any]
    default_preset: str


_REGISTRY: dict[str, BaselineSpec] = {}


def register_baseline(
    name: str,
    *,
    title: str,
    reference: str,
    presets: Mapping[str, Any],
    cost: CostFn,
    default: str = "paper",
) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator recording a baseline under `name` with its presets and cost formula."""
    if default not in presets:
        raise ConfigError(f"baseline {name!r}: default preset {default!r} not in {sorted(presets)}")

    def deco(cls: type[nn.Module]) -> type[nn.Module]:
        if name in _REGISTRY:
            raise ConfigError(f"baseline {name!r} registered twice")
        _REGISTRY[name] = BaselineSpec(name, title, reference, cls, cost, dict(presets), default)
        return cls

    return deco


def _normalise(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "")
    return ALIASES.get(key, key)


def get_baseline(name: str) -> BaselineSpec:
    """The spec registered as `name` (case-insensitive; common spellings accepted)."""
    key = _normalise(name)
    if key not in _REGISTRY:
        raise ConfigError(f"unknown baseline {name!r}; valid names: {', '.join(list_baselines())}")
    return _REGISTRY[key]


def list_baselines() -> list[str]:
    """Registered baseline names, sorted."""
    return sorted(_REGISTRY)


def list_presets(name: str) -> dict[str, Any]:
    """The named presets of baseline `name` (preset name -> frozen dataclass)."""
    return dict(get_baseline(name).presets)


def resolve_preset(
    name: str, preset: str | Any | None = None, overrides: Mapping[str, Any] | None = None
) -> Any:
    """The preset object: None -> the default, a str -> that named preset, else the object itself.

    `overrides` replaces fields of the chosen preset (an unknown field is an error).
    """
    spec = get_baseline(name)
    if preset is None:
        obj = spec.presets[spec.default_preset]
    elif isinstance(preset, str):
        if preset not in spec.presets:
            raise ConfigError(
                f"baseline {spec.name!r} has no preset {preset!r}; "
                f"valid presets: {', '.join(spec.presets)}"
            )
        obj = spec.presets[preset]
    else:
        obj = preset
    if overrides:
        valid = {f.name for f in fields(obj)}
        bad = sorted(set(overrides) - valid)
        if bad:
            raise ConfigError(
                f"baseline {spec.name!r}: unknown preset fields {bad}; valid: {sorted(valid)}"
            )
        obj = replace(obj, **dict(overrides))
    return obj


def create_baseline(name: str, schema: FeatureSchema, preset: str | Any | None = None) -> nn.Module:
    """Build baseline `name` for `schema`: forward(dense [B, D0], sparse [B, F]) -> logits [B]."""
    spec = get_baseline(name)
    return spec.cls(schema, resolve_preset(spec.name, preset))


def flop_count(name: str, schema: FeatureSchema, preset: str | Any | None = None) -> BaselineCost:
    """Closed-form per-sample multiply-adds and parameters of baseline `name` on `schema`."""
    spec = get_baseline(name)
    return spec.cost(schema, resolve_preset(spec.name, preset))


def param_count(name: str, schema: FeatureSchema, preset: str | Any | None = None) -> int:
    """Closed-form parameter count (embeddings included) of baseline `name` on `schema`."""
    return flop_count(name, schema, preset).params
