"""Search space: architectures, spaces, sampling, mutation, canonical hash, NASRec JSON (no torch).

Implements method.md §2 (genes, spaces, size), §4.1 (path sampling), §6 (mutation, liveness,
canonical hash) and §8 (published NASRec JSON).
"""

from recnas.space._canonical import BlockLiveness
from recnas.space._canonical import arch_hash
from recnas.space._canonical import canonical
from recnas.space._canonical import dead_blocks
from recnas.space._canonical import live_blocks
from recnas.space._canonical import liveness
from recnas.space._mutate import mutate
from recnas.space._mutate import mutate_once
from recnas.space._mutate import num_mutations
from recnas.space._nasrec import NODE_NAMES
from recnas.space._nasrec import from_nasrec
from recnas.space._nasrec import is_nasrec
from recnas.space._nasrec import load_architecture
from recnas.space._nasrec import nasrec_space
from recnas.space._nasrec import save_architecture
from recnas.space._nasrec import to_nasrec
from recnas.space._sample import STRATEGIES
from recnas.space._sample import full_path
from recnas.space._sample import sample_arch
from recnas.space._sample import sample_path
from recnas.space._space import SearchSpace
from recnas.space._space import get_space
from recnas.space._space import list_spaces
from recnas.space.arch import Architecture
from recnas.space.arch import Block

__all__ = [
    "Architecture",
    "Block",
    "BlockLiveness",
    "NODE_NAMES",
    "STRATEGIES",
    "SearchSpace",
    "arch_hash",
    "canonical",
    "dead_blocks",
    "from_nasrec",
    "full_path",
    "get_space",
    "is_nasrec",
    "list_spaces",
    "live_blocks",
    "liveness",
    "load_architecture",
    "mutate",
    "mutate_once",
    "nasrec_space",
    "num_mutations",
    "sample_arch",
    "sample_path",
    "save_architecture",
    "to_nasrec",
]
