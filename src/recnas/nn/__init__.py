"""recnas.nn: embeddings, NASRec operators, the slicing supernet and standalone models (method.md §2-3).

Importing this package does not import recnas.nn.baselines.
"""

from __future__ import annotations

from recnas.nn.embedding import Embeddings
from recnas.nn.ops import OPS
from recnas.nn.quant import fake_quant
from recnas.nn.standalone import NASRecNet
from recnas.nn.standalone import build_model
from recnas.nn.standalone import inherit_weights
from recnas.nn.supernet import Supernet

__all__ = ["Embeddings", "NASRecNet", "OPS", "Supernet", "build_model", "fake_quant", "inherit_weights"]
