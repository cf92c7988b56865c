"""Search space: architectures, spaces, sampling, mutation, canonical hash, NASRec import (no torch)."""

from recnas.space.arch import Architecture
from recnas.space.arch import Block

__all__ = ["Architecture", "Block"]
