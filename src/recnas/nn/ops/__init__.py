"""recnas.nn.ops: the NASRec operators, registered by name (method.md §2.3); file name = op name."""

from __future__ import annotations

from recnas.nn.ops._registry import Registry

OPS: Registry = Registry("op")

# importing each module registers its op under the module's name
from recnas.nn.ops import attention  # noqa: E402
from recnas.nn.ops import d2s  # noqa: E402
from recnas.nn.ops import dot_product  # noqa: E402
from recnas.nn.ops import efc  # noqa: E402
from recnas.nn.ops import fc  # noqa: E402
from recnas.nn.ops import fm  # noqa: E402
from recnas.nn.ops import gating  # noqa: E402
from recnas.nn.ops import sum  # noqa: E402,A004
from recnas.nn.ops._common import BlockInputs  # noqa: E402
from recnas.nn.ops._common import OpDims  # noqa: E402

__all__ = ["OPS", "Registry", "BlockInputs", "OpDims", "attention", "d2s", "dot_product", "efc", "fc",
           "fm", "gating", "sum"]
