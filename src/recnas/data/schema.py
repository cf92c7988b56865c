"""FeatureSchema: the dataset description every model is built from (saved in a cache's meta.json)."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from recnas.errors import ConfigError


@dataclass(frozen=True)
class FeatureSchema:
    """Names and sizes of a dataset's features.

    `table_sizes[j]` is the number of embedding rows of categorical field j (row 0 = missing);
    models never name a dataset, they read this object.
    """

    dense: tuple[str, ...]
    sparse: tuple[str, ...]
    table_sizes: tuple[int, ...]
    embed_dim: int = 16
    name: str = ""
    label: str = "label"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dense", tuple(self.dense))
        object.__setattr__(self, "sparse", tuple(self.sparse))
        object.__setattr__(self, "table_sizes", tuple(int(n) for n in self.table_sizes))
        if len(self.sparse) != len(self.table_sizes):
            raise ConfigError(
                f"schema {self.name!r}: {len(self.sparse)} categorical fields but "
                f"{len(self.table_sizes)} table sizes"
            )
        bad = [f"{n}={s}" for n, s in zip(self.sparse, self.table_sizes) if s < 2]
        if bad:
            raise ConfigError(f"schema {self.name!r}: table sizes must be >= 2 (row 0 = missing): {bad}")

    @property
    def num_dense(self) -> int:
        """Number of dense features (D0)."""
        return len(self.dense)

    @property
    def num_sparse(self) -> int:
        """Number of categorical fields (F)."""
        return len(self.sparse)

    def capped(self, cap: int | None) -> "FeatureSchema":
        """Return a copy with every table size limited to `cap` rows (None = unchanged)."""
        if cap is None:
            return self
        sizes = tuple(min(n, int(cap)) for n in self.table_sizes)
        return FeatureSchema(self.dense, self.sparse, sizes, self.embed_dim, self.name, self.label,
                             dict(self.extra))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d = asdict(self)
        d["dense"] = list(self.dense)
        d["sparse"] = list(self.sparse)
        d["table_sizes"] = list(self.table_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FeatureSchema":
        """Inverse of `to_dict`; unknown keys are an error."""
        known = {"dense", "sparse", "table_sizes", "embed_dim", "name", "label", "extra"}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"schema: unknown keys {sorted(unknown)}; valid keys are {sorted(known)}")
        return cls(**d)
