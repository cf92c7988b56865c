"""Architecture search: journal, searchers, search loop, top-k, Pareto tools (method.md §6-7).

The core never imports torch: the score function is injected (`score_fn`, or `make_scorer`).
"""

from recnas.search._distributed import DistributedExecutor
from recnas.search._genome import Genome
from recnas.search._genome import SearchRandom
from recnas.search._journal import COMPLETE
from recnas.search._journal import FAIL
from recnas.search._journal import PENDING
from recnas.search._journal import SKIPPED
from recnas.search._journal import Journal
from recnas.search._journal import Record
from recnas.search._journal import score_settings
from recnas.search._loop import SearchResult
from recnas.search._loop import run_search
from recnas.search._pareto import ParetoEvolution
from recnas.search._pareto import ParetoTournament
from recnas.search._pareto import crowding_distance
from recnas.search._pareto import dominates
from recnas.search._pareto import non_dominated_sort
from recnas.search._pareto import pareto_front
from recnas.search._pareto import rank_and_crowding
from recnas.search._searchers import Enqueued
from recnas.search._searchers import LowestLoss
from recnas.search._searchers import RandomSearch
from recnas.search._searchers import RegularizedEvolution
from recnas.search._searchers import Searcher
from recnas.search._searchers import tournament
from recnas.search._topk import export_best
from recnas.search._topk import top_k
from recnas.search._workers import score_one

__all__ = [
    "COMPLETE",
    "FAIL",
    "PENDING",
    "SKIPPED",
    "DistributedExecutor",
    "Enqueued",
    "Genome",
    "Journal",
    "LowestLoss",
    "ParetoEvolution",
    "ParetoTournament",
    "RandomSearch",
    "Record",
    "RegularizedEvolution",
    "SearchRandom",
    "SearchResult",
    "Searcher",
    "crowding_distance",
    "dominates",
    "export_best",
    "non_dominated_sort",
    "pareto_front",
    "rank_and_crowding",
    "run_search",
    "score_one",
    "score_settings",
    "top_k",
    "tournament",
]
