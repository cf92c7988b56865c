"""recnas.train: the one training loop, evaluation, supernet training, candidate scoring, final models."""

from recnas.train._loop import TrainResult
from recnas.train._loop import path_rng
from recnas.train._loop import train
from recnas.train._metrics import evaluate
from recnas.train._optim import clip_grad_norm
from recnas.train._optim import make_optimizer
from recnas.train._schedule import lr_at
from recnas.train._schedule import warmup_steps

__all__ = ["TrainResult", "clip_grad_norm", "evaluate", "lr_at", "make_optimizer", "path_rng", "train",
           "warmup_steps"]
