"""recnas.nn.baselines: hand-crafted CTR models (issue 5; docs/baselines.md). Models only: training them
under the fair protocol is recnas.train (train_baseline, compare_run).

Every model is built from a FeatureSchema and maps forward(dense [B, D0], sparse [B, F]) -> logits [B].
Importing this package registers: lr, fm, dnn, wide_deep, deepfm, dcnv2, dcnv2_parallel, xdeepfm,
autoint_plus, dlrm.
"""

from __future__ import annotations

from recnas.nn.baselines import autoint as _autoint  # noqa: F401 - registers autoint_plus
from recnas.nn.baselines import dcnv2 as _dcnv2  # noqa: F401
from recnas.nn.baselines import deepfm as _deepfm  # noqa: F401
from recnas.nn.baselines import dlrm as _dlrm  # noqa: F401
from recnas.nn.baselines import dnn as _dnn  # noqa: F401
from recnas.nn.baselines import fm as _fm  # noqa: F401
from recnas.nn.baselines import lr as _lr  # noqa: F401
from recnas.nn.baselines import wide_deep as _wide_deep  # noqa: F401
from recnas.nn.baselines import xdeepfm as _xdeepfm  # noqa: F401
from recnas.nn.baselines._common import BaselineCost
from recnas.nn.baselines._registry import BaselineSpec
from recnas.nn.baselines._registry import create_baseline
from recnas.nn.baselines._registry import flop_count
from recnas.nn.baselines._registry import get_baseline
from recnas.nn.baselines._registry import list_baselines
from recnas.nn.baselines._registry import list_presets
from recnas.nn.baselines._registry import param_count
from recnas.nn.baselines._registry import resolve_preset

__all__ = [
    "BaselineCost",
    "BaselineSpec",
    "create_baseline",
    "flop_count",
    "get_baseline",
    "list_baselines",
    "list_presets",
    "param_count",
    "resolve_preset",
]
