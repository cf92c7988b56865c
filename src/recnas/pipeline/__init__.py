"""The one-command pipeline (issue 4.6): stages, their state, and the runner behind `recnas run`."""

from recnas.pipeline.runner import STAGES, RunResult, check_resume, resolve_out, run_pipeline
from recnas.pipeline.stages import Stage
from recnas.pipeline.state import PipelineState

__all__ = [
    "STAGES",
    "PipelineState",
    "RunResult",
    "Stage",
    "check_resume",
    "resolve_out",
    "run_pipeline",
]
