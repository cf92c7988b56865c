"""recnas.train: one training loop, evaluation, supernet training, scoring, final models.

method.md §4 (supernet), §5 (scoring), §7 (top-k and final training).
"""

from recnas.train._baselines import BASELINE_RECIPES
from recnas.train._baselines import baseline_recipe
from recnas.train._baselines import train_baseline
from recnas.train._checkpoint import load_checkpoint
from recnas.train._compare import compare_run
from recnas.train._compare import comparison_table
from recnas.train._compare import seed_stats
from recnas.train._compare import summarize_seeds
from recnas.train._loop import TrainResult
from recnas.train._loop import path_rng
from recnas.train._loop import train
from recnas.train._metrics import evaluate
from recnas.train._optim import clip_grad_norm
from recnas.train._optim import make_optimizer
from recnas.train._protocol import Protocol
from recnas.train._protocol import Recipe
from recnas.train._protocol import fit
from recnas.train._schedule import lr_at
from recnas.train._schedule import warmup_steps
from recnas.train._scoring import CandidateScorer
from recnas.train._scoring import HeadModel
from recnas.train._standalone import final_settings
from recnas.train._study import ScoringSettings
from recnas.train._study import ranking_study
from recnas.train._study import scratch_fit
from recnas.train._standalone import retrain_topk
from recnas.train._standalone import resolve_recipe
from recnas.train._standalone import searched_recipe
from recnas.train._standalone import train_arch_protocol
from recnas.train._standalone import train_architecture
from recnas.train._supernet import SUPERNET_DEFAULTS
from recnas.train._supernet import default_batch_size
from recnas.train._supernet import default_full_path_steps
from recnas.train._supernet import load_supernet
from recnas.train._supernet import train_supernet
from recnas.train._supernet import warmup_path_fn

__all__ = [
    "BASELINE_RECIPES",
    "Protocol",
    "Recipe",
    "baseline_recipe",
    "compare_run",
    "comparison_table",
    "fit",
    "seed_stats",
    "summarize_seeds",
    "train_baseline",
    "SUPERNET_DEFAULTS",
    "ScoringSettings",
    "CandidateScorer",
    "HeadModel",
    "TrainResult",
    "clip_grad_norm",
    "default_batch_size",
    "default_full_path_steps",
    "evaluate",
    "final_settings",
    "load_checkpoint",
    "load_supernet",
    "lr_at",
    "make_optimizer",
    "path_rng",
    "ranking_study",
    "scratch_fit",
    "retrain_topk",
    "resolve_recipe",
    "searched_recipe",
    "train_arch_protocol",
    "train",
    "train_architecture",
    "train_supernet",
    "warmup_path_fn",
    "warmup_steps",
]
