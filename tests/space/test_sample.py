"""Sampling frequencies against each strategy's distribution (method.md 4.1, 6), and determinism."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from collections.abc import Hashable
from collections.abc import Sequence

import pytest
from scipy.stats import chisquare

from recnas.errors import ConfigError
from recnas.space import STRATEGIES
from recnas.space import Architecture
from recnas.space import get_space
from recnas.space import sample_arch
from recnas.space import sample_path

N = 3000  # draws per distribution; each test samples whole architectures
FULL = get_space("full")


def _binom_probs(n_max: int) -> list[float]:
    """P(count = c) for c = 1..n_max under 1 + Binomial(n_max - 1, 0.5)."""
    return [math.comb(n_max - 1, c - 1) / 2 ** (n_max - 1) for c in range(1, n_max + 1)]


def _check(
    observed: Counter[Hashable], support: Sequence[Hashable], probs: Sequence[float]
) -> None:
    """Chi-square goodness of fit; p < 1e-3 fails (draws are seeded: the test is deterministic)."""
    assert set(observed) <= set(support), set(observed) - set(support)
    n = sum(observed.values())
    obs = [observed[s] for s in support]
    p = chisquare(obs, [n * q for q in probs]).pvalue
    assert p > 1e-3, (dict(observed), probs, p)


def _draws(strategy: str, seed: int = 0) -> list[Architecture]:
    rng = random.Random(seed)
    if strategy == "random":
        return [sample_arch(FULL, rng) for _ in range(N)]
    return [sample_path(FULL, rng, strategy) for _ in range(N)]


@pytest.fixture(scope="module")
def default_draws() -> list[Architecture]:
    return _draws("default")


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_default_connection_counts_binomial(default_draws: list[Architecture], k: int) -> None:
    m = min(k, 4)
    for field in ("dense_idx", "sparse_idx"):
        counts = Counter(len(getattr(a.blocks[k - 1], field)) for a in default_draws)
        _check(counts, range(1, m + 1), _binom_probs(m))


def test_default_subsets_uniform_given_count(default_draws: list[Architecture]) -> None:
    # block 4, sets of size 2: the 6 pairs of {0..3} equally likely (without replacement)
    sets = Counter(a.blocks[3].dense_idx for a in default_draws if len(a.blocks[3].dense_idx) == 2)
    pairs = list(itertools.combinations(range(4), 2))
    _check(sets, pairs, [1 / 6] * 6)


def test_default_left_right_and_ops(default_draws: list[Architecture]) -> None:
    b5 = [a.blocks[4] for a in default_draws]
    # left and right: one source each, independently, with replacement (pairs may be equal)
    _check(
        Counter((b.dense_left, b.dense_right) for b in b5),
        list(itertools.product(range(5), repeat=2)),
        [1 / 25] * 25,
    )
    _check(Counter(b.dense_ops for b in b5), [(o,) for o in FULL.dense_ops], [1 / 4] * 4)
    _check(Counter(b.sparse_ops for b in b5), [(o,) for o in FULL.sparse_ops], [1 / 2] * 2)
    _check(Counter(b.dense_width for b in b5), FULL.dense_widths, [1 / 8] * 8)
    _check(Counter(b.sparse_width for b in b5), FULL.sparse_widths, [1 / 4] * 4)
    _check(
        Counter((b.d2s, b.fm) for b in b5),
        list(itertools.product((False, True), repeat=2)),
        [1 / 4] * 4,
    )


def test_single_path_one_source_per_set() -> None:
    draws = _draws("single_path", seed=1)
    assert all(len(b.dense_idx) == 1 and len(b.sparse_idx) == 1 for a in draws for b in a.blocks)
    _check(Counter(a.blocks[6].sparse_idx[0] for a in draws), range(7), [1 / 7] * 7)
    for a in draws[:50]:
        FULL.validate_arch(a)


def test_any_path_op_counts() -> None:
    draws = _draws("any_path", seed=2)
    b = [a.blocks[2] for a in draws]
    _check(Counter(len(x.dense_ops) for x in b), range(1, 5), _binom_probs(4))
    _check(Counter(len(x.sparse_ops) for x in b), range(1, 3), _binom_probs(2))
    # given 2 dense ops, each of the 6 op pairs equally likely, and kept in the space's order
    pairs = Counter(x.dense_ops for x in b if len(x.dense_ops) == 2)
    _check(pairs, list(itertools.combinations(FULL.dense_ops, 2)), [1 / 6] * 6)
    _check(Counter(len(x.dense_idx) for x in b), range(1, 4), _binom_probs(3))
    for a in draws[:50]:
        FULL.validate_arch(a, single_op=False)


def test_full_path() -> None:
    (a,) = {sample_path(FULL, random.Random(s), "full_path") for s in range(3)}  # no randomness
    for k, b in enumerate(a.blocks, 1):
        assert b.dense_idx == b.sparse_idx == tuple(range(k))
        assert b.dense_ops == FULL.dense_ops and b.sparse_ops == FULL.sparse_ops
        assert (b.dense_width, b.sparse_width, b.d2s, b.fm) == (1024, 64, True, True)
    FULL.validate_arch(a, single_op=False, max_inputs=FULL.num_blocks)


def test_sample_arch_uniform_counts_single_op() -> None:
    draws = _draws("random", seed=3)
    for k, m in ((2, 2), (4, 4), (7, 4)):
        _check(Counter(len(a.blocks[k - 1].dense_idx) for a in draws), range(1, m + 1), [1 / m] * m)
    for a in draws[:200]:
        FULL.validate_arch(a)


@pytest.mark.parametrize("strategy", [*STRATEGIES, "random"])
def test_deterministic_per_seed(strategy: str) -> None:
    def draw(seed: int) -> list[Architecture]:
        rng = random.Random(seed)
        fn: Callable[[], Architecture] = (
            (lambda: sample_arch(FULL, rng))
            if strategy == "random"
            else (lambda: sample_path(FULL, rng, strategy))
        )
        return [fn() for _ in range(5)]

    assert draw(7) == draw(7)
    if strategy != "full_path":
        assert draw(7) != draw(8)


def test_small_space_and_unknown_strategy() -> None:
    small = get_space("small")
    rng = random.Random(0)
    ops = Counter(
        b.dense_ops + b.sparse_ops for _ in range(300) for b in sample_path(small, rng).blocks
    )
    assert set(ops) == {("fc", "efc"), ("dot_product", "efc")}
    with pytest.raises(ConfigError, match="unknown sampling strategy 'best'"):
        sample_path(small, rng, "best")
    assert sample_path(small, random.Random(1), "single-path") == sample_path(
        small, random.Random(1), "single_path"
    )
