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


# Published per-field table sizes of the NASRec reference (data.md §2.4), field order as there.
CRITEO_TABLE_SIZES: tuple[int, ...] = (
    1461, 584, 10131227, 2202609, 306, 25, 12518, 634, 4, 93146, 5684, 8351593, 3195, 28, 14993,
    5461307, 11, 5653, 2174, 5, 7046548, 19, 16, 286182, 106, 142573,
)
AVAZU_FIELDS: tuple[str, ...] = (
    "id", "hour", "C1", "banner_pos", "site_id", "site_domain", "site_category", "app_id",
    "app_domain", "app_category", "device_id", "device_ip", "device_model", "device_type",
    "device_conn_type", "C14", "C15", "C16", "C17", "C18", "C19", "C20", "C21",
)
AVAZU_TABLE_SIZES: tuple[int, ...] = (
    10000, 241, 8, 8, 4738, 7746, 27, 8553, 560, 37, 2686409, 6729487, 8252, 6, 5, 2627, 9, 10,
    436, 5, 69, 173, 61,
)
KDD_DENSE: tuple[str, ...] = ("Impression", "Depth", "Position")
KDD_FIELDS: tuple[str, ...] = (
    "DisplayURL", "AdID", "AdvertiserID", "QueryID", "KeywordID", "TitleID", "DescriptionID",
    "UserID", "Gender", "Age",
)
KDD_TABLE_SIZES: tuple[int, ...] = (
    26274, 641708, 14848, 22122011, 1188090, 3735797, 2934102, 20004011, 4, 8,
)


def reference_schema(dataset: str, cap: int | None = None) -> FeatureSchema:
    """The NASRec reference's shapes for 'criteo', 'avazu' or 'kdd' (Avazu: id kept, one zero dense).

    These are the shapes the six published architectures were built for; `cap` limits tables
    (500,000 during search, data.md §2.4).
    """
    if dataset == "criteo":
        s = FeatureSchema(tuple(f"I{i}" for i in range(1, 14)), tuple(f"C{i}" for i in range(1, 27)),
                          CRITEO_TABLE_SIZES, name="criteo")
    elif dataset == "avazu":
        s = FeatureSchema(("dense0",), AVAZU_FIELDS, AVAZU_TABLE_SIZES, name="avazu", label="click")
    elif dataset in ("kdd", "kdd12"):
        s = FeatureSchema(KDD_DENSE, KDD_FIELDS, KDD_TABLE_SIZES, name="kdd12", label="Click")
    else:
        raise ConfigError(f"unknown dataset {dataset!r}; choose from 'criteo', 'avazu', 'kdd'")
    return s.capped(cap)
