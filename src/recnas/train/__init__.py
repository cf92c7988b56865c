"""recnas.train: one training loop, evaluation, supernet training, scoring, final models.

method.md §4 (supernet), §5 (scoring), §7 (top-k and final training).
"""

from recnas.train._checkpoint import load_checkpoint
from recnas.train._loop import TrainResult
from recnas.train._loop import path_rng
from recnas.train._loop import train
from recnas.train._metrics import evaluate
from recnas.train._optim import clip_grad_norm
from recnas.train._optim import make_optimizer
from recnas.train._schedule import lr_at
from recnas.train._schedule import warmup_steps
from recnas.train._scoring import CandidateScorer
from recnas.train._scoring import HeadModel
from recnas.train._standalone import final_settings
from recnas.train._study import ranking_study
from recnas.train._standalone import retrain_topk
from recnas.train._standalone import train_architecture
from recnas.train._supernet import SUPERNET_DEFAULTS
from recnas.train._supernet import default_batch_size
from recnas.train._supernet import default_full_path_steps
from recnas.train._supernet import load_supernet
from recnas.train._supernet import train_supernet
from recnas.train._supernet import warmup_path_fn

__all__ = [
    "SUPERNET_DEFAULTS",
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
    "retrain_topk",
    "train",
    "train_architecture",
    "train_supernet",
    "warmup_path_fn",
    "warmup_steps",
]
